package ai.minitron.stats;

import java.util.Locale;

/**
 * A finding's three-valued verdict, computed from the interval of a difference, never set by hand. The
 * difference is oriented so that the paper's claim says it is negative ({@code d = claimed winner −
 * claimed loser} for a loss), and {@code tie} is the smallest difference that counts (a margin in the
 * metric's units):
 *
 * <pre>
 *   BEATS claim ("A is better than B"):        holds  if hi < −tie;  fails if lo > +tie;  else inconclusive
 *   NO_GAIN claim ("A is not better than B"):  holds  if lo > −tie;  fails if hi < −tie;  else inconclusive
 * </pre>
 *
 * For BEATS, "holds" means the whole interval shows A ahead by more than a tie, "fails" that it shows B
 * ahead by more than a tie; an interval that reaches into the tie band [−tie, +tie] decides nothing.
 * For NO_GAIN (the paper claims A brings no benefit), the claim holds when the interval rules out a gain
 * larger than a tie and fails when the interval shows one.
 */
public enum Verdict {
    HOLDS, FAILS, INCONCLUSIVE;

    /** The shape of the paper's claim. */
    public enum Claim {
        /** The first setting beats the second: d < 0 beyond the tie. */
        BEATS,
        /** The first setting brings no gain over the second: d not below −tie. */
        NO_GAIN
    }

    /** The verdict on {@code d} (oriented as above) for a claim of the given kind. */
    public static Verdict of(Interval d, double tie, Claim claim) {
        if (!(tie >= 0)) {
            throw new IllegalArgumentException("tie margin must be >= 0, got " + tie);
        }
        if (Double.isNaN(d.lo()) || Double.isNaN(d.hi())) {
            return INCONCLUSIVE;
        }
        return switch (claim) {
            case BEATS -> d.hi() < -tie ? HOLDS : d.lo() > tie ? FAILS : INCONCLUSIVE;
            case NO_GAIN -> d.lo() > -tie ? HOLDS : d.hi() < -tie ? FAILS : INCONCLUSIVE;
        };
    }

    /** "holds", "fails", "inconclusive". */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The rule in words, for findings tables. */
    public static String rule(Claim claim, double tie) {
        String t = String.format(Locale.ROOT, "%.3g", tie);
        return switch (claim) {
            case BEATS -> "holds when the 95% interval of the difference lies below -" + t + ", fails when it lies above +"
                    + t + ", inconclusive when it reaches the tie band [-" + t + ", +" + t + "]";
            case NO_GAIN -> "holds when the 95% interval of the gain rules out a gain above " + t
                    + ", fails when the whole interval shows a gain above " + t + ", inconclusive otherwise";
        };
    }
}
