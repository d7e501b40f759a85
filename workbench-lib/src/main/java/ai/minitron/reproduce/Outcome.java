package ai.minitron.reproduce;

import java.util.ArrayList;
import java.util.List;
import tech.tablesaw.api.Table;

/**
 * What an {@link Experiment} measured: one row per setting and metric, a detail table (curves,
 * per-candidate numbers, ...), the verdict computed from the numbers by the paper's rule, the rule
 * itself, and a one-line summary of the measurement.
 */
public record Outcome(List<Row> rows, Table detail, boolean holds, String rule, String measurement) {
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
