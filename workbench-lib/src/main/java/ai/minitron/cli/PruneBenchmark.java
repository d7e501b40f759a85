package ai.minitron.cli;

import ai.minitron.config.Architecture;
import ai.minitron.config.Axis;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.config.TensorSchema;
import ai.minitron.importance.AxisScores;
import ai.minitron.importance.ImportanceTable;
import ai.minitron.io.AtomicFiles;
import ai.minitron.io.FileTrees;
import ai.minitron.io.OutputDir;
import ai.minitron.io.SafeTensors;
import ai.minitron.io.StreamedTensor;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Provenance;
import ai.minitron.prune.CheckpointPruner;
import ai.minitron.prune.KeepSet;
import ai.minitron.prune.PrunePlan;
import ai.minitron.prune.Pruner;
import ai.minitron.prune.UnitScores;
import ai.minitron.progress.Progress;
import ai.minitron.train.NativeMemory;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code minitron bench --prune-8b}: the streaming pruner on a real model size (issue 17). Writes a random
 * BF16 checkpoint of Llama-3.1-8B's shapes in 5 GB shards (or reuses it; about 16 GB; random finite BF16
 * bits drawn by a xorshift generator into one small buffer, written streaming), a synthetic importance run
 * for it (seeded random scores, in the files {@code minitron prune} reads), then prunes it to the
 * Llama-3.1-Minitron-4B-Width shape (hidden 3072, MLP 9216, 32 heads over 8 KV groups, 32 layers) and to the
 * Depth shape (16 layers): once through the library ({@link CheckpointPruner}, the pruning proper) and
 * once as the whole {@code minitron prune} command (which also hashes the parent for provenance and every
 * output file for its folder marker). Reports wall time, bytes written per second, peak resident memory
 * (VmHWM, reset before each step), peak native memory in use (malloc, sampled) and peak Java heap, beside
 * {@code cp} (and {@code cp} + {@code sync}) of the same number of bytes of the parent's shards, measured in
 * the same run. Not a test: numbers depend on the disk and on what else runs.
 */
final class PruneBenchmark {
    private PruneBenchmark() {}

    /** Llama-3.1-8B's shapes (rope_scaling left out: the workbench does not read it yet, and nothing runs here). */
    static ModelConfig llama8b() {
        return ModelConfig.builder(Architecture.LLAMA).vocabSize(128256).hiddenSize(4096).intermediateSize(14336)
                .numHiddenLayers(32).numAttentionHeads(32).numKeyValueHeads(8).headDim(128)
                .maxPositionEmbeddings(131072).ropeTheta(500000).normEps(1e-5).build();
    }

    /** A small stand-in with the same ratios (for trying the benchmark quickly; --small). */
    static ModelConfig small() {
        return ModelConfig.builder(Architecture.LLAMA).vocabSize(16032).hiddenSize(512).intermediateSize(1792)
                .numHiddenLayers(8).numAttentionHeads(32).numKeyValueHeads(8).headDim(16)
                .maxPositionEmbeddings(4096).ropeTheta(500000).normEps(1e-5).build();
    }

    /** One measured step. */
    record Step(String name, double seconds, long bytes, long peakRssKb, long peakNativeBytes, long peakHeapBytes) {
        String row() {
            return String.format(Locale.ROOT, "%-34s %9.1f %10.2f %10.0f %11s %11s %11s", name, seconds, bytes / 1e9,
                    bytes / 1e6 / seconds, mb(peakRssKb < 0 ? -1 : peakRssKb * 1024), mb(peakNativeBytes),
                    mb(peakHeapBytes));
        }
    }

    static int run(Path dir, boolean smallShape) throws Exception {
        ModelConfig pc = smallShape ? small() : llama8b();
        int hidden = pc.hiddenSize() * 3 / 4;
        int mlp = pc.intermediateSize() * 9216 / 14336;
        int layers = pc.numHiddenLayers() / 2;
        Path parent = dir.resolve("parent");
        Path importance = dir.resolve("importance");
        Files.createDirectories(dir);
        long largest = TensorSchema.expectedShapes(pc).values().stream().mapToLong(TensorSchema::numel).max().orElse(0) * 2;
        System.out.printf(Locale.ROOT, "parent: %s shapes, %,d parameters, BF16 (%.2f GB; largest tensor %.2f GB) in %s%n",
                smallShape ? "small Llama-3.1-like" : "Llama-3.1-8B", ParamCount.of(pc).total(),
                ParamCount.of(pc).total() * 2 / 1e9, largest / 1e9, parent);
        System.out.printf("disk: %s; load: %s%n", command("df", "-h", dir.toString()).lines().reduce((a, b) -> b).orElse("?"),
                command("uptime").strip());
        List<Step> steps = new ArrayList<>();
        String of = "random BF16 " + (smallShape ? "small" : "llama-3.1-8b") + " seed 1";
        JsonObject marker = Files.isDirectory(parent) ? OutputDir.readMarker(parent) : null;
        if (marker != null && marker.get("complete").getAsBoolean() && of.equals(marker.get("of").getAsString())) {
            System.out.println("reusing the parent checkpoint (delete " + parent + " to write it again)");
        } else {
            steps.add(measure("write random parent", () -> {
                OutputDir.replace(parent, "bench-checkpoint", of, tmp -> writeRandom(pc, tmp, 1));
                return weightBytes(parent);
            }));
        }
        String[] hash = new String[1];
        steps.add(measure("hash parent (provenance)", () -> {
            hash[0] = Provenance.checkpointHash(parent);
            return weightBytes(parent);
        }));
        writeImportance(pc, importance, parent, hash[0]);

        KeepSet width = Pruner.select(pc, PrunePlan.keepAll().withHidden(hidden).withMlp(mlp), scores(importance));
        KeepSet depth = Pruner.select(pc, PrunePlan.keepAll().withLayers(layers, PrunePlan.Depth.LOWEST),
                scores(importance));
        Path out = dir.resolve("out");
        for (var e : Map.of("width", width, "depth", depth).entrySet().stream().sorted(Map.Entry.comparingByKey()).toList()) {
            FileTrees.delete(out);
            steps.add(measure("prune " + e.getKey() + " (library, stream)", () -> CheckpointPruner.write(parent, pc,
                    e.getValue(), PrunePlan.keepAll(), null, out, LanguageModel.DEFAULT_MAX_SHARD_BYTES,
                    CheckpointPruner.DEFAULT_BLOCK_BYTES, Progress.NONE).bytesWritten()));
            FileTrees.delete(out);
            String[] shape = e.getKey().equals("width")
                    ? new String[] {"--hidden", "" + hidden, "--mlp", "" + mlp}
                    : new String[] {"--layers", "" + layers};
            steps.add(measure("minitron prune " + e.getKey() + " (command)", () -> {
                List<String> args = new ArrayList<>(List.of("prune", "--model", parent.toString(), "--importance",
                        importance.toString(), "--out", out.toString(), "--force"));
                args.addAll(List.of(shape));
                int code = Main.run(args.toArray(String[]::new));
                if (code != 0) {
                    throw new IllegalStateException("minitron prune exited with " + code);
                }
                return weightBytes(out);
            }));
            FileTrees.delete(out);
        }
        long written = steps.stream().filter(s -> s.name().startsWith("prune width")).mapToLong(Step::bytes).sum();
        steps.addAll(copyBaseline(parent, dir.resolve("cp"), written));

        System.out.printf("%-34s %9s %10s %10s %11s %11s %11s%n", "step", "seconds", "GB", "MB/s", "peak RSS",
                "peak native", "peak heap");
        steps.forEach(s -> System.out.println(s.row()));
        Step cp = steps.stream().filter(s -> s.name().startsWith("cp ")).findFirst().orElseThrow();
        Step cpSync = steps.stream().filter(s -> s.name().startsWith("cp + sync")).findFirst().orElseThrow();
        for (Step s : steps) {
            if (s.name().startsWith("prune") || s.name().startsWith("minitron prune")) {
                double cpTime = s.bytes() / (cp.bytes() / cp.seconds());
                double cpSyncTime = s.bytes() / (cpSync.bytes() / cpSync.seconds());
                System.out.printf(Locale.ROOT, "%-34s %.2fx cp, %.2fx cp + sync of the same bytes; peak RSS %.2f GB"
                        + " (goal <= 2 GB + largest tensor = %.2f GB)%n", s.name(), s.seconds() / cpTime,
                        s.seconds() / cpSyncTime, s.peakRssKb() / 1e6 * 1.024, 2.147483648 + largest / 1e9);
            }
        }
        System.out.println("load after: " + command("uptime").strip());
        return 0;
    }

    /** A step's wall time, bytes, and the peaks of resident set, malloc in use (sampled every 2 ms) and Java heap. */
    private static Step measure(String name, Callable<Long> body) throws Exception {
        System.gc();
        NativeMemory.resetPeakRss();
        List<MemoryPoolMXBean> heap = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == MemoryType.HEAP).toList();
        heap.forEach(MemoryPoolMXBean::resetPeakUsage);
        long[] peakNative = {NativeMemory.mallocInUseBytes()};
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                peakNative[0] = Math.max(peakNative[0], NativeMemory.mallocInUseBytes());
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "native-sampler");
        sampler.setDaemon(true);
        sampler.start();
        System.err.println("bench: " + name + "...");
        long t0 = System.nanoTime();
        long bytes;
        try {
            bytes = body.call();
        } finally {
            sampler.interrupt();
            sampler.join();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        long heapPeak = heap.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
        return new Step(name, secs, bytes, NativeMemory.peakRssKb(), peakNative[0], heapPeak);
    }

    /** cp, then cp + sync, of whole parent shards holding at least {@code bytes} (rates scale to equal bytes). */
    private static List<Step> copyBaseline(Path parent, Path dst, long bytes) throws Exception {
        List<String> files = new ArrayList<>();
        long total = 0;
        for (Path f : weightFiles(parent)) {
            if (total >= bytes) {
                break;
            }
            files.add(f.toString());
            total += Files.size(f);
        }
        long copied = total;
        List<Step> out = new ArrayList<>();
        for (boolean sync : new boolean[] {false, true}) {
            FileTrees.delete(dst);
            Files.createDirectories(dst);
            out.add(measure(sync ? "cp + sync (same run)" : "cp (same run)", () -> {
                List<String> cp = new ArrayList<>(List.of("cp"));
                cp.addAll(files);
                cp.add(dst.toString());
                command(cp.toArray(String[]::new));
                if (sync) {
                    List<String> s = new ArrayList<>(List.of("sync"));
                    try (Stream<Path> l = Files.list(dst)) {
                        l.forEach(p -> s.add(p.toString()));
                    }
                    command(s.toArray(String[]::new));
                }
                return copied;
            }));
        }
        FileTrees.delete(dst);
        // cp's memory is its own process's, not this one's: no peaks to report
        return out.stream().map(s -> new Step(s.name(), s.seconds(), s.bytes(), -1, -1, -1)).toList();
    }

    /**
     * Writes a random checkpoint of {@code c} in BF16 (5 GB shards + index, config.json), streaming: every
     * tensor is drawn into one 8 MB buffer by xorshift64, each 16-bit lane a finite BF16 of magnitude in
     * [2^-7, 2^-3) with a random sign.
     */
    static void writeRandom(ModelConfig c, Path dir, long seed) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(8 << 20).order(ByteOrder.LITTLE_ENDIAN);
        long[] state = {seed * 0x9E3779B97F4A7C15L | 1};
        List<StreamedTensor> tensors = new ArrayList<>();
        for (var e : TensorSchema.expectedShapes(c).entrySet()) {
            tensors.add(new StreamedTensor(e.getKey(), TensorDType.BF16, e.getValue(), ch -> {
                long left = TensorSchema.numel(e.getValue()) * 2;
                long x = state[0];
                while (left > 0) {
                    buf.clear();
                    int n = (int) Math.min(buf.capacity(), left);
                    for (int b = 0; b + 8 <= n; b += 8) {
                        x ^= x << 13;
                        x ^= x >>> 7;
                        x ^= x << 17;
                        // each lane: sign bit 15, mantissa bits 0-6 and two exponent bits 7-8 at random; + exponent 120
                        buf.putLong(b, (x & 0x81FF81FF81FF81FFL) + 0x3C003C003C003C00L);
                    }
                    for (int b = n / 8 * 8; b < n; b += 2) {
                        buf.putShort(b, (short) 0x3C00);
                    }
                    buf.limit(n);
                    AtomicFiles.writeFully(ch, buf);
                    left -= n;
                }
                state[0] = x;
            }));
        }
        SafeTensors.writeShardedStreamed(dir, tensors, LanguageModel.DEFAULT_MAX_SHARD_BYTES, Map.of("format", "pt"));
        AtomicFiles.writeString(dir.resolve("config.json"), c.withTorchDtype("bfloat16").toJsonString() + "\n");
    }

    /**
     * A synthetic importance run for the parent, in the files {@code minitron prune} reads: seeded random
     * activation scores (l2 over the batch, mean over the sequence) for heads, MLP neurons and hidden
     * channels, and random block-importance layer scores; run.json names the parent by its hash.
     */
    private static void writeImportance(ModelConfig c, Path dir, Path parent, String parentHash) {
        AxisScores r = AxisScores.random(c, 17);
        String runId = "synthetic-random-17";
        ImportanceTable.Builder b = new ImportanceTable.Builder(runId);
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            b.add(Axis.HEADS, l, "activation", "l2", "mean", r.heads()[l], 0, 0);
            b.add(Axis.MLP, l, "activation", "l2", "mean", r.mlp()[l], 0, 0);
        }
        b.add(Axis.HIDDEN, -1, "activation", "l2", "mean", r.hidden(), 0, 0);
        b.add(Axis.LAYERS, -1, "block_importance", ImportanceTable.NONE, ImportanceTable.NONE, r.layers(), 0, 0);
        JsonObject run = new JsonObject();
        run.addProperty("run_id", runId);
        run.addProperty("synthetic", "random scores for minitron bench --prune-8b; no model was run");
        JsonObject model = new JsonObject();
        model.addProperty("sha256", parentHash);
        model.addProperty("dir", parent.toString());
        run.add("model", model);
        ImportanceTable t = b.build(run);
        OutputDir.replace(dir, OutputKind.IMPORTANCE.key, parentHash, tmp -> {
            t.write(tmp.resolve(ImportanceTable.FILE));
            AtomicFiles.writeString(tmp.resolve(ImportanceTable.RUN_FILE), run + "\n");
        });
    }

    private static UnitScores scores(Path importance) {
        ImportanceTable t = ImportanceTable.load(importance);
        return UnitScores.of(t.where("activation", "l2", "mean"), t.where("block_importance"));
    }

    private static List<Path> weightFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        }
    }

    private static long weightBytes(Path dir) throws IOException {
        long n = 0;
        for (Path f : weightFiles(dir)) {
            n += Files.size(f);
        }
        return n;
    }

    private static String command(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed: " + text);
            }
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException(String.join(" ", cmd) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(String.join(" ", cmd) + " interrupted", e);
        }
    }

    private static String mb(long bytes) {
        return bytes < 0 ? "n/a" : String.format(Locale.ROOT, "%,d MB", bytes >> 20);
    }
}
