package ai.minitron.importance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.TensorSchema;
import ai.minitron.config.UnitLayout;
import ai.minitron.model.Weights;
import ai.minitron.tap.Site;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Wanda-style structured importance (Sun et al. 2023, "Wanda": |W_ij| · ||X_j||₂; in its structured
 * form "Wanda-sp" as compared by An et al. 2024, FLAP): the score of a unit is the sum of
 * |W_ij| · ||X_j||₂ over the weight columns the unit owns, where X_j is the j-th input feature of
 * that matrix over all calibration tokens (||X_j||₂ = sqrt(Σ_{b,t} x²), exact from the
 * accumulators' L2 stream), and the columns a unit owns are {@link UnitLayout}'s:
 *
 * <pre>
 *   head h     Σ_{d} ||ctx_{hD+d}|| · Σ_k |o_proj[k, hD+d]|
 *   neuron i   ||act_i|| · Σ_k |down_proj[k, i]|
 *   channel c  Σ_l ||in_l,c|| · Σ_k |q,k,v_proj[k, c]| + ||post_l,c|| · Σ_k |gate,up_proj[k, c]|
 *              + ||final_c|| · Σ_v |lm_head[v, c]|
 *   layer l    the sum over all of layer l's linear maps of Σ_j ||X_j|| · Σ_k |W[k, j]|
 * </pre>
 */
public final class WandaMetric {
    private WandaMetric() {}

    /** A linear map of a layer and the activation site its input columns see, in the order the sums run. */
    private record Input(String role, Site site) {}

    private static final List<Input> INPUTS = List.of(new Input("self_attn.q_proj.weight", Site.INPUT_NORM_OUT),
            new Input("self_attn.k_proj.weight", Site.INPUT_NORM_OUT),
            new Input("self_attn.v_proj.weight", Site.INPUT_NORM_OUT),
            new Input("mlp.gate_proj.weight", Site.POST_ATTN_NORM_OUT),
            new Input("mlp.up_proj.weight", Site.POST_ATTN_NORM_OUT),
            new Input("self_attn.o_proj.weight", Site.ATTN_HEADS_OUT),
            new Input("mlp.down_proj.weight", Site.MLP_ACT));

    public static AxisScores scores(ModelConfig c, Weights w, ActivationStats stats) {
        AxisScores out = AxisScores.zeros(c);
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            int layer = l;
            Map<Site, double[]> norms = new EnumMap<>(Site.class);
            for (Input in : INPUTS) {
                String name = TensorSchema.layerPrefix(l) + in.role();
                if (!w.has(name)) {
                    continue; // gate_proj of a non-gated MLP
                }
                double[] x = norms.computeIfAbsent(in.site(), site -> inputNorm(stats, site, layer));
                addColumns(c, out, name, l, columnAbsSum(w.get(name)), x);
            }
        }
        String head = c.tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight";
        addColumns(c, out, head, -1, columnAbsSum(w.get(head)), inputNorm(stats, Site.FINAL_NORM_OUT, -1));
        return out;
    }

    /**
     * Adds Σ_k |W[k, j]| · ||X_j|| to the unit owning column j ({@link UnitLayout}) and, for a layer's
     * map, to the layer.
     */
    private static void addColumns(ModelConfig c, AxisScores out, String name, int layer, double[] col, double[] x) {
        UnitLayout.Cut cut = UnitLayout.cut(c, name, UnitLayout.Dim.COLUMNS);
        double[] unit = out.get(cut.axis(), layer);
        for (int j = 0; j < col.length; j++) {
            unit[j / cut.block()] += col[j] * x[j];
            if (layer >= 0) {
                out.layers()[layer] += col[j] * x[j];
            }
        }
    }

    /** ||X_j||₂ over all calibration tokens, for each channel j of a site's activation. */
    static double[] inputNorm(ActivationStats stats, Site site, int layer) {
        ChannelAccumulator a = stats.get(site, layer, ActivationPass.CHANNEL);
        double[] sq = a.sumSqs(a.stream(Aggregation.L2.key())); // Σ_b (sqrt(Σ_t x²))² = Σ_{b,t} x²
        for (int j = 0; j < sq.length; j++) sq[j] = Math.sqrt(sq[j]);
        return sq;
    }

    /** Σ_k |W[k, j]| for each input column j of W [out, in]. */
    static double[] columnAbsSum(NDArray weight) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            return weight.abs().sum(new int[] {0}).toType(DataType.FLOAT64, false).toDoubleArray();
        }
    }
}
