package ai.minitron.stats;

import org.apache.commons.math3.distribution.TDistribution;

/**
 * Student-t confidence intervals of a mean over a few independent units, typically seeds: each seed is
 * one full rerun of an experiment (data order, calibration sample, initialisation), so there are only 2
 * to 10 of them and a bootstrap over so few values would be far too narrow. With n values x_1..x_n:
 *
 * <pre>
 *   x̄ = Σ x_i / n,   s = sqrt(Σ (x_i − x̄)² / (n − 1)),   interval = x̄ ± t_{(1+level)/2, n−1} · s / sqrt(n)
 *   paired:  the same over d_i = a_i − b_i, two settings measured with the same seed i
 * </pre>
 *
 * The t quantile is computed (commons-math3's {@link TDistribution}), not read from a table. One value
 * gives no interval at all: [−∞, +∞], so a verdict on it is "inconclusive". Inputs must be finite.
 */
public final class StudentT {
    private StudentT() {}

    /** 95 % interval of the mean of {@code x}. */
    public static Interval mean(double[] x) {
        return mean(x, Bootstrap.LEVEL);
    }

    /** Interval of the mean of {@code x} at {@code level}. */
    public static Interval mean(double[] x, double level) {
        if (x == null || x.length == 0) {
            throw new IllegalArgumentException("t interval: no values");
        }
        for (int i = 0; i < x.length; i++) {
            if (!Double.isFinite(x[i])) {
                throw new IllegalArgumentException("t interval: value " + i + " is " + x[i]);
            }
        }
        if (!(level > 0 && level < 1)) {
            throw new IllegalArgumentException("confidence level must be in (0, 1), got " + level);
        }
        int n = x.length;
        double mean = Bootstrap.mean(x);
        if (n == 1) {
            return new Interval(mean, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, level, 1);
        }
        double ss = 0;
        for (double v : x) {
            ss += (v - mean) * (v - mean);
        }
        double se = Math.sqrt(ss / (n - 1)) / Math.sqrt(n);
        double half = quantile((1 + level) / 2, n - 1) * se;
        return new Interval(mean, mean - half, mean + half, level, n);
    }

    /** 95 % interval of mean(a − b) over paired units (a[i] and b[i] measured with the same seed). */
    public static Interval paired(double[] a, double[] b) {
        if (a == null || b == null || a.length != b.length) {
            throw new IllegalArgumentException("paired t interval needs the same units on both sides: "
                    + (a == null ? "null" : a.length) + " vs " + (b == null ? "null" : b.length) + " values");
        }
        double[] d = new double[a.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = a[i] - b[i];
        }
        return mean(d);
    }

    /** The {@code p} quantile of Student's t with {@code df} degrees of freedom (df >= 1). */
    public static double quantile(double p, int df) {
        if (df < 1) {
            throw new IllegalArgumentException("t quantile needs df >= 1, got " + df);
        }
        return new TDistribution(null, df).inverseCumulativeProbability(p);
    }
}
