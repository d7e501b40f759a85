package ai.minitron.prune;

import ai.minitron.config.ModelConfig;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@link UnitScores} held in arrays: for scores computed elsewhere, for planted tests, and for the
 * two trivial baselines (keep-first order, seeded random).
 *
 * @param heads per layer [num_attention_heads]
 * @param mlp per layer [intermediate_size]
 */
public record StaticScores(double[] hidden, List<double[]> heads, List<double[]> mlp, double[] layers, String runId)
        implements UnitScores {

    @Override
    public double[] heads(int layer) {
        return heads.get(layer);
    }

    @Override
    public double[] mlp(int layer) {
        return mlp.get(layer);
    }

    /** Earlier units score higher: pruning keeps the first k of every axis. */
    public static StaticScores firstK(ModelConfig c) {
        return fill(c, "first-k", i -> -i, null);
    }

    /** Seeded random scores (the paper's random baseline). */
    public static StaticScores random(ModelConfig c, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return fill(c, "random-" + seed, i -> 0, r);
    }

    private static StaticScores fill(ModelConfig c, String id, java.util.function.IntToDoubleFunction f,
            SplittableRandom r) {
        java.util.function.IntFunction<double[]> make = n -> {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = r == null ? f.applyAsDouble(i) : r.nextDouble();
            }
            return v;
        };
        List<double[]> heads = new java.util.ArrayList<>();
        List<double[]> mlp = new java.util.ArrayList<>();
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            heads.add(make.apply(c.numAttentionHeads()));
            mlp.add(make.apply(c.intermediateSize()));
        }
        return new StaticScores(make.apply(c.hiddenSize()), heads, mlp, make.apply(c.numHiddenLayers()), id);
    }

    @Override
    public String toString() {
        return "StaticScores[" + runId + ", hidden " + Arrays.toString(Arrays.copyOf(hidden, Math.min(4, hidden.length)))
                + "...]";
    }
}
