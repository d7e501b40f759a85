package ai.minitron.eval;

import ai.minitron.io.AtomicFiles;
import ai.minitron.stats.ArrowIo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Several models evaluated on the same tasks, side by side: the comparison a pruning study ends with
 * (teacher vs pruned vs distilled). The long form (one row per model, task, metric and protocol) is
 * the data — {@link #table()}, {@code report.arrow}; the wide form (one row per task, metric and
 * protocol, one column per model, "value ± stderr") is for reading — {@link #markdown()},
 * {@link #html()}. Rows keep the order in which tasks were first reported.
 */
public final class Report {
    private final Map<String, List<EvalRecord>> byModel = new LinkedHashMap<>();

    /** Adds (or replaces) the results of one model, under a display name unique in this report. */
    public Report add(String model, List<EvalRecord> results) {
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("a report's model name must not be empty");
        }
        byModel.put(model, List.copyOf(results));
        return this;
    }

    public List<String> models() {
        return List.copyOf(byModel.keySet());
    }

    /** Long form: columns model, task, metric, protocol, value, stderr, n, source. */
    public Table table() {
        StringColumn model = StringColumn.create("model");
        StringColumn task = StringColumn.create("task");
        StringColumn metric = StringColumn.create("metric");
        StringColumn protocol = StringColumn.create("protocol");
        DoubleColumn value = DoubleColumn.create("value");
        DoubleColumn stderr = DoubleColumn.create("stderr");
        LongColumn n = LongColumn.create("n");
        StringColumn source = StringColumn.create("source");
        byModel.forEach((name, rs) -> {
            for (EvalRecord r : rs) {
                model.append(name);
                task.append(r.task());
                metric.append(r.metric());
                protocol.append(r.protocol());
                value.append(r.value());
                stderr.append(r.stderr());
                n.append(r.n());
                source.append(r.source());
            }
        });
        return Table.create("eval_report", model, task, metric, protocol, value, stderr, n, source);
    }

    /** Wide form as a Markdown table; a protocol legend follows the table. */
    public String markdown() {
        List<String> models = models();
        List<String> protocols = protocols();
        StringBuilder sb = new StringBuilder();
        sb.append("| task | metric |");
        models.forEach(mo -> sb.append(' ').append(cell(mo)).append(" |"));
        sb.append(" protocol |\n|---|---|");
        models.forEach(mo -> sb.append("---:|"));
        sb.append("---|\n");
        for (String[] row : rowKeys()) {
            sb.append("| ").append(cell(row[0])).append(" | ").append(cell(row[1])).append(" |");
            for (String mo : models) {
                sb.append(' ').append(valueCell(find(mo, row))).append(" |");
            }
            sb.append(" P").append(protocols.indexOf(row[2]) + 1).append(" |\n");
        }
        sb.append('\n');
        for (int i = 0; i < protocols.size(); i++) {
            sb.append("- P").append(i + 1).append(": ").append(protocols.get(i)).append('\n');
        }
        sb.append("\n± is the standard error of the mean (lm-evaluation-harness convention); blank when not defined.\n");
        return sb.toString();
    }

    /** Wide form as a standalone HTML page. */
    public String html() {
        List<String> models = models();
        List<String> protocols = protocols();
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>minitron eval report</title>\n")
                .append("<style>table{border-collapse:collapse;font-family:sans-serif}td,th{border:1px solid #ccc;"
                        + "padding:3px 8px}td.v{text-align:right;font-variant-numeric:tabular-nums}</style></head><body>\n")
                .append("<table>\n<tr><th>task</th><th>metric</th>");
        models.forEach(mo -> sb.append("<th>").append(escape(mo)).append("</th>"));
        sb.append("<th>protocol</th></tr>\n");
        for (String[] row : rowKeys()) {
            sb.append("<tr><td>").append(escape(row[0])).append("</td><td>").append(escape(row[1])).append("</td>");
            for (String mo : models) {
                sb.append("<td class=\"v\">").append(escape(valueCell(find(mo, row)))).append("</td>");
            }
            sb.append("<td>P").append(protocols.indexOf(row[2]) + 1).append("</td></tr>\n");
        }
        sb.append("</table>\n<ul>\n");
        for (int i = 0; i < protocols.size(); i++) {
            sb.append("<li>P").append(i + 1).append(": ").append(escape(protocols.get(i))).append("</li>\n");
        }
        sb.append("</ul>\n<p>± is the standard error of the mean (lm-evaluation-harness convention).</p>\n</body></html>\n");
        return sb.toString();
    }

    /** Writes {@code report.arrow}, {@code report.md} and {@code report.html} into {@code dir}, atomically. */
    public void write(Path dir) {
        try {
            Files.createDirectories(dir);
            ArrowIo.write(table(), dir.resolve("report.arrow"), Map.of("models", String.join(",", models())));
            AtomicFiles.writeString(dir.resolve("report.md"), "# Evaluation report\n\n" + markdown());
            AtomicFiles.writeString(dir.resolve("report.html"), html());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report into " + dir + ": " + e.getMessage(), e);
        }
    }

    /** (task, metric, protocol) in first-seen order across models. */
    private List<String[]> rowKeys() {
        Set<String> seen = new LinkedHashSet<>();
        List<String[]> keys = new ArrayList<>();
        for (List<EvalRecord> rs : byModel.values()) {
            for (EvalRecord r : rs) {
                if (seen.add(r.key())) {
                    keys.add(new String[] {r.task(), r.metric(), r.protocol()});
                }
            }
        }
        return keys;
    }

    private List<String> protocols() {
        return rowKeys().stream().map(k -> k[2]).distinct().toList();
    }

    private EvalRecord find(String model, String[] key) {
        for (EvalRecord r : byModel.get(model)) {
            if (r.task().equals(key[0]) && r.metric().equals(key[1]) && r.protocol().equals(key[2])) {
                return r;
            }
        }
        return null;
    }

    static String valueCell(EvalRecord r) {
        if (r == null || Double.isNaN(r.value())) {
            return "";
        }
        String v = Math.abs(r.value()) >= 1000 ? String.format(Locale.ROOT, "%,.1f", r.value())
                : String.format(Locale.ROOT, "%.4f", r.value());
        return Double.isNaN(r.stderr()) ? v : v + " ± " + String.format(Locale.ROOT, "%.4f", r.stderr());
    }

    private static String cell(String s) {
        return s.replace("|", "\\|").replace("\n", " ");
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
