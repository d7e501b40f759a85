package ai.minitron.bench;

import ai.minitron.io.AtomicFiles;
import ai.minitron.stats.ArrowIo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The peer benchmark's results as an Arrow table ({@code peer.arrow}: one row per workload, the run's conditions
 * in the schema metadata) and a Markdown table ({@code peer.md}: the same rows under a line of conditions), both
 * written atomically into the output folder.
 */
public final class PeerReport {
    private PeerReport() {}

    /** The run's conditions: load average, CPU, versions, threads, busy loops (what a number needs beside it). */
    public static Map<String, String> conditions(PeerBenchmark.Result r, int threads, int busy, String loadBefore,
            String loadAfter, Map<String, String> engine) {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("cpu", cpuModel());
        c.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
        c.put("threads", Integer.toString(threads));
        c.put("busy_loops", Integer.toString(busy));
        c.put("load_before", loadBefore);
        c.put("load_after", loadAfter);
        c.put("omp_wait_policy", System.getenv().getOrDefault("OMP_WAIT_POLICY", ""));
        c.put("java", System.getProperty("java.version"));
        c.putAll(engine);
        for (var e : r.peerInfo().entrySet()) {
            c.put("peer_" + e.getKey(), e.getValue());
        }
        c.put("matmul_gflops_ours", String.format(Locale.ROOT, "%.1f", r.oursMatmulGflops()));
        c.put("matmul_gflops_pytorch", String.format(Locale.ROOT, "%.1f", r.peerMatmulGflops()));
        return c;
    }

    public static Table table(List<PeerBenchmark.Row> rows) {
        Table t = Table.create("peer benchmark",
                StringColumn.create("workload"), StringColumn.create("model"), IntColumn.create("batch"),
                IntColumn.create("seq_len"), DoubleColumn.create("ours_tokens_per_s"),
                DoubleColumn.create("pytorch_tokens_per_s"), DoubleColumn.create("ratio"),
                DoubleColumn.create("ours_gflops"), DoubleColumn.create("fraction_of_matmul"),
                StringColumn.create("breakdown"));
        for (PeerBenchmark.Row r : rows) {
            t.stringColumn("workload").append(r.workload());
            t.stringColumn("model").append(r.model());
            t.intColumn("batch").append(r.batch());
            t.intColumn("seq_len").append(r.seqLen());
            t.doubleColumn("ours_tokens_per_s").append(r.oursTokensPerSecond());
            t.doubleColumn("pytorch_tokens_per_s").append(r.peerTokensPerSecond());
            t.doubleColumn("ratio").append(r.ratio());
            t.doubleColumn("ours_gflops").append(r.oursGflops());
            t.doubleColumn("fraction_of_matmul").append(r.ceilingFraction());
            t.stringColumn("breakdown").append(r.breakdown());
        }
        return t;
    }

    public static String markdown(List<PeerBenchmark.Row> rows, Map<String, String> conditions) {
        StringBuilder sb = new StringBuilder();
        sb.append("Conditions: ");
        conditions.forEach((k, v) -> sb.append(k).append(" = ").append(v).append("; "));
        sb.setLength(sb.length() - 2);
        sb.append("\n\n| workload | model | batch x seq | ours tok/s | PyTorch tok/s | ours / PyTorch | of matmul | notes |\n");
        sb.append("|---|---|---|---|---|---|---|---|\n");
        for (PeerBenchmark.Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %s | %d x %d | %s | %s | %s | %s | %s |%n", r.workload(),
                    r.model(), r.batch(), r.seqLen(), num(r.oursTokensPerSecond(), 1), num(r.peerTokensPerSecond(), 1),
                    num(r.ratio(), 2), num(r.ceilingFraction(), 2), r.breakdown()));
        }
        return sb.toString();
    }

    /** Writes {@code peer.arrow} and {@code peer.md} into {@code dir} (created if needed). */
    public static void write(Path dir, List<PeerBenchmark.Row> rows, Map<String, String> conditions) {
        try {
            Files.createDirectories(dir);
            ArrowIo.write(table(rows), dir.resolve("peer.arrow"), conditions);
            AtomicFiles.writeString(dir.resolve("peer.md"), markdown(rows, conditions));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the benchmark results into " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The 1-, 5- and 15-minute load averages ("?" where /proc/loadavg is missing). */
    public static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }

    private static String num(double v, int digits) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%." + digits + "f", v);
    }
}
