package ai.minitron.stats;

import java.util.Locale;

/**
 * An estimate with its confidence interval: {@code mean} and the two-sided interval
 * [{@code lo}, {@code hi}] at {@code level} (0.95 for a 95 % interval), from {@code n} independent units
 * (seeds, validation windows). A single unit gives the degenerate interval [mean, mean].
 */
public record Interval(double mean, double lo, double hi, double level, int n) {
    public Interval {
        if (!(lo <= mean && mean <= hi) && !Double.isNaN(mean)) {
            throw new IllegalArgumentException("interval [" + lo + ", " + hi + "] does not contain its mean " + mean);
        }
        if (!(level > 0 && level < 1)) {
            throw new IllegalArgumentException("confidence level must be in (0, 1), got " + level);
        }
    }

    /** Half the interval's width. */
    public double halfWidth() {
        return (hi - lo) / 2;
    }

    /** True when the interval contains {@code x}. */
    public boolean contains(double x) {
        return lo <= x && x <= hi;
    }

    /** "0.123 [0.101, 0.145]" with {@code decimals} digits. */
    public String format(int decimals) {
        String f = "%." + decimals + "f";
        return String.format(Locale.ROOT, f + " [" + f + ", " + f + "]", mean, lo, hi);
    }

    @Override
    public String toString() {
        return format(4);
    }
}
