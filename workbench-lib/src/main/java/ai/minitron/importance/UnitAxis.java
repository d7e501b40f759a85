package ai.minitron.importance;

import java.util.Locale;

/**
 * What a row of the importance table scores (arXiv 2407.14679 §2.1): an attention head, an MLP
 * neuron, an embedding (hidden) channel, or a whole layer. The table's {@code axis} column holds
 * {@link #key()}.
 */
public enum UnitAxis {
    /** Query head h of layer l: row (layer = l, unit = h). */
    HEADS("heads"),
    /** MLP neuron i of layer l (a row of gate/up_proj, a column of down_proj): (layer = l, unit = i). */
    MLP("mlp"),
    /** Embedding channel c, shared by the whole model: (layer = -1, unit = c). */
    HIDDEN("hidden"),
    /** Layer l as a whole: (layer = -1, unit = l). */
    LAYER("layer");

    private final String key;

    UnitAxis(String key) {
        this.key = key;
    }

    public String key() {
        return key;
    }

    /** True for axes scored per layer (heads, mlp); false for whole-model axes (hidden, layer). */
    public boolean perLayer() {
        return this == HEADS || this == MLP;
    }

    /** Parses "heads", "mlp", "hidden", "layer" (also "layers", "neurons", "embedding"), any case. */
    public static UnitAxis parse(String s) {
        String k = s.trim().toLowerCase(Locale.ROOT);
        return switch (k) {
            case "heads", "head", "attention" -> HEADS;
            case "mlp", "neurons", "neuron", "ffn" -> MLP;
            case "hidden", "embedding", "embeddings", "channels" -> HIDDEN;
            case "layer", "layers", "depth" -> LAYER;
            default -> throw new IllegalArgumentException("unknown axis '" + s + "' (expected heads, mlp, hidden or layer)");
        };
    }
}
