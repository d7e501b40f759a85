package ai.minitron.importance;

import ai.minitron.config.Axis;
import ai.minitron.config.ModelConfig;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import java.util.function.IntToDoubleFunction;

/**
 * Scores for every unit of a model held in arrays, higher = more important:
 * {@code hidden} [hidden_size], {@code heads} [layers][num_attention_heads],
 * {@code mlp} [layers][intermediate_size], {@code layers} [layers]. An axis a metric does not score
 * is null. What every metric returns, and what the pruner ranks by through
 * {@code prune.UnitScores.of(AxisScores)}: for scores computed elsewhere, planted tests, and the two
 * trivial baselines ({@link #firstK}, {@link #random}).
 *
 * @param runId where the scores came from (recorded in pruning.json)
 */
public record AxisScores(double[] hidden, double[][] heads, double[][] mlp, double[] layers, String runId) {

    /** Scores not (yet) named by a run id. */
    public static final String UNNAMED = "unnamed";

    /** Scores without a run id ({@link #UNNAMED}). */
    public AxisScores(double[] hidden, double[][] heads, double[][] mlp, double[] layers) {
        this(hidden, heads, mlp, layers, UNNAMED);
    }

    /** All-zero scores shaped by the config (for metrics that sum contributions into them). */
    public static AxisScores zeros(ModelConfig c) {
        int l = c.numHiddenLayers();
        return new AxisScores(new double[c.hiddenSize()], new double[l][c.numAttentionHeads()],
                new double[l][c.intermediateSize()], new double[l]);
    }

    /** Earlier units score higher: pruning keeps the first k of every axis (run id "first-k"). */
    public static AxisScores firstK(ModelConfig c) {
        return fill(c, "first-k", i -> -i, null);
    }

    /**
     * Seeded uniform [0, 1) scores (the paper's random baseline for pruning; run id "random-SEED"),
     * drawn per layer (heads, then neurons), then hidden channels, then layers.
     */
    public static AxisScores random(ModelConfig c, long seed) {
        return fill(c, "random-" + seed, i -> 0, new SplittableRandom(seed));
    }

    private static AxisScores fill(ModelConfig c, String id, IntToDoubleFunction f, SplittableRandom r) {
        IntFunction<double[]> make = n -> {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = r == null ? f.applyAsDouble(i) : r.nextDouble();
            }
            return v;
        };
        int n = c.numHiddenLayers();
        double[][] heads = new double[n][];
        double[][] mlp = new double[n][];
        for (int l = 0; l < n; l++) {
            heads[l] = make.apply(c.numAttentionHeads());
            mlp[l] = make.apply(c.intermediateSize());
        }
        double[] hidden = make.apply(c.hiddenSize());
        return new AxisScores(hidden, heads, mlp, make.apply(n), id);
    }

    /** The same scores under another run id. */
    public AxisScores withRunId(String id) {
        return new AxisScores(hidden, heads, mlp, layers, id);
    }

    /** The scores of one axis (layer is ignored for hidden and layer); null if not scored (KV groups never are). */
    public double[] get(Axis axis, int layer) {
        return switch (axis) {
            case HIDDEN -> hidden;
            case LAYERS -> layers;
            case HEADS -> heads == null ? null : heads[layer];
            case MLP -> mlp == null ? null : mlp[layer];
            case KV_GROUPS -> null;
        };
    }

    /** Element-wise sqrt (for metrics accumulated as sums of squares). */
    public AxisScores sqrt() {
        return new AxisScores(sqrt(hidden), sqrt(heads), sqrt(mlp), sqrt(layers), runId);
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

    @Override
    public String toString() {
        return "AxisScores[" + runId + ", hidden " + (hidden == null ? "none"
                : Arrays.toString(Arrays.copyOf(hidden, Math.min(4, hidden.length))) + "...") + "]";
    }
}
