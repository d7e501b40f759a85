package ai.minitron.config;

import java.util.List;
import java.util.Locale;

/**
 * The structured units Minitron prunes and scores (arXiv 2407.14679 §2): embedding (hidden) channels,
 * attention heads (query heads within their KV groups, or whole KV groups), MLP neurons, and whole
 * layers. What each unit owns of the weights is stated in {@link UnitLayout}. The importance table's
 * {@code axis} column holds {@link #key()}.
 */
public enum Axis {
    /** Embedding channel c, shared by the whole model: table row (layer = -1, unit = c). */
    HIDDEN("hidden"),
    /** Query head h of layer l: table row (layer = l, unit = h). */
    HEADS("heads"),
    /** KV group (key/value head) g of layer l, with its query heads; pruned, not scored in the table. */
    KV_GROUPS("kv_groups"),
    /** MLP neuron i of layer l (a row of gate/up_proj, a column of down_proj): (layer = l, unit = i). */
    MLP("mlp"),
    /** Layer l as a whole: (layer = -1, unit = l). */
    LAYERS("layer");

    /** The axes the importance table scores, in the order its analyses list them. */
    public static final List<Axis> SCORED = List.of(HEADS, MLP, HIDDEN, LAYERS);

    private final String key;

    Axis(String key) {
        this.key = key;
    }

    /** The importance table's {@code axis} value: "hidden", "heads", "kv_groups", "mlp", "layer". */
    public String key() {
        return key;
    }

    /** True for axes with units in every layer (heads, KV groups, mlp); false for hidden and layer. */
    public boolean perLayer() {
        return this == HEADS || this == KV_GROUPS || this == MLP;
    }

    /** Parses a scored axis: "heads", "mlp", "hidden", "layer" (also "layers", "neurons", "embedding"), any case. */
    public static Axis parse(String s) {
        String k = s.trim().toLowerCase(Locale.ROOT);
        return switch (k) {
            case "heads", "head", "attention" -> HEADS;
            case "mlp", "neurons", "neuron", "ffn" -> MLP;
            case "hidden", "embedding", "embeddings", "channels" -> HIDDEN;
            case "layer", "layers", "depth" -> LAYERS;
            default -> throw new IllegalArgumentException("unknown axis '" + s + "' (expected heads, mlp, hidden or layer)");
        };
    }
}
