package ai.minitron.stats;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Percentile bootstrap intervals over independent units (validation windows, seeds), seeded so the same
 * numbers give the same interval:
 *
 * <pre>
 *   mean:    resample the n units with replacement B times, x̄*_b = mean of the resample;
 *            interval = [q_{(1-level)/2}, q_{(1+level)/2}] of {x̄*_b}
 *   paired:  the same over d_i = a_i - b_i, the per-unit difference of two settings measured on the
 *            same units (the same validation windows), so what the units share cancels
 * </pre>
 *
 * Quantiles interpolate linearly between order statistics (numpy's default). Inputs must be finite.
 */
public final class Bootstrap {
    /** Resamples per interval. */
    public static final int DEFAULT_RESAMPLES = 10_000;
    /** The confidence level the workbench reports. */
    public static final double LEVEL = 0.95;

    private Bootstrap() {}

    /** 95 % interval of the mean of {@code x} with {@link #DEFAULT_RESAMPLES} resamples. */
    public static Interval mean(double[] x, long seed) {
        return mean(x, LEVEL, DEFAULT_RESAMPLES, seed);
    }

    /** Interval of the mean of {@code x} at {@code level}. */
    public static Interval mean(double[] x, double level, int resamples, long seed) {
        check(x, "values");
        if (resamples < 1) {
            throw new IllegalArgumentException("bootstrap resamples must be >= 1, got " + resamples);
        }
        int n = x.length;
        double mean = mean(x);
        if (n == 1) {
            return new Interval(mean, mean, mean, level, 1);
        }
        SplittableRandom rng = new SplittableRandom(seed);
        double[] means = new double[resamples];
        for (int b = 0; b < resamples; b++) {
            double s = 0;
            for (int i = 0; i < n; i++) {
                s += x[rng.nextInt(n)];
            }
            means[b] = s / n;
        }
        Arrays.sort(means);
        double lo = Math.min(mean, quantile(means, (1 - level) / 2));
        double hi = Math.max(mean, quantile(means, (1 + level) / 2));
        return new Interval(mean, lo, hi, level, n);
    }

    /** 95 % interval of mean(a - b) over paired units (a[i] and b[i] measured on the same unit). */
    public static Interval paired(double[] a, double[] b, long seed) {
        check(a, "first setting");
        check(b, "second setting");
        if (a.length != b.length) {
            throw new IllegalArgumentException("paired bootstrap needs the same units on both sides: " + a.length
                    + " vs " + b.length + " values");
        }
        double[] d = new double[a.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = a[i] - b[i];
        }
        return mean(d, seed);
    }

    /** Plain mean (sum in index order). */
    public static double mean(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v;
        }
        return s / x.length;
    }

    /** Linear-interpolation quantile of sorted values (numpy's "linear"), q in [0, 1]. */
    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int i = (int) Math.floor(pos);
        int j = Math.min(sorted.length - 1, i + 1);
        return sorted[i] + (pos - i) * (sorted[j] - sorted[i]);
    }

    private static void check(double[] x, String what) {
        if (x == null || x.length == 0) {
            throw new IllegalArgumentException("bootstrap of " + what + ": no values");
        }
        for (int i = 0; i < x.length; i++) {
            if (!Double.isFinite(x[i])) {
                throw new IllegalArgumentException("bootstrap of " + what + ": value " + i + " is " + x[i]);
            }
        }
    }
}
