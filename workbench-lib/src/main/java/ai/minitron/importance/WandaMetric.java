package ai.minitron.importance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.Weights;
import ai.minitron.tap.Site;

/**
 * Wanda-style structured importance (Sun et al. 2023, "Wanda": |W_ij| · ||X_j||₂; in its structured
 * form "Wanda-sp" as compared by An et al. 2024, FLAP): the score of a unit is the sum of
 * |W_ij| · ||X_j||₂ over the weight columns the unit owns, where X_j is the j-th input feature of
 * that matrix over all calibration tokens (||X_j||₂ = sqrt(Σ_{b,t} x²), exact from the
 * accumulators' L2 stream):
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

    public static AxisScores scores(ModelConfig c, Weights w, ActivationStats stats) {
        AxisScores out = AxisScores.zeros(c);
        int d = c.headDim();
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            double[] in = inputNorm(stats, Site.INPUT_NORM_OUT, l);
            double[] post = inputNorm(stats, Site.POST_ATTN_NORM_OUT, l);
            double[] ctx = inputNorm(stats, Site.ATTN_HEADS_OUT, l);
            double[] act = inputNorm(stats, Site.MLP_ACT, l);
            for (String proj : new String[] {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"}) {
                double[] col = columnAbsSum(w.get(p + proj + ".weight"));
                for (int j = 0; j < col.length; j++) {
                    out.hidden()[j] += col[j] * in[j];
                    out.layers()[l] += col[j] * in[j];
                }
            }
            for (String proj : c.gatedMlp() ? new String[] {"mlp.gate_proj", "mlp.up_proj"} : new String[] {"mlp.up_proj"}) {
                double[] col = columnAbsSum(w.get(p + proj + ".weight"));
                for (int j = 0; j < col.length; j++) {
                    out.hidden()[j] += col[j] * post[j];
                    out.layers()[l] += col[j] * post[j];
                }
            }
            double[] o = columnAbsSum(w.get(p + "self_attn.o_proj.weight"));
            for (int j = 0; j < o.length; j++) {
                out.heads()[l][j / d] += o[j] * ctx[j];
                out.layers()[l] += o[j] * ctx[j];
            }
            double[] down = columnAbsSum(w.get(p + "mlp.down_proj.weight"));
            for (int i = 0; i < down.length; i++) {
                out.mlp()[l][i] = down[i] * act[i];
                out.layers()[l] += down[i] * act[i];
            }
        }
        double[] fin = inputNorm(stats, Site.FINAL_NORM_OUT, -1);
        double[] head = columnAbsSum(w.get(c.tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight"));
        for (int j = 0; j < head.length; j++) {
            out.hidden()[j] += head[j] * fin[j];
        }
        return out;
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
