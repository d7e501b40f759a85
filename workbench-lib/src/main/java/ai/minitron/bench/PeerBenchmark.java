package ai.minitron.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.minitron.config.ModelConfig;
import ai.minitron.data.CalibrationSet;
import ai.minitron.distill.DistillBenchmark;
import ai.minitron.distill.Distiller;
import ai.minitron.generate.Generation;
import ai.minitron.generate.GenerationConfig;
import ai.minitron.generate.Generator;
import ai.minitron.generate.TokenListener;
import ai.minitron.importance.ActivationPass;
import ai.minitron.importance.Aggregation;
import ai.minitron.importance.ActivationStats;
import ai.minitron.importance.ImportanceBenchmark;
import ai.minitron.io.TensorDType;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.EngineThreads;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.LmLoss;
import ai.minitron.model.Weights;
import ai.minitron.prune.PrunePlan;
import ai.minitron.prune.Pruner;
import ai.minitron.prune.UnitScores;
import ai.minitron.train.AdamW;
import ai.minitron.train.GradClip;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

/**
 * Our engine beside PyTorch eager on the same work (issue 17's instrument; README, "Results"): every workload is
 * run in the workbench and in Hugging Face transformers ({@link PeerProcess}) on the same checkpoint, the same
 * token ids, batch and sequence shapes and the same thread count, interleaved repetition by repetition (ours then
 * theirs, then theirs then ours, ...) after one untimed warm-up of each, so background load hits both alike. Each
 * row reports the median tokens/s of each side and the ratio ours ÷ PyTorch; the fp32 matmul ceiling is measured
 * in the same run by both engines. Workloads:
 *
 * <ol>
 *   <li>decode: greedy, {@code newTokens} after a {@code promptTokens} prompt, batch 1 and 8, KV cache on both
 *       sides ({@code model.generate}); time of the whole call (prefill included), tokens/s = B × new / s;</li>
 *   <li>forward to the logits, batch × seq, autograd off;</li>
 *   <li>training step: forward + next-token cross-entropy + backward + global-norm clip + AdamW (teacher shape);</li>
 *   <li>distillation step: teacher forward (no gradients) + student forward / backward on forward KL + clip +
 *       AdamW, teacher -> width-pruned student (hidden 3/4, MLP 1/2), also as a fraction of the ceiling;</li>
 *   <li>the importance pass (every tap) against a plain forward to the last hidden state, both ours: the
 *       "PyTorch" column of that row is our plain forward (PyTorch has no importance pass).</li>
 * </ol>
 * Without a peer (the CI smoke) only our side runs and the PyTorch columns are NaN. Nothing is asserted about speed.
 */
public final class PeerBenchmark {
    /** Workload sizes: {@link #full} is issue 17's, {@link #smoke} a seconds-long check that every row runs. */
    public record Shapes(int promptTokens, int newTokens, int[] decodeBatches, int forwardBatch, int forwardSeq,
            int distillBatch, int distillSeq, int matmulN, int repeats) {
        public static Shapes full(int repeats) {
            return new Shapes(16, 128, new int[] {1, 8}, 8, 256, 4, 128, 1024, repeats);
        }

        public static Shapes smoke() {
            return new Shapes(4, 4, new int[] {1, 2}, 2, 16, 2, 16, 128, 1);
        }
    }

    /**
     * @param smol the SmolLM2-135M checkpoint (F32 conversion of the pinned GGUF), or in the smoke any small model
     * @param smolLabel its name in the table
     * @param teacher the embedded teacher (data/teacher)
     * @param work a folder for the pruned students both engines load
     * @param threads intra-op threads for both engines
     * @param peer the PyTorch worker, or null for our side only
     */
    public record Options(Path smol, String smolLabel, Path teacher, Path work, int threads, Shapes shapes,
            PeerProcess peer) {}

    /** One row: medians of each side (NaN where a side did not run). */
    public record Row(String workload, String model, int batch, int seqLen, double oursTokensPerSecond,
            double peerTokensPerSecond, double oursGflops, double ceilingFraction, String breakdown) {
        public double ratio() {
            return oursTokensPerSecond / peerTokensPerSecond;
        }
    }

    /** All rows plus the matmul ceilings measured by each engine in the same run. */
    public record Result(List<Row> rows, double oursMatmulGflops, double peerMatmulGflops, Map<String, String> peerInfo) {}

    private final Options o;
    private final Shapes s;
    private final PeerProcess peer;
    private final NDManager m;
    private final List<Row> rows = new ArrayList<>();
    private final SplittableRandom rng = new SplittableRandom(17);

    private PeerBenchmark(Options o, NDManager m) {
        this.o = o;
        this.s = o.shapes();
        this.peer = o.peer();
        this.m = m;
    }

    /** Runs every workload; progress lines go to stderr. */
    public static Result run(Options o) {
        EngineThreads.setThreads(o.threads());
        try (NDManager m = NDManager.newBaseManager()) {
            return new PeerBenchmark(o, m).all();
        }
    }

    private Result all() {
        Map<String, String> info = new LinkedHashMap<>();
        if (peer != null) {
            JsonObject hello = cmd("hello");
            hello.addProperty("threads", o.threads());
            JsonObject h = peer.call(hello);
            for (String k : h.keySet()) {
                info.put(k, h.get(k).isJsonPrimitive() ? h.get(k).getAsString() : h.get(k).toString());
            }
        }
        // matmul ceiling, both engines, interleaved
        NDArray a = m.randomNormal(new Shape(s.matmulN(), s.matmulN()));
        NDArray b = m.randomNormal(new Shape(s.matmulN(), s.matmulN()));
        double flops = 2.0 * Math.pow(s.matmulN(), 3);
        double[][] mm = interleave(Math.max(5, s.repeats() * 3), () -> {
            long t0 = System.nanoTime();
            try (NDArray c = a.matMul(b)) {
                c.sum().getFloat();
            }
            return (System.nanoTime() - t0) / 1e9;
        }, peer == null ? null : () -> seconds(peer.call(with(cmd("matmul"), "n", s.matmulN()))));
        double oursCeiling = flops / median(mm[0]) / 1e9;
        double peerCeiling = peer == null ? Double.NaN : flops / median(mm[1]) / 1e9;
        progress(String.format(Locale.ROOT, "fp32 matmul %d^3: ours %.1f GFLOP/s, PyTorch %.1f GFLOP/s", s.matmulN(),
                oursCeiling, peerCeiling));

        try (LanguageModel smol = LanguageModel.load(o.smol(), m); LanguageModel teacher = LanguageModel.load(o.teacher(), m)) {
            load("smol", o.smol());
            load("teacher", o.teacher());
            for (int bsz : s.decodeBatches()) {
                decode(o.smolLabel(), "smol", smol, bsz);
            }
            for (int bsz : s.decodeBatches()) {
                decode("teacher", "teacher", teacher, bsz);
            }
            forward(o.smolLabel(), "smol", smol);
            forward("teacher", "teacher", teacher);
            train(teacher);
            distill("teacher -> width-pruned", "teacher", teacher, oursCeiling);
            distill(o.smolLabel() + " -> pruned", "smol", smol, oursCeiling);
            importance(teacher);
        }
        return new Result(List.copyOf(rows), oursCeiling, peerCeiling, info);
    }

    private void decode(String label, String name, LanguageModel lm, int batch) {
        ModelConfig c = lm.config();
        List<long[]> prompts = new ArrayList<>();
        for (int r = 0; r < batch; r++) {
            prompts.add(rng.longs(s.promptTokens(), 1, c.vocabSize()).toArray());
        }
        Generator g = new Generator(c, lm.weights(), null);
        GenerationConfig cfg = GenerationConfig.defaults().withEosTokenIds().withBatchSize(batch)
                .withMaxNewTokens(s.newTokens());
        double[] prefill = new double[1];
        double[] perToken = new double[1];
        List<Double> pre = new ArrayList<>();
        List<Double> dec = new ArrayList<>();
        JsonObject pc = with(cmd("decode"), "model", name);
        pc.add("ids", ids(prompts.toArray(new long[0][])));
        pc.addProperty("new", s.newTokens());
        double[][] t = interleave(s.repeats(), () -> {
            long t0 = System.nanoTime();
            Generation first = g.generateTokens(prompts, cfg, TokenListener.NONE).get(0);
            pre.add(first.prefillSeconds());
            dec.add(first.decodeSeconds() / (s.newTokens() - 1));
            return (System.nanoTime() - t0) / 1e9;
        }, peer == null ? null : () -> seconds(peer.call(pc)));
        prefill[0] = median(pre.stream().mapToDouble(Double::doubleValue).toArray());
        perToken[0] = median(dec.stream().mapToDouble(Double::doubleValue).toArray());
        add("decode (greedy, KV cache)", label, batch, s.promptTokens() + s.newTokens(), (double) batch * s.newTokens(),
                t, Double.NaN, Double.NaN, String.format(Locale.ROOT, "ours: prefill %.0f ms, %.2f ms per decode step",
                        prefill[0] * 1e3, perToken[0] * 1e3));
    }

    private void forward(String label, String name, LanguageModel lm) {
        ModelConfig c = lm.config();
        long[][] ids = randomIds(c.vocabSize(), s.forwardBatch(), s.forwardSeq());
        JsonObject pc = with(cmd("forward"), "model", name);
        pc.add("ids", ids(ids));
        double[][] t = interleave(s.repeats(), () -> {
            long t0 = System.nanoTime();
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                DecoderLM.forward(c, lm.weights(), m.create(ids)).get(0, 0, 0).getFloat();
            }
            return (System.nanoTime() - t0) / 1e9;
        }, peer == null ? null : () -> seconds(peer.call(pc)));
        double flops = DistillBenchmark.forwardFlops(c, s.forwardBatch(), s.forwardSeq());
        add("forward (logits, no autograd)", label, s.forwardBatch(), s.forwardSeq(),
                (double) s.forwardBatch() * s.forwardSeq(), t, flops, Double.NaN, "");
    }

    private void train(LanguageModel teacherModel) {
        try (LanguageModel lm = LanguageModel.load(o.teacher(), m)) { // a copy: training changes it
            load("teacher-train", o.teacher());
            ModelConfig c = lm.config();
            Weights w = lm.weights();
            long[][] ids = randomIds(c.vocabSize(), s.forwardBatch(), s.forwardSeq());
            long[][] targets = new long[ids.length][];
            for (int r = 0; r < ids.length; r++) {
                targets[r] = Arrays.copyOf(Arrays.copyOfRange(ids[r], 1, ids[r].length), ids[r].length);
            }
            JsonObject pc = with(cmd("train"), "model", "teacher-train");
            pc.add("ids", ids(ids));
            pc.addProperty("lr", 1e-5);
            AdamW opt = new AdamW(new AdamW.Hyper(0.9, 0.95, 1e-8, 0.0));
            w.setRequiresGradient(true);
            try {
                GradClip.zero(w);
                Phases ph = new Phases();
                double[][] t = interleave(s.repeats(),
                        () -> ph.step(w, opt, ids, in -> LmLoss.mean(DecoderLM.forward(c, w, in), m.create(targets), null)),
                        peer == null ? null : () -> seconds(peer.call(pc)));
                double flops = 3 * DistillBenchmark.forwardFlops(c, s.forwardBatch(), s.forwardSeq());
                add("training step (fwd+bwd+AdamW)", "teacher", s.forwardBatch(), s.forwardSeq(),
                        (double) s.forwardBatch() * s.forwardSeq(), t, flops, Double.NaN, "ours: " + ph);
            } finally {
                w.setRequiresGradient(false);
            }
        }
    }

    private void distill(String label, String name, LanguageModel teacher, double ceiling) {
        ModelConfig tc = teacher.config();
        PrunePlan plan = PrunePlan.keepAll().withHidden(tc.hiddenSize() * 3 / 4).withMlp(tc.intermediateSize() / 2);
        Pruner.Pruned pruned = Pruner.apply(tc, teacher.weights(), Pruner.select(tc, plan, UnitScores.firstK(tc)));
        Path dir = o.work().resolve("student-" + name);
        try (LanguageModel st = new LanguageModel(pruned.config(), pruned.weights(), null, TensorDType.F32)) {
            st.save(dir, TensorDType.F32);
        }
        try (LanguageModel student = LanguageModel.load(dir, m)) {
            load("student-" + name, dir);
            ModelConfig sc = student.config();
            Weights w = student.weights();
            Distiller d = new Distiller(tc, teacher.weights(), sc, Distiller.Options.forwardKl());
            var loss = d.stepLoss();
            int vocab = Math.min(tc.vocabSize(), sc.vocabSize());
            long[][] ids = randomIds(vocab, s.distillBatch(), s.distillSeq());
            JsonObject pc = cmd("distill");
            pc.addProperty("teacher", name);
            pc.addProperty("student", "student-" + name);
            pc.add("ids", ids(ids));
            pc.addProperty("lr", 1e-5);
            AdamW opt = new AdamW(new AdamW.Hyper(0.9, 0.95, 1e-8, 0.0));
            w.setRequiresGradient(true);
            try {
                GradClip.zero(w);
                Phases ph = new Phases();
                double[][] t = interleave(s.repeats(), () -> ph.step(w, opt, ids, in -> loss.loss(w, in, in)),
                        peer == null ? null : () -> seconds(peer.call(pc)));
                double flops = DistillBenchmark.forwardFlops(tc, s.distillBatch(), s.distillSeq())
                        + 3 * DistillBenchmark.forwardFlops(sc, s.distillBatch(), s.distillSeq());
                add("distillation step (fwd KL)", label, s.distillBatch(), s.distillSeq(),
                        (double) s.distillBatch() * s.distillSeq(), t, flops, ceiling,
                        String.format(Locale.ROOT, "student hidden %d, mlp %d; ours: %s", sc.hiddenSize(),
                                sc.intermediateSize(), ph));
            } finally {
                w.setRequiresGradient(false);
            }
        }
    }

    private void importance(LanguageModel teacher) {
        ModelConfig c = teacher.config();
        long[][] ids = randomIds(c.vocabSize(), s.forwardBatch(), s.forwardSeq());
        int[] lengths = new int[ids.length];
        int[] sampleIds = new int[ids.length];
        for (int r = 0; r < ids.length; r++) {
            lengths[r] = ids[r].length;
            sampleIds[r] = r;
        }
        CalibrationSet.Batch bt = new CalibrationSet.Batch(ids, ids, lengths, sampleIds);
        ActivationPass pass = new ActivationPass(c, teacher.weights());
        ActivationStats sink = new ActivationStats();
        double[][] t = interleave(s.repeats(), () -> ImportanceBenchmark.importanceSeconds(pass, bt, sink),
                () -> ImportanceBenchmark.hiddenForwardSeconds(c, teacher.weights(), bt));
        double tokens = (double) ids.length * s.forwardSeq();
        add("importance pass (all metrics) vs our plain forward to hidden", "teacher", ids.length, s.forwardSeq(),
                tokens, t, Double.NaN, Double.NaN, "PyTorch column = our hidden-state forward; goal ratio >= 1/1.10 = 0.91");
        // the paper's metric alone (activation with the sequence mean, block importance): what pruning needs
        ActivationPass paper = new ActivationPass(c, teacher.weights(), List.of(Aggregation.MEAN), false);
        ActivationStats paperSink = new ActivationStats(); // its accumulators hold only the mean stream
        double[][] tp = interleave(s.repeats(), () -> ImportanceBenchmark.importanceSeconds(paper, bt, paperSink),
                () -> ImportanceBenchmark.hiddenForwardSeconds(c, teacher.weights(), bt));
        add("importance pass (paper's metric only) vs our plain forward to hidden", "teacher", ids.length,
                s.forwardSeq(), tokens, tp, Double.NaN, Double.NaN,
                "activation (seq mean) + block importance; PyTorch column = our hidden-state forward");
    }

    /** Per-phase wall times of our training-type steps (medians shown), the breakdown of a row. */
    private final class Phases {
        final List<Double> forward = new ArrayList<>();
        final List<Double> backward = new ArrayList<>();
        final List<Double> optimizer = new ArrayList<>();

        /**
         * One timed optimiser step on ids [B, T]: forward + {@code lossOf(inputs)}, backward, clip + AdamW (lr 1e-5),
         * each phase's wall time recorded; returns the step's seconds.
         */
        double step(Weights w, AdamW opt, long[][] ids, java.util.function.Function<NDArray, NDArray> lossOf) {
            long t0 = System.nanoTime();
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray in = m.create(ids);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = lossOf.apply(in);
                    loss.getFloat();
                    forward.add((System.nanoTime() - t0) / 1e9);
                    long t1 = System.nanoTime();
                    gc.backward(loss);
                    backward.add((System.nanoTime() - t1) / 1e9);
                }
            }
            long t2 = System.nanoTime();
            GradClip.clip(w, 1.0);
            opt.step(w, 1e-5);
            GradClip.zero(w);
            optimizer.add((System.nanoTime() - t2) / 1e9);
            return (System.nanoTime() - t0) / 1e9;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "forward + loss %.0f ms, backward %.0f ms, clip + AdamW %.0f ms",
                    1e3 * med(forward), 1e3 * med(backward), 1e3 * med(optimizer));
        }

        private static double med(List<Double> v) {
            return median(v.stream().mapToDouble(Double::doubleValue).toArray());
        }
    }

    // --- helpers ---

    /**
     * Runs a warm-up of each side, then {@code n} interleaved repetitions (even ones ours first, odd ones theirs
     * first); returns {ours seconds[], theirs seconds[]} (theirs empty without a peer).
     */
    private static double[][] interleave(int n, DoubleSupplier ours, DoubleSupplier theirs) {
        ours.getAsDouble();
        if (theirs != null) {
            theirs.getAsDouble();
        }
        double[] a = new double[n];
        double[] b = new double[theirs == null ? 0 : n];
        for (int i = 0; i < n; i++) {
            if (theirs != null && i % 2 == 1) {
                b[i] = theirs.getAsDouble();
                a[i] = ours.getAsDouble();
            } else {
                a[i] = ours.getAsDouble();
                if (theirs != null) {
                    b[i] = theirs.getAsDouble();
                }
            }
        }
        return new double[][] {a, b};
    }

    private void add(String workload, String model, int batch, int seq, double tokensPerRun, double[][] t,
            double flopsPerRun, double ceiling, String breakdown) {
        double ours = tokensPerRun / median(t[0]);
        double theirs = t[1].length == 0 ? Double.NaN : tokensPerRun / median(t[1]);
        double gflops = Double.isNaN(flopsPerRun) ? Double.NaN : flopsPerRun / median(t[0]) / 1e9;
        Row r = new Row(workload, model, batch, seq, ours, theirs, gflops, gflops / ceiling, breakdown);
        rows.add(r);
        progress(String.format(Locale.ROOT, "%-30s %-24s B=%d T=%d: ours %.1f tok/s, PyTorch %.1f tok/s, ratio %.2f",
                workload, model, batch, seq, ours, theirs, r.ratio()));
    }

    private void load(String name, Path dir) {
        if (peer != null) {
            JsonObject c = with(cmd("load"), "name", name);
            c.addProperty("dir", dir.toAbsolutePath().toString());
            peer.call(c);
        }
    }

    private long[][] randomIds(int vocab, int batch, int seq) {
        long[][] ids = new long[batch][];
        for (int r = 0; r < batch; r++) {
            ids[r] = rng.longs(seq, 1, vocab).toArray();
        }
        return ids;
    }

    private static JsonArray ids(long[][] rows) {
        JsonArray a = new JsonArray();
        for (long[] row : rows) {
            JsonArray r = new JsonArray();
            for (long v : row) {
                r.add(v);
            }
            a.add(r);
        }
        return a;
    }

    private static JsonObject cmd(String op) {
        JsonObject c = new JsonObject();
        c.addProperty("op", op);
        return c;
    }

    private static JsonObject with(JsonObject c, String key, Object value) {
        if (value instanceof Number n) {
            c.addProperty(key, n);
        } else {
            c.addProperty(key, String.valueOf(value));
        }
        return c;
    }

    private static double seconds(JsonObject answer) {
        return answer.get("seconds").getAsDouble();
    }

    static double median(double[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        double[] x = v.clone();
        Arrays.sort(x);
        return x.length % 2 == 1 ? x[x.length / 2] : (x[x.length / 2 - 1] + x[x.length / 2]) / 2;
    }

    private static void progress(String line) {
        System.err.println("bench --peer: " + line);
    }

    /** Whether {@code dir} looks like a checkpoint (config.json present). */
    public static boolean isCheckpoint(Path dir) {
        return Files.isRegularFile(dir.resolve("config.json"));
    }
}
