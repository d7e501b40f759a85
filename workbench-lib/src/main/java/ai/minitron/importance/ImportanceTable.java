package ai.minitron.importance;

import ai.minitron.io.Json;
import ai.minitron.config.Axis;
import ai.minitron.stats.ArrowIo;
import ai.minitron.stats.RankAgreement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.selection.Selection;

/**
 * The importance results of one run as a long table, one row per scored unit (docs/architecture.md, "Importance statistics"):
 *
 * <pre>
 *   run_id, layer, axis, unit, metric, batch_agg, seq_agg, score, n_samples, n_tokens
 * </pre>
 *
 * {@code layer} is -1 for whole-model axes (hidden channels, layers); {@code axis} is one of heads,
 * mlp, hidden, layer ({@link Axis}); {@code batch_agg}/{@code seq_agg} are mean, l2, var for the
 * activation metrics and "none" for the others. Higher score = more important. Stored as
 * {@code importance.arrow} (Arrow IPC file) beside {@code run.json} and read back as a Tablesaw table
 * with fluent views for notebooks:
 *
 * <pre>
 *   ImportanceTable imp = ImportanceTable.load(dir);
 *   imp.where("activation", "l2", "mean").byLayer("mlp").top(10);   // 10 best neurons per layer
 *   imp.where("activation", "l2", "mean").matrix("heads");          // [layer][head]
 *   imp.best().ranking("mlp", 3);                                   // unit ids, most important first
 * </pre>
 */
public final class ImportanceTable {
    public static final String FILE = "importance.arrow";
    public static final String RUN_FILE = "run.json";
    public static final String NONE = "none";
    public static final List<String> COLUMNS = List.of("run_id", "layer", "axis", "unit", "metric", "batch_agg",
            "seq_agg", "score", "n_samples", "n_tokens");

    private final Table table;
    private final JsonObject run;
    private Map<String, double[]> index; // "metric|batch|seq|axis|layer" -> scores by unit

    private ImportanceTable(Table table, JsonObject run) {
        for (String c : COLUMNS) {
            if (!table.columnNames().contains(c)) {
                throw new IllegalArgumentException("not an importance table: missing column '" + c + "' (has "
                        + table.columnNames() + ")");
            }
        }
        this.table = table;
        this.run = run;
    }

    /** Wraps a table with the importance columns. */
    public static ImportanceTable of(Table table) {
        return new ImportanceTable(table, null);
    }

    public static ImportanceTable of(Table table, JsonObject run) {
        return new ImportanceTable(table, run);
    }

    /**
     * Loads {@code importance.arrow} (and {@code run.json} if present) from a run directory, or an
     * importance Arrow file directly.
     */
    public static ImportanceTable load(Path dirOrFile) {
        Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve(FILE) : dirOrFile;
        if (!Files.exists(file)) {
            throw new IllegalArgumentException("no importance table at " + file
                    + " (run `minitron importance ... --out DIR` first)");
        }
        Table t = ArrowIo.read(file);
        Path runFile = file.resolveSibling(RUN_FILE);
        JsonObject run = null;
        if (Files.exists(runFile)) {
            try {
                run = Json.parse(Files.readString(runFile)).getAsJsonObject();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + runFile + ": " + e.getMessage(), e);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(runFile + ": not a JSON object: " + e.getMessage(), e);
            }
        }
        try {
            return new ImportanceTable(t, run);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** Writes the table as an Arrow IPC file, atomically (schema metadata: run_id). */
    public void write(Path file) {
        ArrowIo.write(table, file, Map.of("run_id", runId(), "producer", "minitron-workbench importance"));
    }

    public Table table() {
        return table;
    }

    /** The provenance sidecar (run.json), or null if none was loaded. */
    public JsonObject run() {
        return run;
    }

    public String runId() {
        return table.rowCount() == 0 ? "" : table.stringColumn("run_id").get(0);
    }

    /** Distinct metric names, in table order. */
    public List<String> metrics() {
        return new ArrayList<>(new LinkedHashSet<>(table.stringColumn("metric").asList()));
    }

    /** Distinct (metric, batch_agg, seq_agg) triples, in table order. */
    public List<Spec> specs() {
        LinkedHashSet<Spec> s = new LinkedHashSet<>();
        StringColumn m = table.stringColumn("metric");
        StringColumn b = table.stringColumn("batch_agg");
        StringColumn q = table.stringColumn("seq_agg");
        for (int r = 0; r < table.rowCount(); r++) {
            s.add(new Spec(m.get(r), b.get(r), q.get(r)));
        }
        return new ArrayList<>(s);
    }

    /** A metric with its aggregation pair ("none" for metrics without aggregation). */
    public record Spec(String metric, String batchAgg, String seqAgg) {
        @Override
        public String toString() {
            return NONE.equals(batchAgg) ? metric : metric + "(" + batchAgg + "," + seqAgg + ")";
        }
    }

    /** The rows of a metric without aggregations (magnitude, random, taylor, wanda, depth metrics). */
    public View where(String metric) {
        return where(metric, NONE, NONE);
    }

    public View where(String metric, Aggregation batch, Aggregation seq) {
        return where(metric, batch.key(), seq.key());
    }

    /** The rows of one metric and aggregation pair. */
    public View where(String metric, String batchAgg, String seqAgg) {
        return new View(new Spec(metric, batchAgg, seqAgg));
    }

    /** The paper's best activation metric: activation with batch = L2, sequence = mean. */
    public View best() {
        return where(Metric.ACTIVATION.key(), Aggregation.L2, Aggregation.MEAN);
    }

    /**
     * Unit indices of an axis sorted by descending importance, with the default metric: the paper's
     * best activation aggregation for width axes, Block Importance for layers.
     */
    public int[] ranking(String axis, int layer) {
        Axis a = Axis.parse(axis);
        View v = a == Axis.LAYERS ? where(Metric.BLOCK_IMPORTANCE.key()) : best();
        return v.ranking(axis, layer);
    }

    private synchronized Map<String, double[]> index() {
        if (index == null) {
            Map<String, List<int[]>> units = new HashMap<>();
            Map<String, List<Double>> scores = new HashMap<>();
            StringColumn m = table.stringColumn("metric");
            StringColumn b = table.stringColumn("batch_agg");
            StringColumn q = table.stringColumn("seq_agg");
            StringColumn ax = table.stringColumn("axis");
            IntColumn layer = table.intColumn("layer");
            IntColumn unit = table.intColumn("unit");
            DoubleColumn score = table.doubleColumn("score");
            for (int r = 0; r < table.rowCount(); r++) {
                String k = key(m.get(r), b.get(r), q.get(r), ax.get(r), layer.getInt(r));
                units.computeIfAbsent(k, x -> new ArrayList<>()).add(new int[] {unit.getInt(r)});
                scores.computeIfAbsent(k, x -> new ArrayList<>()).add(score.isMissing(r) ? Double.NaN : score.getDouble(r));
            }
            Map<String, double[]> idx = new HashMap<>();
            for (var e : units.entrySet()) {
                List<int[]> us = e.getValue();
                List<Double> ss = scores.get(e.getKey());
                int n = 0;
                for (int[] u : us) n = Math.max(n, u[0] + 1);
                double[] v = new double[n];
                java.util.Arrays.fill(v, Double.NaN);
                for (int i = 0; i < us.size(); i++) v[us.get(i)[0]] = ss.get(i);
                idx.put(e.getKey(), v);
            }
            index = idx;
        }
        return index;
    }

    private static String key(String metric, String batch, String seq, String axis, int layer) {
        return metric + "|" + batch + "|" + seq + "|" + axis + "|" + layer;
    }

    /** One metric + aggregation pair of the table. */
    public final class View {
        private final Spec spec;

        private View(Spec spec) {
            this.spec = spec;
            if (!specs().contains(spec)) {
                throw new IllegalArgumentException("no rows for " + spec + " in importance table "
                        + ImportanceTable.this.runId()
                        + " (has " + specs() + ")");
            }
        }

        public Spec spec() {
            return spec;
        }

        /** The view's rows as a Tablesaw table. */
        public Table table() {
            Selection sel = table.stringColumn("metric").isEqualTo(spec.metric())
                    .and(table.stringColumn("batch_agg").isEqualTo(spec.batchAgg()))
                    .and(table.stringColumn("seq_agg").isEqualTo(spec.seqAgg()));
            return table.where(sel).setName(spec.toString());
        }

        /**
         * Scores of one axis indexed by unit; {@code layer} is ignored for whole-model axes (hidden,
         * layer). Throws naming the axis/layer when the view has none.
         */
        public double[] scores(String axis, int layer) {
            Axis a = Axis.parse(axis);
            int l = a.perLayer() ? layer : -1;
            double[] s = index().get(key(spec.metric(), spec.batchAgg(), spec.seqAgg(), a.key(), l));
            if (s == null) {
                throw new IllegalArgumentException(spec + " has no scores for axis " + a.key()
                        + (a.perLayer() ? " at layer " + layer : ""));
            }
            return s.clone();
        }

        /** True if the view scores this axis (at this layer). */
        public boolean has(String axis, int layer) {
            Axis a = Axis.parse(axis);
            return index().containsKey(key(spec.metric(), spec.batchAgg(), spec.seqAgg(), a.key(),
                    a.perLayer() ? layer : -1));
        }

        /** Unit indices sorted by descending importance: what pruning keeps first. */
        public int[] ranking(String axis, int layer) {
            return RankAgreement.rank(scores(axis, layer));
        }

        /** Layer × unit matrix for heads or mlp; a single row for hidden or layer. */
        public double[][] matrix(String axis) {
            Axis a = Axis.parse(axis);
            if (!a.perLayer()) {
                return new double[][] {scores(axis, -1)};
            }
            List<double[]> rows = new ArrayList<>();
            for (int l = 0; has(axis, l); l++) {
                rows.add(scores(axis, l));
            }
            return rows.toArray(double[][]::new);
        }

        /** The rows of one axis, grouped by layer. */
        public ByLayer byLayer(String axis) {
            return new ByLayer(this, Axis.parse(axis));
        }

        // The shape of prune.UnitScores, so the pruner can consume a view directly.

        public double[] hidden() {
            return scores("hidden", -1);
        }

        public double[] heads(int layer) {
            return scores("heads", layer);
        }

        public double[] mlp(int layer) {
            return scores("mlp", layer);
        }

        public double[] layers() {
            return scores("layer", -1);
        }

        public String runId() {
            return ImportanceTable.this.runId() + ":" + spec;
        }

        @Override
        public String toString() {
            return "ImportanceTable.View[" + runId() + "]";
        }
    }

    /** One axis of a view, per layer. */
    public static final class ByLayer {
        private final View view;
        private final Axis axis;

        private ByLayer(View view, Axis axis) {
            this.view = view;
            this.axis = axis;
        }

        /** All rows of the axis. */
        public Table table() {
            Table t = view.table();
            return t.where(t.stringColumn("axis").isEqualTo(axis.key())).setName(view.spec() + " " + axis.key());
        }

        /** The k highest-scoring units of every layer (layer, unit, score, rank). */
        public Table top(int k) {
            return pick(k, true);
        }

        /** The k lowest-scoring units of every layer: the first to prune. */
        public Table bottom(int k) {
            return pick(k, false);
        }

        /** Layer × unit scores. */
        public double[][] matrix() {
            return view.matrix(axis.key());
        }

        private Table pick(int k, boolean top) {
            IntColumn layer = IntColumn.create("layer");
            IntColumn unit = IntColumn.create("unit");
            DoubleColumn score = DoubleColumn.create("score");
            IntColumn rank = IntColumn.create("rank");
            double[][] mtx = matrix();
            for (int r = 0; r < mtx.length; r++) {
                int[] order = RankAgreement.rank(mtx[r]);
                int n = Math.min(k, order.length);
                for (int i = 0; i < n; i++) {
                    int pos = top ? i : order.length - 1 - i;
                    layer.append(axis.perLayer() ? r : -1);
                    unit.append(order[pos]);
                    score.append(mtx[r][order[pos]]);
                    rank.append(pos + 1);
                }
            }
            return Table.create(view.spec() + " " + axis.key() + (top ? " top " : " bottom ") + k, layer, unit,
                    score, rank);
        }
    }

    // ---- building ----

    /** Collects rows; {@link #build()} gives the table. */
    public static final class Builder {
        private final String runId;
        private final StringColumn run = StringColumn.create("run_id");
        private final IntColumn layer = IntColumn.create("layer");
        private final StringColumn axis = StringColumn.create("axis");
        private final IntColumn unit = IntColumn.create("unit");
        private final StringColumn metric = StringColumn.create("metric");
        private final StringColumn batch = StringColumn.create("batch_agg");
        private final StringColumn seq = StringColumn.create("seq_agg");
        private final DoubleColumn score = DoubleColumn.create("score");
        private final IntColumn samples = IntColumn.create("n_samples");
        private final LongColumn tokens = LongColumn.create("n_tokens");

        public Builder(String runId) {
            this.runId = Objects.requireNonNull(runId);
        }

        /** Adds one row per unit of {@code scores} (units 0..n-1). */
        public Builder add(Axis a, int l, String metricName, String batchAgg, String seqAgg, double[] scores,
                int nSamples, long nTokens) {
            for (int u = 0; u < scores.length; u++) {
                run.append(runId);
                layer.append(a.perLayer() ? l : -1);
                axis.append(a.key());
                unit.append(u);
                metric.append(metricName);
                batch.append(batchAgg);
                seq.append(seqAgg);
                score.append(scores[u]);
                samples.append(nSamples);
                tokens.append(nTokens);
            }
            return this;
        }

        /** Adds every axis an {@link AxisScores} holds. */
        public Builder add(AxisScores s, String metricName, String batchAgg, String seqAgg, int nSamples,
                long nTokens) {
            if (s.heads() != null) {
                for (int l = 0; l < s.heads().length; l++) {
                    add(Axis.HEADS, l, metricName, batchAgg, seqAgg, s.heads()[l], nSamples, nTokens);
                }
            }
            if (s.mlp() != null) {
                for (int l = 0; l < s.mlp().length; l++) {
                    add(Axis.MLP, l, metricName, batchAgg, seqAgg, s.mlp()[l], nSamples, nTokens);
                }
            }
            if (s.hidden() != null) {
                add(Axis.HIDDEN, -1, metricName, batchAgg, seqAgg, s.hidden(), nSamples, nTokens);
            }
            if (s.layers() != null) {
                add(Axis.LAYERS, -1, metricName, batchAgg, seqAgg, s.layers(), nSamples, nTokens);
            }
            return this;
        }

        public ImportanceTable build(JsonObject run) {
            Table t = Table.create("importance", this.run, layer, axis, unit, metric, batch, seq, score, samples,
                    tokens);
            return new ImportanceTable(t, run);
        }
    }
}
