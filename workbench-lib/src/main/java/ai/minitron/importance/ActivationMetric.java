package ai.minitron.importance;

import ai.minitron.config.ModelConfig;
import ai.minitron.tap.Site;

/**
 * Minitron's activation-based width importance (arXiv 2407.14679 §2.1, Eq. 1-3) from the
 * statistics of one calibration pass, for any batch × sequence aggregation pair:
 *
 * <pre>
 *   head h    agg_batch agg_seq ||ctx[b, t, h, :]||₂                        (metric "activation")
 *             ||( agg_batch agg_seq ctx[b, t, h, d] )_d||₂                   (metric "activation_channel")
 *   neuron i  agg_batch agg_seq act[b, t, i]            act = input of down_proj
 *   channel c Σ_norms agg_batch agg_seq norm_out[b, t, c]  over input_layernorm and
 *             post_attention_layernorm of every layer, and the final norm (optional)
 * </pre>
 *
 * The paper's Eq. 1 writes the head score as a sum over batch and sequence of the per-token head
 * norm; "activation" follows it. NVIDIA ModelOpt's Minitron pruning (the code behind the released
 * Minitron models, {@code _DynamicSelfAttention._estimate_all_head_importance}) instead hooks the
 * input of {@code linear_proj}, takes mean(|x|) over the sequence and L2 over the batch per
 * channel, and then the L2 norm over each head's {@code kv_channels}: that is
 * "activation_channel" (with batch = L2, seq = mean). ModelOpt's embedding score sums over the
 * per-layer norms only (no final norm): pass {@code includeFinalNorm = false} to reproduce it.
 */
public final class ActivationMetric {
    private ActivationMetric() {}

    /** Scores of heads, neurons and embedding channels (layers: null). */
    public static AxisScores scores(ModelConfig c, ActivationStats stats, Metric metric, Aggregation batch,
            Aggregation seq, boolean includeFinalNorm) {
        if (metric != Metric.ACTIVATION && metric != Metric.ACTIVATION_CHANNEL) {
            throw new IllegalArgumentException("not an activation metric: " + metric.key());
        }
        int layers = c.numHiddenLayers();
        double[][] heads = new double[layers][];
        double[][] mlp = new double[layers][];
        double[] hidden = new double[c.hiddenSize()];
        for (int l = 0; l < layers; l++) {
            if (metric == Metric.ACTIVATION) {
                heads[l] = aggregate(stats.get(Site.ATTN_HEADS_OUT, l, ActivationPass.HEAD_NORM), batch, seq);
            } else {
                double[] ch = aggregate(stats.get(Site.ATTN_HEADS_OUT, l, ActivationPass.CHANNEL), batch, seq);
                heads[l] = l2OverGroups(ch, c.headDim());
            }
            mlp[l] = aggregate(stats.get(Site.MLP_ACT, l, ActivationPass.CHANNEL), batch, seq);
            addTo(hidden, aggregate(stats.get(Site.INPUT_NORM_OUT, l, ActivationPass.CHANNEL), batch, seq));
            addTo(hidden, aggregate(stats.get(Site.POST_ATTN_NORM_OUT, l, ActivationPass.CHANNEL), batch, seq));
        }
        if (includeFinalNorm) {
            addTo(hidden, aggregate(stats.get(Site.FINAL_NORM_OUT, -1, ActivationPass.CHANNEL), batch, seq));
        }
        return new AxisScores(hidden, heads, mlp, null);
    }

    /** batch_agg(seq_agg) of every unit of one accumulator. */
    public static double[] aggregate(ChannelAccumulator a, Aggregation batch, Aggregation seq) {
        int s = a.stream(seq.key());
        double[] out = new double[a.units()];
        for (int u = 0; u < out.length; u++) {
            out[u] = batch.overBatch(a.count(), a.sum(s, u), a.sumSq(s, u));
        }
        return out;
    }

    /** ||v[g*D .. (g+1)*D)||₂ for each group g. */
    static double[] l2OverGroups(double[] v, int d) {
        double[] out = new double[v.length / d];
        for (int j = 0; j < v.length; j++) out[j / d] += v[j] * v[j];
        for (int g = 0; g < out.length; g++) out[g] = Math.sqrt(out[g]);
        return out;
    }

    private static void addTo(double[] dst, double[] src) {
        for (int i = 0; i < dst.length; i++) dst[i] += src[i];
    }
}
