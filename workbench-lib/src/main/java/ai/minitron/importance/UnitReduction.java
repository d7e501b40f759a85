package ai.minitron.importance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.Weights;
import java.util.function.BiFunction;

/**
 * Which weights belong to which prunable unit, and the per-unit sum of any element-wise score over
 * them: the grouping behind the magnitude and Taylor baselines (what pruning a unit would remove,
 * ARCHITECTURE.md §6).
 *
 * <pre>
 *   query head h of layer l   rows [h*D, (h+1)*D) of q_proj (+ q bias), columns [h*D, (h+1)*D) of o_proj
 *   MLP neuron i of layer l   row i of gate_proj and up_proj (+ biases), column i of down_proj
 *   embedding channel c       column c of embed_tokens, lm_head (untied), q/k/v/gate/up_proj of every layer;
 *                             row c of o_proj and down_proj (+ their biases); element c of every norm
 *   layer l                   every tensor of model.layers.l
 * </pre>
 * k_proj and v_proj rows belong to a KV group shared by several query heads, so they count for the
 * hidden channels and the layer but not for single heads.
 */
public final class UnitReduction {
    private UnitReduction() {}

    /**
     * Σ over each unit's weights of {@code score(name, W)} (an array shaped like W, computed on the
     * engine), reduced on the engine and summed into float64 on the host.
     */
    public static AxisScores sum(ModelConfig c, Weights w, BiFunction<String, NDArray, NDArray> score) {
        AxisScores out = AxisScores.zeros(c);
        int d = c.headDim();
        for (String name : w.names()) {
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray s = score.apply(name, w.get(name));
                if (s == null) {
                    continue;
                }
                int layer = layerOf(name);
                String role = layer < 0 ? name : name.substring(name.indexOf('.', "model.layers.".length()) + 1);
                if (layer >= 0) {
                    out.layers()[layer] += total(s);
                }
                switch (role) {
                    case "model.embed_tokens.weight", "lm_head.weight" -> add(out.hidden(), s, 0);
                    case "model.norm.weight", "model.norm.bias", "input_layernorm.weight", "input_layernorm.bias",
                            "post_attention_layernorm.weight", "post_attention_layernorm.bias",
                            "self_attn.o_proj.bias", "mlp.down_proj.bias" -> add(out.hidden(), s, -1);
                    case "self_attn.q_proj.weight" -> {
                        addGrouped(out.heads()[layer], s.sum(new int[] {1}), d);
                        add(out.hidden(), s, 0);
                    }
                    case "self_attn.q_proj.bias" -> addGrouped(out.heads()[layer], s, d);
                    case "self_attn.k_proj.weight", "self_attn.v_proj.weight" -> add(out.hidden(), s, 0);
                    case "self_attn.o_proj.weight" -> {
                        addGrouped(out.heads()[layer], s.sum(new int[] {0}), d);
                        add(out.hidden(), s, 1);
                    }
                    case "mlp.gate_proj.weight", "mlp.up_proj.weight" -> {
                        add(out.mlp()[layer], s, 1);
                        add(out.hidden(), s, 0);
                    }
                    case "mlp.gate_proj.bias", "mlp.up_proj.bias" -> add(out.mlp()[layer], s, -1);
                    case "mlp.down_proj.weight" -> {
                        add(out.mlp()[layer], s, 0);
                        add(out.hidden(), s, 1);
                    }
                    default -> { } // k/v biases: KV groups only (counted in the layer total)
                }
            }
        }
        return out;
    }

    /** The layer index of a per-layer tensor name, or -1. */
    static int layerOf(String name) {
        if (!name.startsWith("model.layers.")) {
            return -1;
        }
        int start = "model.layers.".length();
        return Integer.parseInt(name.substring(start, name.indexOf('.', start)));
    }

    private static double total(NDArray s) {
        return s.sum().toType(DataType.FLOAT64, false).getDouble();
    }

    /** dst += s summed over {@code axis} (-1: s is already a vector). */
    private static void add(double[] dst, NDArray s, int axis) {
        NDArray v = axis < 0 ? s : s.sum(new int[] {axis});
        double[] h = v.toType(DataType.FLOAT64, false).toDoubleArray();
        if (h.length != dst.length) {
            throw new IllegalStateException("unit reduction gave " + h.length + " values for " + dst.length + " units");
        }
        for (int i = 0; i < h.length; i++) dst[i] += h[i];
    }

    /** dst[h] += Σ_{j in [h*D, (h+1)*D)} v[j]. */
    private static void addGrouped(double[] dst, NDArray v, int d) {
        double[] h = v.toType(DataType.FLOAT64, false).toDoubleArray();
        for (int j = 0; j < h.length; j++) dst[j / d] += h[j];
    }
}
