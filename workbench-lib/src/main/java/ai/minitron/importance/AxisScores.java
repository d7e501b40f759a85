package ai.minitron.importance;

import ai.minitron.config.ModelConfig;

/**
 * One metric's scores for every unit of a model, higher = more important:
 * {@code hidden} [hidden_size], {@code heads} [layers][num_attention_heads],
 * {@code mlp} [layers][intermediate_size], {@code layers} [layers]. An axis a metric does not score
 * is null.
 */
public record AxisScores(double[] hidden, double[][] heads, double[][] mlp, double[] layers) {

    /** All-zero scores shaped by the config (for metrics that sum contributions into them). */
    public static AxisScores zeros(ModelConfig c) {
        int l = c.numHiddenLayers();
        return new AxisScores(new double[c.hiddenSize()], new double[l][c.numAttentionHeads()],
                new double[l][c.intermediateSize()], new double[l]);
    }

    /** The scores of one axis (layer is ignored for hidden and layer); null if not scored. */
    public double[] get(UnitAxis axis, int layer) {
        return switch (axis) {
            case HIDDEN -> hidden;
            case LAYER -> layers;
            case HEADS -> heads == null ? null : heads[layer];
            case MLP -> mlp == null ? null : mlp[layer];
        };
    }

    /** Element-wise sqrt (for metrics accumulated as sums of squares). */
    public AxisScores sqrt() {
        return new AxisScores(sqrt(hidden), sqrt(heads), sqrt(mlp), sqrt(layers));
    }

    private static double[] sqrt(double[] a) {
        if (a == null) return null;
        double[] o = new double[a.length];
        for (int i = 0; i < a.length; i++) o[i] = Math.sqrt(a[i]);
        return o;
    }

    private static double[][] sqrt(double[][] a) {
        if (a == null) return null;
        double[][] o = new double[a.length][];
        for (int i = 0; i < a.length; i++) o[i] = sqrt(a[i]);
        return o;
    }
}
