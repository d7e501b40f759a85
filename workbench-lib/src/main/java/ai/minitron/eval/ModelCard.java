package ai.minitron.eval;

import ai.minitron.io.Json;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.io.AtomicFiles;
import ai.minitron.stats.ArrowIo;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The evaluation part of a checkpoint's model card, in the Hugging Face layout where a model
 * directory's {@code README.md} is its card:
 *
 * <ul>
 *   <li>{@code eval_results.json} — every {@link EvalRecord} (task, metric, value, stderr, n,
 *       protocol, source), the source of truth; new results replace old ones with the same task, metric
 *       and protocol, others are kept, so several {@code eval}/{@code eval-tasks} runs accumulate;
 *   <li>{@code eval_results.arrow} — the same rows as an Arrow table (pyarrow, pandas, Tablesaw);
 *   <li>{@code README.md} — a results table with each number's protocol, between the markers
 *       {@value #BEGIN} and {@value #END}. An existing README keeps everything outside the markers
 *       (the section is appended when it has none); a missing one is created with a short header
 *       describing the architecture when {@code config.json} is present.
 * </ul>
 *
 * All files are written atomically. Nothing here depends on the clock, so the card is reproducible.
 */
public final class ModelCard {
    private ModelCard() {}

    public static final String BEGIN = "<!-- minitron-eval:begin -->";
    public static final String END = "<!-- minitron-eval:end -->";
    public static final String RESULTS_JSON = "eval_results.json";
    public static final String RESULTS_ARROW = "eval_results.arrow";

    /** Merges {@code results} into the card of {@code dir} (created if needed) and rewrites its three files. */
    public static List<EvalRecord> update(Path dir, List<EvalRecord> results) {
        Map<String, EvalRecord> merged = new LinkedHashMap<>();
        for (EvalRecord r : readResults(dir)) {
            merged.put(r.key(), r);
        }
        for (EvalRecord r : results) {
            merged.remove(r.key()); // a re-measured number moves to the end, in the order it was reported
            merged.put(r.key(), r);
        }
        List<EvalRecord> all = List.copyOf(merged.values());
        write(dir, all);
        return all;
    }

    /** Writes the card's three files for exactly these results. */
    public static void write(Path dir, List<EvalRecord> results) {
        try {
            Files.createDirectories(dir);
            AtomicFiles.writeString(dir.resolve(RESULTS_JSON), toJson(results) + "\n");
            ArrowIo.write(table(results), dir.resolve(RESULTS_ARROW), Map.of("producer", "minitron-workbench ModelCard"));
            replaceSection(dir, BEGIN, END, section(results));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the model card in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Puts {@code section} (which starts with {@code begin} and ends with {@code end}) into
     * {@code dir/README.md}: in place of the old section between the same markers, else appended; a
     * missing README is created with the architecture header. Everything else in the file is kept.
     */
    static void replaceSection(Path dir, String begin, String end, String section) throws IOException {
        Path readme = dir.resolve("README.md");
        String text;
        if (Files.isRegularFile(readme)) {
            String old = Files.readString(readme, StandardCharsets.UTF_8);
            int b = old.indexOf(begin);
            int e = old.indexOf(end);
            if (b >= 0 && e > b) {
                text = old.substring(0, b) + section + old.substring(e + end.length());
            } else {
                text = old + (old.endsWith("\n") ? "\n" : "\n\n") + section + "\n";
            }
        } else {
            text = header(dir) + section + "\n";
        }
        AtomicFiles.writeString(readme, text);
    }

    /** The results recorded in {@code dir/eval_results.json}, or none. */
    public static List<EvalRecord> readResults(Path dir) {
        Path file = dir.resolve(RESULTS_JSON);
        if (!Files.isRegularFile(file)) {
            return List.of();
        }
        try {
            JsonElement root = Json.parse(Files.readString(file, StandardCharsets.UTF_8));
            List<EvalRecord> out = new ArrayList<>();
            for (JsonElement e : root.getAsJsonObject().getAsJsonArray("results")) {
                JsonObject o = e.getAsJsonObject();
                out.add(new EvalRecord(o.get("task").getAsString(), o.get("metric").getAsString(),
                        number(o, "value"), number(o, "stderr"), o.get("n").getAsLong(),
                        o.get("protocol").getAsString(), o.has("source") ? o.get("source").getAsString() : ""));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (JsonParseException | IllegalStateException | ClassCastException | NullPointerException | UnsupportedOperationException e) {
            throw new IllegalArgumentException(file + ": not a minitron eval results file (" + e.getMessage() + ")", e);
        }
    }

    /** The results as a Tablesaw table (columns task, metric, value, stderr, n, protocol, source). */
    public static Table table(List<EvalRecord> results) {
        StringColumn task = StringColumn.create("task");
        StringColumn metric = StringColumn.create("metric");
        DoubleColumn value = DoubleColumn.create("value");
        DoubleColumn stderr = DoubleColumn.create("stderr");
        LongColumn n = LongColumn.create("n");
        StringColumn protocol = StringColumn.create("protocol");
        StringColumn source = StringColumn.create("source");
        for (EvalRecord r : results) {
            task.append(r.task());
            metric.append(r.metric());
            value.append(r.value());
            stderr.append(r.stderr());
            n.append(r.n());
            protocol.append(r.protocol());
            source.append(r.source());
        }
        return Table.create("eval_results", task, metric, value, stderr, n, protocol, source);
    }

    /** The README section: a table of numbers, each with its protocol. */
    public static String section(List<EvalRecord> results) {
        StringBuilder sb = new StringBuilder();
        sb.append(BEGIN).append('\n');
        sb.append("## Evaluation\n\n");
        sb.append("Measured with minitron-workbench (`minitron eval`, `minitron eval-tasks`). Every number states its protocol;"
                + " ± is the standard error of the mean (lm-evaluation-harness convention). Raw rows: `")
                .append(RESULTS_JSON).append("`, `").append(RESULTS_ARROW).append("`.\n\n");
        sb.append("| task | metric | value | ± | n | data | protocol |\n");
        sb.append("|---|---|---:|---:|---:|---|---|\n");
        for (EvalRecord r : results) {
            sb.append("| ").append(cell(r.task())).append(" | ").append(cell(r.metric())).append(" | ")
                    .append(format(r.value())).append(" | ").append(Double.isNaN(r.stderr()) ? "" : format(r.stderr()))
                    .append(" | ").append(String.format(Locale.ROOT, "%,d", r.n())).append(" | ").append(cell(r.source()))
                    .append(" | ").append(cell(r.protocol())).append(" |\n");
        }
        sb.append(END);
        return sb.toString();
    }

    private static String header(Path dir) {
        StringBuilder sb = new StringBuilder();
        Path name = dir.toAbsolutePath().normalize().getFileName();
        sb.append("# ").append(name == null ? "model" : name).append("\n\n");
        Path config = dir.resolve("config.json");
        if (Files.isRegularFile(config)) {
            try {
                ModelConfig c = ModelConfig.load(config);
                ParamCount pc = ParamCount.of(c);
                sb.append(String.format(Locale.ROOT,
                        "%s: %d layers, hidden %d, %d attention heads (%d KV), head_dim %d, MLP %d, vocab %,d, context %d;"
                                + " %,d parameters (%,d non-embedding).%n%n",
                        c.architecture(), c.numHiddenLayers(), c.hiddenSize(), c.numAttentionHeads(), c.numKeyValueHeads(),
                        c.headDim(), c.intermediateSize(), c.vocabSize(), c.maxPositionEmbeddings(), pc.total(), pc.nonEmbedding()));
            } catch (RuntimeException e) {
                sb.append("(config.json could not be read: ").append(e.getMessage()).append(")\n\n");
            }
        }
        return sb.toString();
    }

    private static String toJson(List<EvalRecord> results) {
        Gson gson = new GsonBuilder().disableHtmlEscaping().setPrettyPrinting().serializeSpecialFloatingPointValues().create();
        JsonArray rows = new JsonArray();
        for (EvalRecord r : results) {
            JsonObject o = new JsonObject();
            o.addProperty("task", r.task());
            o.addProperty("metric", r.metric());
            o.addProperty("value", r.value());
            if (!Double.isNaN(r.stderr())) {
                o.addProperty("stderr", r.stderr());
            }
            o.addProperty("n", r.n());
            o.addProperty("protocol", r.protocol());
            o.addProperty("source", r.source());
            rows.add(o);
        }
        JsonObject root = new JsonObject();
        root.addProperty("producer", "minitron-workbench");
        root.add("results", rows);
        return gson.toJson(root);
    }

    private static double number(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? Double.NaN : e.getAsDouble();
    }

    private static String format(double v) {
        if (Double.isNaN(v)) {
            return "";
        }
        return Math.abs(v) >= 1000 ? String.format(Locale.ROOT, "%,.1f", v) : String.format(Locale.ROOT, "%.4f", v);
    }

    private static String cell(String s) {
        return s == null ? "" : s.replace("|", "\\|").replace("\n", " ");
    }
}
