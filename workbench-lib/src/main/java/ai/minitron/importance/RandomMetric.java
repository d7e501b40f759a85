package ai.minitron.importance;

import ai.minitron.config.ModelConfig;
import java.util.SplittableRandom;

/**
 * The random baseline: uniform [0, 1) scores from {@code SplittableRandom(seed)}, drawn in a fixed
 * order (hidden channels, then per layer its heads and neurons, then layers), so a seed always gives
 * the same ranking.
 */
public final class RandomMetric {
    private RandomMetric() {}

    public static AxisScores scores(ModelConfig c, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        AxisScores s = AxisScores.zeros(c);
        fill(s.hidden(), r);
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            fill(s.heads()[l], r);
            fill(s.mlp()[l], r);
        }
        fill(s.layers(), r);
        return s;
    }

    private static void fill(double[] a, SplittableRandom r) {
        for (int i = 0; i < a.length; i++) a[i] = r.nextDouble();
    }
}
