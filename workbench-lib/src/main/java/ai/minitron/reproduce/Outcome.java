package ai.minitron.reproduce;

import ai.minitron.stats.Bootstrap;
import ai.minitron.stats.Interval;
import ai.minitron.stats.Verdict;
import java.util.ArrayList;
import java.util.List;
import tech.tablesaw.api.Table;

/**
 * What an {@link Experiment} measured: one row per setting and metric, a detail table (curves,
 * per-candidate numbers, ...), the verdict computed from the numbers by the paper's rule, the rule
 * itself, and a one-line summary of the measurement.
 */
public record Outcome(List<Row> rows, Table detail, boolean holds, String rule, String measurement, Interval difference,
        Verdict verdict) {
    /**
     * The smallest validation-loss difference (nats) counted as one setting beating another: 0.005 nats,
     * 0.5% in perplexity. Smaller differences are ties, below what the 2,048 shared validation tokens
     * resolve, and a claim that one setting beats another does not hold on a tie.
     */
    public static final double TIE_NATS = 0.005;

    /** Whether validation loss {@code a} beats {@code b} by more than {@link #TIE_NATS}. */
    public static boolean beats(double a, double b) {
        return a < b - TIE_NATS;
    }

    /** One measured number. */
    public record Row(String setting, String metric, double value) {}

    public Outcome {
        rows = List.copyOf(rows);
        if (verdict != null && holds != (verdict == Verdict.HOLDS)) {
            throw new IllegalArgumentException("holds must equal verdict == HOLDS (" + verdict + ")");
        }
    }

    /** A single-run outcome: holds or not by the rule, no interval. */
    public Outcome(List<Row> rows, Table detail, boolean holds, String rule, String measurement) {
        this(rows, detail, holds, rule, measurement, null, null);
    }

    /**
     * An outcome decided by the interval of a paired difference {@code d} (oriented so the paper's claim
     * says it is negative) and the tie margin {@link #TIE_NATS}: {@link Verdict#of}.
     */
    public static Outcome decided(List<Row> rows, Table detail, String rule, String measurement, Interval d,
            Verdict.Claim claim) {
        return decided(rows, detail, rule, measurement, d, claim, TIE_NATS);
    }

    /** {@link #decided(List, Table, String, String, Interval, Verdict.Claim)} with another tie margin {@code tie}. */
    public static Outcome decided(List<Row> rows, Table detail, String rule, String measurement, Interval d,
            Verdict.Claim claim, double tie) {
        Verdict v = Verdict.of(d, tie, claim);
        return new Outcome(rows, detail, v == Verdict.HOLDS, rule + "; " + Verdict.rule(claim, tie), measurement, d, v);
    }

    /** The paired bootstrap interval of mean(a - b) over validation windows, seeded by the lab's seed. */
    public static Interval paired(double[] a, double[] b, long seed) {
        return Bootstrap.paired(a, b, seed);
    }

    /** Collects rows. */
    public static final class Rows {
        private final List<Row> rows = new ArrayList<>();

        public Rows add(String setting, String metric, double value) {
            rows.add(new Row(setting, metric, value));
            return this;
        }

        public List<Row> list() {
            return rows;
        }
    }
}
