package ai.minitron.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.data.TokenDataset;
import ai.minitron.distill.DistillBenchmark;
import ai.minitron.distill.Distiller;
import ai.minitron.distill.IntermediateLoss;
import ai.minitron.model.LanguageModel;
import ai.minitron.prune.PrunePlan;
import ai.minitron.prune.Pruner;
import ai.minitron.prune.UnitScores;
import java.nio.file.Path;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.LmLoss;
import ai.minitron.model.Weights;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code minitron bench}: forward and forward+backward throughput of a ~20M-parameter Llama-style
 * model, as tokens/s and achieved GFLOP/s, beside the fp32 1024^3 matmul GFLOP/s measured in the
 * same process. The ratio (model GFLOP/s / matmul GFLOP/s) is the number to compare across machines.
 * With {@code --distill}: distillation steps of a teacher checkpoint into a pruned student
 * ({@link DistillBenchmark}), with resident memory over the steps. With {@code --prune-8b}: the streaming
 * pruner on an 8B-sized checkpoint ({@link PruneBenchmark}).
 */
@Command(name = "bench", description = "Forward and forward+backward throughput against the matmul ceiling, in one process.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--batch", defaultValue = "8", description = "Sequences per step (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seq-len", defaultValue = "256", description = "Tokens per sequence (default ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--iters", defaultValue = "5", description = "Timed iterations per measurement (default ${DEFAULT-VALUE}).")
    int iters;

    @Option(names = "--small", description = "A 2-layer toy model instead of the ~20M one (for smoke tests).")
    boolean small;

    /** The benchmark model: ~19.7M parameters, GQA, SwiGLU, untied. */
    static ModelConfig benchConfig(boolean small) {
        return small
                ? ModelConfig.builder(Architecture.LLAMA).vocabSize(512).hiddenSize(64).intermediateSize(128)
                        .numHiddenLayers(2).numAttentionHeads(4).numKeyValueHeads(2).headDim(16)
                        .maxPositionEmbeddings(1024).normEps(1e-5).build()
                : ModelConfig.builder(Architecture.LLAMA).vocabSize(8192).hiddenSize(384).intermediateSize(1024)
                        .numHiddenLayers(8).numAttentionHeads(6).numKeyValueHeads(2).headDim(64)
                        .maxPositionEmbeddings(1024).normEps(1e-5).build();
    }

    /** Forward FLOPs per step: 2 * (matmul weights) per token, plus QK^T and PV (causal, full matrix). */
    static double forwardFlops(ModelConfig c, int b, int t) {
        return DistillBenchmark.forwardFlops(c, b, t);
    }

    @Option(names = "--distill", description = "Benchmark distillation steps instead: --teacher -> a pruned student"
            + " (hidden x3/4, MLP x1/2, 3/4 of the layers).")
    boolean distill;

    @Option(names = "--teacher", defaultValue = "data/teacher", description = "Teacher for --distill (default ${DEFAULT-VALUE}).")
    Path teacherDir;

    @Option(names = "--distill-steps", defaultValue = "20", description = "Timed distillation steps (default ${DEFAULT-VALUE}).")
    int distillSteps;

    @Option(names = "--is-loss", description = "With --distill: add the intermediate-state loss (cosine or mse) on the default layer map.")
    String isLoss;

    @Option(names = "--prune-8b", description = "Benchmark the streaming pruner instead: a random Llama-3.1-8B-shaped BF16"
            + " checkpoint (~16 GB, written once under --prune-dir) pruned to the Minitron-4B Width and Depth shapes,"
            + " beside cp of the same bytes; needs ~35 GB free. With --small: a 0.1B stand-in.")
    boolean prune8b;

    @Option(names = "--prune-dir", description = "Where --prune-8b keeps its parent checkpoint and outputs"
            + " (default cache/bench/prune-8b, or cache/bench/prune-small with --small).")
    Path pruneDir;

    @Option(names = "--peer", description = "Our engine beside PyTorch eager (transformers) on the same workloads, weights,"
            + " shapes and threads, interleaved (tools/peer_bench.py; its venv is created under cache/venv-peer on first use):"
            + " decode, forward, training step, distillation step, importance pass. Writes OUT/peer.arrow and OUT/peer.md.")
    boolean peer;

    @Option(names = "--out", defaultValue = "runs/bench-peer", description = "With --peer: results folder (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--busy", defaultValue = "0", description = "With --peer: run beside N busy-loop processes the"
            + " benchmark starts and stops itself (contended mode; default ${DEFAULT-VALUE}).")
    int busy;

    @Option(names = "--threads", description = "With --peer: intra-op threads of both engines (default: the engine's, see"
            + " README \"Threads\").")
    Integer threads;

    @Option(names = "--repeats", defaultValue = "3", description = "With --peer: timed repetitions per side (default ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--smol", description = "With --peer: the SmolLM2-135M checkpoint (default: converted once to F32 from"
            + " the pinned GGUF into cache/bench/peer/smollm2-f32).")
    Path smol;

    @Option(names = "--smoke", description = "With --peer: seconds-long shapes on a tiny random model in place of SmolLM2"
            + " (every row, no meaningful speed; what CI runs).")
    boolean smoke;

    @Option(names = "--ours-only", description = "With --peer: skip the PyTorch side (its columns are '-'); CI's smoke"
            + " runs so, to keep torch out of CI.")
    boolean oursOnly;

    @Override
    public Integer call() throws Exception {
        if (peer) {
            return PeerBench.run(this);
        }
        if (prune8b) {
            return PruneBenchmark.run(pruneDir != null ? pruneDir
                    : Path.of(small ? "cache/bench/prune-small" : "cache/bench/prune-8b"), small);
        }
        if (distill) {
            return callDistill();
        }
        ModelConfig c = benchConfig(small);
        try (NDManager m = NDManager.newBaseManager()) {
            double ceiling = matmulGflops(m, small ? 256 : 1024, iters);
            Weights w = Weights.random(c, m, 1, DataType.FLOAT32);
            long[][] tokens = new long[batch][seqLen];
            for (int i = 0; i < batch; i++) {
                for (int j = 0; j < seqLen; j++) {
                    tokens[i][j] = (31L * i + 17L * j) % c.vocabSize();
                }
            }
            double flops = forwardFlops(c, batch, seqLen);
            double fwd = time(() -> step(c, w, m, tokens, false), iters);
            w.setRequiresGradient(true);
            double fb = time(() -> step(c, w, m, tokens, true), iters);
            w.setRequiresGradient(false);
            double tokensPerStep = (double) batch * seqLen;
            System.out.printf("model: %s, %,d parameters; batch %d x %d tokens; %d timed iterations%n",
                    c.architecture().hfClass(), ParamCount.of(c).total(), batch, seqLen, iters);
            System.out.printf("engine: %s; threads: %d%n", Engine.getInstance().getEngineName() + " "
                    + Engine.getInstance().getVersion(), Runtime.getRuntime().availableProcessors());
            System.out.printf("%-22s %12s %12s %10s%n", "measurement", "tokens/s", "GFLOP/s", "of matmul");
            System.out.printf("%-22s %12s %12.1f %10s%n", "fp32 matmul (ceiling)", "-", ceiling, "1.00");
            report("forward", tokensPerStep / fwd, flops / fwd / 1e9, ceiling);
            report("forward+backward", tokensPerStep / fb, 3 * flops / fb / 1e9, ceiling);
        }
        return 0;
    }

    private int callDistill() {
        try (NDManager m = NDManager.newBaseManager(); LanguageModel teacher = LanguageModel.load(teacherDir, m)) {
            ModelConfig tc = teacher.config();
            double ceiling = matmulGflops(m, small ? 256 : 1024, iters);
            PrunePlan plan = PrunePlan.keepAll().withHidden(tc.hiddenSize() * 3 / 4).withMlp(tc.intermediateSize() / 2)
                    .withLayers(Math.max(1, tc.numHiddenLayers() * 3 / 4), PrunePlan.Depth.LOWEST);
            Pruner.Pruned student = Pruner.apply(tc, teacher.weights(), Pruner.select(tc, plan, UnitScores.firstK(tc)));
            Distiller.Options o = Distiller.Options.forwardKl();
            if (isLoss != null) {
                o = o.withIntermediate(new IntermediateLoss.Config(IntermediateLoss.parseKind(isLoss),
                        IntermediateLoss.defaultMap(tc.numHiddenLayers(), student.config().numHiddenLayers()), false, 0,
                        true));
            }
            Distiller d = new Distiller(tc, teacher.weights(), student.config(), o);
            TokenDataset.checkSeqLen(seqLen, tc.maxPositionEmbeddings());
            System.out.printf("teacher: %s, %,d parameters; student (pruned): %,d parameters; batch %d x %d tokens%s%n",
                    teacherDir, ParamCount.of(tc).total(), ParamCount.of(student.config()).total(), batch, seqLen,
                    isLoss == null ? "" : "; + intermediate-state loss " + isLoss);
            System.out.printf("engine: %s; threads: %d%n", Engine.getInstance().getEngineName() + " "
                    + Engine.getInstance().getVersion(), Runtime.getRuntime().availableProcessors());
            DistillBenchmark.Result r = DistillBenchmark.run(d, tc, student.config(), student.weights(), batch, seqLen, 2,
                    distillSteps, ceiling);
            System.out.print(r);
        }
        return 0;
    }

    private static void report(String name, double tps, double gflops, double ceiling) {
        System.out.printf("%-22s %12.0f %12.1f %10.2f%n", name, tps, gflops, gflops / ceiling);
    }

    private static void step(ModelConfig c, Weights w, NDManager m, long[][] tokens, boolean backward) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray ids = m.create(tokens);
            if (!backward) {
                DecoderLM.forward(c, w, ids).getFloat(0, 0, 0); // force completion
                return;
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = LmLoss.mean(DecoderLM.forward(c, w, ids), ids, null);
                gc.backward(loss);
                gc.zeroGradients();
            }
        }
    }

    /** Seconds per call, median-free mean after two warm-up calls. */
    private static double time(Runnable r, int iters) {
        r.run();
        r.run();
        long t0 = System.nanoTime();
        for (int i = 0; i < iters; i++) {
            r.run();
        }
        return (System.nanoTime() - t0) / 1e9 / iters;
    }

    static double matmulGflops(NDManager m, int n, int iters) {
        NDArray a = m.randomNormal(new Shape(n, n));
        NDArray b = m.randomNormal(new Shape(n, n));
        double secs = time(() -> {
            try (NDArray c = a.matMul(b)) {
                c.getFloat(0, 0);
            }
        }, Math.max(iters, 10));
        return 2.0 * n * n * n / secs / 1e9;
    }
}
