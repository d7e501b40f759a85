package ai.minitron.importance;

import java.util.Locale;

/**
 * The three aggregation functions Minitron compares for activation-based importance (arXiv
 * 2407.14679 §2.1, Table 11): applied first over the sequence of each sample, then over the batch
 * of per-sample values. The paper's best pair is batch = {@link #L2}, sequence = {@link #MEAN}.
 *
 * <pre>
 *   over the T valid tokens of a sample:   MEAN  s = (1/T) Σ_t |x_t|
 *                                          L2    s = sqrt(Σ_t x_t²)
 *                                          VAR   s = (1/T) Σ_t x_t² - ((1/T) Σ_t x_t)²
 *   over the N per-sample values s_b:     MEAN  (1/N) Σ_b |s_b|
 *                                          L2    sqrt(Σ_b s_b²)
 *                                          VAR   (1/N) Σ_b s_b² - ((1/N) Σ_b s_b)²
 * </pre>
 *
 * The per-sample values are never negative (mean of |x|, a norm, a variance), so every batch
 * aggregation follows from n, Σs and Σs² (the accumulators), and all 9 pairs come from one pass.
 */
public enum Aggregation {
    MEAN,
    L2,
    VAR;

    /** The name used in tables and on the command line: "mean", "l2", "var". */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses "mean" / "l2" / "var" (any case); throws naming the accepted values. */
    public static Aggregation parse(String s) {
        for (Aggregation a : values()) {
            if (a.key().equalsIgnoreCase(s.trim())) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown aggregation '" + s + "' (expected mean, l2 or var)");
    }

    /**
     * The sequence aggregation of one sample from its token moments.
     *
     * @param tokens T, the sample's valid tokens
     * @param sumAbs Σ_t |x_t|
     * @param sumSq Σ_t x_t²
     * @param sum Σ_t x_t
     */
    public double overSequence(long tokens, double sumAbs, double sumSq, double sum) {
        return switch (this) {
            case MEAN -> sumAbs / tokens;
            case L2 -> Math.sqrt(sumSq);
            case VAR -> Math.max(0.0, sumSq / tokens - (sum / tokens) * (sum / tokens));
        };
    }

    /**
     * The batch aggregation of n per-sample values from their sums.
     *
     * @param n samples
     * @param sum Σ_b s_b (s_b >= 0)
     * @param sumSq Σ_b s_b²
     */
    public double overBatch(long n, double sum, double sumSq) {
        if (n <= 0) {
            throw new IllegalArgumentException("cannot aggregate over " + n + " samples");
        }
        return switch (this) {
            case MEAN -> sum / n;
            case L2 -> Math.sqrt(sumSq);
            case VAR -> Math.max(0.0, sumSq / n - (sum / n) * (sum / n));
        };
    }
}
