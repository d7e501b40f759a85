package ai.minitron.config;

import static ai.minitron.config.Axis.HEADS;
import static ai.minitron.config.Axis.HIDDEN;
import static ai.minitron.config.Axis.KV_GROUPS;
import static ai.minitron.config.Axis.MLP;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What every prunable unit ({@link Axis}) owns of the weights, stated once for every architecture:
 * the pruner slices by it, the magnitude / Taylor / Wanda metrics sum over it, and removing a unit
 * changes {@link ParamCount} by exactly what it lists. Tensors are named as in {@link TensorSchema}
 * ({@code l.} = {@code model.layers.l.}); a tensor the config does not have (biases, gate_proj of
 * Nemotron's squared-ReLU MLP, a tied lm_head) is simply absent. D = head_dim.
 *
 * <pre>
 *   tensor                          shape       rows / elements owned by   columns owned by
 *   model.embed_tokens.weight       [V, H]      -                          hidden channel
 *   l.self_attn.q_proj.weight       [A*D, H]    query head (D rows)        hidden channel
 *   l.self_attn.q_proj.bias         [A*D]       query head (D)
 *   l.self_attn.k_proj/v_proj.weight[G*D, H]    KV group (D rows)          hidden channel
 *   l.self_attn.k_proj/v_proj.bias  [G*D]       KV group (D)
 *   l.self_attn.o_proj.weight       [H, A*D]    hidden channel             query head (D columns)
 *   l.self_attn.o_proj.bias         [H]         hidden channel
 *   l.mlp.gate_proj/up_proj.weight  [I, H]      MLP neuron                 hidden channel
 *   l.mlp.gate_proj/up_proj.bias    [I]         MLP neuron
 *   l.mlp.down_proj.weight          [H, I]      hidden channel             MLP neuron
 *   l.mlp.down_proj.bias            [H]         hidden channel
 *   l.input_layernorm / l.post_attention_layernorm / model.norm (.weight, .bias)
 *                                   [H]         hidden channel
 *   lm_head.weight (untied)         [V, H]      -                          hidden channel
 * </pre>
 *
 * A KV group also owns its {@code queriesPerKvHead} query heads; a layer owns every tensor of
 * {@code model.layers.l} whole. head_dim is never cut.
 */
public final class UnitLayout {
    private UnitLayout() {}

    /** A dimension of a tensor: rows (dim 0 of [out, in]), columns (dim 1), a vector's elements, or all of it. */
    public enum Dim {
        ROWS,
        COLUMNS,
        ELEMENTS,
        WHOLE
    }

    /** Units of {@code axis} own {@code block} consecutive indices of {@code dim}: unit u owns [u*block, (u+1)*block). */
    public record Cut(Axis axis, Dim dim, int block) {}

    /** What one unit owns of one tensor: {@code block} indices of {@code dim}, {@code params} parameters in all. */
    public record Part(String tensor, Dim dim, int block, long params) {}

    /** The table: rows (or elements) and columns of each tensor role, by the axis whose units own them (null: none). */
    private record Rule(Dim first, Axis rows, Axis cols) {}

    private static final Map<String, Rule> TABLE = new LinkedHashMap<>();

    static {
        matrix("model.embed_tokens.weight", null, HIDDEN);
        matrix("self_attn.q_proj.weight", HEADS, HIDDEN);
        vector("self_attn.q_proj.bias", HEADS);
        matrix("self_attn.k_proj.weight", KV_GROUPS, HIDDEN);
        vector("self_attn.k_proj.bias", KV_GROUPS);
        matrix("self_attn.v_proj.weight", KV_GROUPS, HIDDEN);
        vector("self_attn.v_proj.bias", KV_GROUPS);
        matrix("self_attn.o_proj.weight", HIDDEN, HEADS);
        vector("self_attn.o_proj.bias", HIDDEN);
        matrix("mlp.gate_proj.weight", MLP, HIDDEN);
        vector("mlp.gate_proj.bias", MLP);
        matrix("mlp.up_proj.weight", MLP, HIDDEN);
        vector("mlp.up_proj.bias", MLP);
        matrix("mlp.down_proj.weight", HIDDEN, MLP);
        vector("mlp.down_proj.bias", HIDDEN);
        for (String norm : List.of("input_layernorm.", "post_attention_layernorm.", "model.norm.")) {
            vector(norm + "weight", HIDDEN);
            vector(norm + "bias", HIDDEN);
        }
        matrix("lm_head.weight", null, HIDDEN);
    }

    private static void matrix(String role, Axis rows, Axis cols) {
        TABLE.put(role, new Rule(Dim.ROWS, rows, cols));
    }

    private static void vector(String role, Axis elements) {
        TABLE.put(role, new Rule(Dim.ELEMENTS, elements, null));
    }

    /** The layer index of a {@code model.layers.l.*} tensor name, or -1 for a model-level tensor. */
    public static int layerOf(String name) {
        String prefix = "model.layers.";
        if (!name.startsWith(prefix)) {
            return -1;
        }
        return Integer.parseInt(name.substring(prefix.length(), name.indexOf('.', prefix.length())));
    }

    /** A tensor's name without its layer prefix ("self_attn.q_proj.weight"); model-level names unchanged. */
    public static String role(String name) {
        return layerOf(name) < 0 ? name : name.substring(name.indexOf('.', "model.layers.".length()) + 1);
    }

    /** Indices per unit along a cut by {@code axis}: head_dim for heads and KV groups, else 1. */
    public static int block(ModelConfig c, Axis axis) {
        return axis == HEADS || axis == KV_GROUPS ? c.headDim() : 1;
    }

    /**
     * The cuts of a tensor, rows (or elements) first, then columns; throws naming the tensor when the
     * table does not know it.
     */
    public static List<Cut> cuts(ModelConfig c, String name) {
        Rule r = TABLE.get(role(name));
        if (r == null) {
            throw new IllegalArgumentException("tensor '" + name + "' is not in the unit layout (known roles: "
                    + TABLE.keySet() + ")");
        }
        List<Cut> out = new ArrayList<>(2);
        if (r.rows() != null) {
            out.add(new Cut(r.rows(), r.first(), block(c, r.rows())));
        }
        if (r.cols() != null) {
            out.add(new Cut(r.cols(), Dim.COLUMNS, block(c, r.cols())));
        }
        return out;
    }

    /** The cut of one dimension of a tensor (ROWS also matches a vector's ELEMENTS), or null if no unit owns it. */
    public static Cut cut(ModelConfig c, String name, Dim dim) {
        for (Cut k : cuts(c, name)) {
            if (k.dim() == dim || (dim == Dim.ROWS && k.dim() == Dim.ELEMENTS)) {
                return k;
            }
        }
        return null;
    }

    /**
     * What one unit of {@code axis} owns, over {@link TensorSchema}'s tensors of {@code c}: for heads, KV
     * groups and MLP neurons in {@code layer} (a KV group with its query heads), for a layer every
     * tensor of {@code model.layers.layer}, for a hidden channel its slice of every tensor.
     */
    public static List<Part> owned(ModelConfig c, Axis axis, int layer) {
        List<Part> out = new ArrayList<>();
        for (var e : TensorSchema.expectedShapes(c).entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue();
            int l = layerOf(name);
            List<Cut> cuts = cuts(c, name);
            if (axis == Axis.LAYERS) {
                if (l == layer) {
                    out.add(new Part(name, Dim.WHOLE, 1, TensorSchema.numel(shape)));
                }
                continue;
            }
            if (axis != HIDDEN && l != layer) {
                continue;
            }
            for (Cut k : cuts) {
                int block = k.axis() == axis ? k.block()
                        : axis == KV_GROUPS && k.axis() == HEADS ? k.block() * c.queriesPerKvHead() : 0;
                if (block > 0) {
                    long across = k.dim() == Dim.ELEMENTS ? 1 : k.dim() == Dim.ROWS ? shape[1] : shape[0];
                    out.add(new Part(name, k.dim(), block, block * across));
                }
            }
        }
        return out;
    }

    /** Parameters one unit of {@code axis} owns (see {@link #owned}; the same in every layer). */
    public static long paramsPerUnit(ModelConfig c, Axis axis) {
        long n = 0;
        for (Part p : owned(c, axis, 0)) {
            n += p.params();
        }
        return n;
    }
}
