package ai.minitron.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.bench.BusyLoad;
import ai.minitron.bench.PeerBenchmark;
import ai.minitron.bench.PeerProcess;
import ai.minitron.bench.PeerReport;
import ai.minitron.config.ModelConfig;
import ai.minitron.io.TensorDType;
import ai.minitron.io.gguf.GgufFile;
import ai.minitron.model.EngineThreads;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code minitron bench --peer}: prepares what {@link PeerBenchmark} needs (the SmolLM2 checkpoint, converted
 * once from the pinned GGUF; the PyTorch venv; the busy loops of the contended mode), runs it and presents the
 * table. The repository root is found upwards from the working directory (it holds tools/peer_bench.py).
 */
final class PeerBench {
    private PeerBench() {}

    static final String GGUF = "cache/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf";

    static int run(BenchCommand o) throws Exception {
        Path root = repoRoot();
        int threads = o.threads != null ? o.threads : EngineThreads.threads();
        Path work = o.out.resolve("work");
        Files.createDirectories(work);
        Path smol = o.smol;
        if (smol == null) {
            smol = o.smoke ? tinyModel(work.resolve("tiny")) : smolLm2(root);
        }
        Path teacher = o.teacherDir.isAbsolute() || Files.isDirectory(o.teacherDir) ? o.teacherDir
                : root.resolve(o.teacherDir);
        PeerBenchmark.Shapes shapes = o.smoke ? PeerBenchmark.Shapes.smoke() : PeerBenchmark.Shapes.full(o.repeats);
        Map<String, String> engine = new LinkedHashMap<>();
        engine.put("engine", Engine.getInstance().getEngineName() + " " + Engine.getInstance().getVersion()
                + " (DJL " + Engine.getDjlVersion() + ")");
        String loadBefore = PeerReport.loadAverage();
        PeerBenchmark.Result r;
        Map<String, String> env = Map.of("OMP_WAIT_POLICY", EngineThreads.waitPolicy().isEmpty() ? "ACTIVE"
                : EngineThreads.waitPolicy());
        try (PeerProcess peer = o.oursOnly ? null : PeerProcess.start(PeerProcess.ensureVenv(root.resolve("cache/venv-peer"),
                root.resolve("tools/requirements-peer.txt")), root.resolve("tools/peer_bench.py"), env);
                BusyLoad busy = new BusyLoad(o.busy)) {
            System.err.printf("bench --peer: %d thread(s), %d busy loop(s), load %s; SmolLM2 %s, teacher %s%n", threads,
                    busy.count(), loadBefore, smol, teacher);
            r = PeerBenchmark.run(new PeerBenchmark.Options(smol, o.smoke && o.smol == null ? "tiny random Llama" : "SmolLM2-135M", teacher, work, threads, shapes, peer));
        }
        String loadAfter = PeerReport.loadAverage();
        Map<String, String> cond = PeerReport.conditions(r, threads, o.busy, loadBefore, loadAfter, engine);
        PeerReport.write(o.out, r.rows(), cond);
        System.out.println(PeerReport.markdown(r.rows(), cond));
        System.out.println("wrote " + o.out.resolve("peer.arrow") + " and " + o.out.resolve("peer.md"));
        return 0;
    }

    /** The F32 conversion of the pinned SmolLM2 GGUF under cache/bench/peer (made on first use). */
    private static Path smolLm2(Path root) throws Exception {
        Path dir = root.resolve("cache/bench/peer/smollm2-f32");
        if (PeerBenchmark.isCheckpoint(dir)) {
            return dir;
        }
        Path gguf = root.resolve(GGUF);
        if (!Files.isRegularFile(gguf)) {
            throw new IllegalArgumentException("bench --peer needs SmolLM2-135M: " + gguf + " is missing (fetch it with"
                    + " python3 tools/fetch_smollm2.py, or pass --smol DIR)");
        }
        System.err.println("bench --peer: converting " + gguf + " to F32 in " + dir + " (once)");
        try (GgufFile g = GgufFile.open(gguf)) {
            ConvertCommand.convert(g, dir, TensorDType.F32, null);
        }
        return dir;
    }

    /** The smoke's stand-in for SmolLM2: the 2-layer random Llama of {@code bench --small}. */
    private static Path tinyModel(Path dir) {
        if (PeerBenchmark.isCheckpoint(dir)) {
            return dir;
        }
        ModelConfig c = BenchCommand.benchConfig(true);
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(c, m, 7, DataType.FLOAT32);
            try (LanguageModel lm = new LanguageModel(c, w, null, TensorDType.F32)) {
                lm.save(dir, TensorDType.F32);
            }
        }
        return dir;
    }

    static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        for (Path q = p; q != null; q = q.getParent()) {
            if (Files.isRegularFile(q.resolve("tools/peer_bench.py"))) {
                return q;
            }
        }
        throw new IllegalStateException("bench --peer: run it inside the workbench's repository (no tools/peer_bench.py"
                + " above " + p + ")");
    }
}
