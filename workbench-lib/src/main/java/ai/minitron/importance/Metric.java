package ai.minitron.importance;

import java.util.Locale;

/**
 * The importance metrics the workbench computes, by the name the table's {@code metric} column holds.
 * Width metrics score heads, neurons and embedding channels; depth metrics score layers.
 * Only the two activation metrics have batch/sequence aggregations; the others write "none".
 */
public enum Metric {
    /**
     * Minitron's activation importance (arXiv 2407.14679 §2.1): heads by the per-token L2 norm of
     * each head's output, neurons by the MLP activation (input of down_proj), embedding channels by
     * the norm outputs summed over all norms; aggregated over sequence then batch (9 pairs).
     */
    ACTIVATION("activation"),
    /**
     * Heads only, NVIDIA ModelOpt's variant: aggregate every channel of the head outputs over
     * sequence then batch first, then take the L2 norm over the head's head_dim channels.
     */
    ACTIVATION_CHANNEL("activation_channel"),
    /** L2 norm of all the weights that pruning the unit removes (data-free baseline). */
    MAGNITUDE("magnitude"),
    /** Seeded uniform random scores (the floor every metric must beat). */
    RANDOM("random"),
    /** First-order Taylor: Σ over the unit's weights of |w · ∂L/∂w|, L = calibration LM loss. */
    TAYLOR("taylor"),
    /**
     * Wanda-style Σ_ij |W_ij| · ||X_j||₂ over the unit's output-projection columns (o_proj, down_proj)
     * or, for hidden channels, the input columns that read them ({@link WandaMetric}).
     */
    WANDA("wanda"),
    /** Block Importance (ShortGPT; Minitron §2.2): 1 - mean cos(layer input, layer output) over valid tokens. */
    BLOCK_IMPORTANCE("block_importance"),
    /** LM-loss increase when a single layer is removed (Minitron §2.2, "LM loss"). */
    LAYER_DROP("layer_drop"),
    /** LM-loss increase when a contiguous block of k layers starting at the unit is removed ("block_drop_k2", ...). */
    BLOCK_DROP("block_drop");

    private final String key;

    Metric(String key) {
        this.key = key;
    }

    public String key() {
        return key;
    }

    /** True for metrics that need the calibration forward passes' activations. */
    public boolean usesActivations() {
        return this == ACTIVATION || this == ACTIVATION_CHANNEL || this == WANDA || this == BLOCK_IMPORTANCE;
    }

    /** True for layer (depth) metrics. */
    public boolean depth() {
        return this == BLOCK_IMPORTANCE || this == LAYER_DROP || this == BLOCK_DROP;
    }

    /** The block-drop metric name for blocks of k layers. */
    public static String blockDrop(int k) {
        return BLOCK_DROP.key + "_k" + k;
    }

    public static Metric parse(String s) {
        String k = s.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        for (Metric m : values()) {
            if (m.key.equals(k)) return m;
        }
        if (k.equals("bi")) return BLOCK_IMPORTANCE;
        if (k.equals("wanda_sp")) return WANDA;
        throw new IllegalArgumentException("unknown metric '" + s + "' (expected one of activation, activation_channel,"
                + " magnitude, random, taylor, wanda, block_importance, layer_drop, block_drop)");
    }
}
