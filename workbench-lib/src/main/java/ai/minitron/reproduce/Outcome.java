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
