package ai.minitron.distill;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.model.Weights;
import ai.minitron.train.AdamW;
import ai.minitron.train.GradClip;
import ai.minitron.train.NativeMemory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Throughput of distillation training steps — teacher forward, student forward and backward (plus the
 * intermediate-state loss and projection when configured), global-norm clipping and AdamW — as
 * tokens/s and achieved GFLOP/s, compared with a matmul ceiling the caller measures in the same
 * process (so the ratio transfers across machines; nothing is asserted about speed). The process's
 * resident memory is sampled after every step: a flat curve shows native memory is released per step.
 *
 * <p>FLOPs per step: teacher forward F_t + 3 × student forward F_s (backward ≈ 2 × forward), with
 * F = 2 × (matmul weights) per token + the attention products QK^T and PV ({@link #forwardFlops}).
 */
public final class DistillBenchmark {
    private DistillBenchmark() {}

    /**
     * @param stepSeconds wall time of each timed step
     * @param rssMb resident set size after each timed step (MB; empty where /proc is unavailable)
     * @param mallocMb native memory in use through malloc after each timed step (MB; empty without glibc
     *     mallinfo2): libtorch tensors and direct buffers, not the Java heap nor allocator caches (see
     *     {@link NativeMemory})
     * @param liveArrays arrays alive under the student's manager after each timed step (constant = no leak)
     */
    public record Result(int batch, int seqLen, double flopsPerStep, double[] stepSeconds, double[] rssMb,
            double[] mallocMb, int[] liveArrays, double matmulGflops) {
        /** Median step time. */
        public double medianStepSeconds() {
            double[] s = stepSeconds.clone();
            Arrays.sort(s);
            return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        }

        public double tokensPerSecond() {
            return (double) batch * seqLen / medianStepSeconds();
        }

        public double gflops() {
            return flopsPerStep / medianStepSeconds() / 1e9;
        }

        public double fractionOfMatmul() {
            return gflops() / matmulGflops;
        }

        /** RSS growth from the first to the last quarter of the timed steps (MB), NaN without samples. */
        public double rssGrowthMb() {
            double[] q = quarterMeans(rssMb);
            return q.length == 0 ? Double.NaN : q[3] - q[0];
        }

        /**
         * Mean of each quarter of a per-step series (e.g. {@link #rssMb}, {@link #mallocMb}): growth that
         * shrinks quarter by quarter is warm-up; steady growth is a leak. Empty with fewer than 4 samples.
         */
        public static double[] quarterMeans(double[] series) {
            if (series.length < 4) {
                return new double[0];
            }
            int q = series.length / 4;
            double[] out = new double[4];
            for (int i = 0; i < 4; i++) {
                out[i] = mean(series, i * q, i == 3 ? series.length : (i + 1) * q);
            }
            return out;
        }

        private static String joined(double[] v) {
            return v.length == 0 ? "n/a" : java.util.Arrays.stream(v).mapToObj(x -> String.format(Locale.ROOT, "%.0f", x))
                    .collect(java.util.stream.Collectors.joining(" -> "));
        }

        private static double mean(double[] v, int from, int to) {
            double s = 0;
            for (int i = from; i < to; i++) {
                s += v[i];
            }
            return s / (to - from);
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT,
                    "%-34s %12s %12s %10s%n%-34s %12s %12.1f %10s%n%-34s %12.0f %12.1f %10.3f%n"
                            + "median step %.3f s over %d timed steps (%d x %d tokens), %.2f GFLOP per step%n"
                            + "resident memory: first %.0f MB, last %.0f MB, growth first->last quarter %.1f MB;"
                            + " live arrays first %d, last %d%n"
                            + "by quarter of the run (MB): resident %s; native in use (malloc) %s%n",
                    "measurement", "tokens/s", "GFLOP/s", "of matmul",
                    "fp32 matmul (ceiling)", "-", matmulGflops, "1.00",
                    "distillation step (t fwd + s f+b)", tokensPerSecond(), gflops(), fractionOfMatmul(),
                    medianStepSeconds(), stepSeconds.length, batch, seqLen, flopsPerStep / 1e9,
                    rssMb.length > 0 ? rssMb[0] : Double.NaN, rssMb.length > 0 ? rssMb[rssMb.length - 1] : Double.NaN,
                    rssGrowthMb(), liveArrays[0], liveArrays[liveArrays.length - 1], joined(quarterMeans(rssMb)),
                    joined(quarterMeans(mallocMb)));
        }
    }

    /** Forward FLOPs of a batch: 2 × (matmul weights) per token, plus QK^T and PV (full causal matrix). */
    public static double forwardFlops(ModelConfig c, int b, int t) {
        ParamCount pc = ParamCount.of(c);
        double matmulParams = pc.attention() + pc.mlp() + (double) c.vocabSize() * c.hiddenSize();
        double attn = 2.0 * 2.0 * c.numHiddenLayers() * (double) t * t * c.numAttentionHeads() * c.headDim();
        return b * (2.0 * matmulParams * t + attn);
    }

    /**
     * Runs {@code warmup + steps} distillation steps of {@code student} (updated in place) against the
     * distiller's teacher on deterministic pseudo-random token rows; times the last {@code steps}.
     */
    public static Result run(Distiller d, ModelConfig teacherConfig, ModelConfig studentConfig, Weights student,
            int batch, int seqLen, int warmup, int steps, double matmulGflops) {
        if (steps < 1 || warmup < 0) {
            throw new IllegalArgumentException("steps must be >= 1 and warmup >= 0");
        }
        Weights proj = d.projection(student);
        List<Weights> params = proj == null ? List.of(student) : List.of(student, proj);
        var loss = d.stepLoss();
        AdamW opt = new AdamW(new AdamW.Hyper(0.9, 0.95, 1e-8, 0.0));
        NDManager m = student.manager();
        int vocab = Math.min(teacherConfig.vocabSize(), studentConfig.vocabSize());
        double[] secs = new double[steps];
        List<Double> rss = new ArrayList<>();
        List<Double> mall = new ArrayList<>();
        int[] live = new int[steps];
        for (Weights p : params) {
            p.setRequiresGradient(true);
        }
        try {
            GradClip.zero(params);
            for (int i = 0; i < warmup + steps; i++) {
                long[][] in = new long[batch][seqLen];
                long[][] tg = new long[batch][seqLen];
                for (int r = 0; r < batch; r++) {
                    for (int j = 0; j < seqLen; j++) {
                        in[r][j] = (31L * (i + 1) * (r + 1) + 17L * j) % vocab;
                        tg[r][j] = (in[r][j] + 1) % vocab;
                    }
                }
                long t0 = System.nanoTime();
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    NDArray ids = m.create(in);
                    NDArray targets = m.create(tg);
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray l = loss.loss(student, ids, targets);
                        gc.backward(l);
                        l.toType(DataType.FLOAT64, false).getDouble(); // wait for the result
                    }
                }
                GradClip.clip(params, 1.0);
                opt.step(params, 1e-4);
                GradClip.zero(params);
                if (i >= warmup) {
                    secs[i - warmup] = (System.nanoTime() - t0) / 1e9;
                    live[i - warmup] = ((ai.djl.ndarray.BaseNDManager) m).getManagedArrays().size();
                    long r = NativeMemory.rssKb();
                    if (r >= 0) {
                        rss.add(r / 1024.0);
                    }
                    long n = NativeMemory.mallocInUseBytes();
                    if (n >= 0) {
                        mall.add(n / (1024.0 * 1024.0));
                    }
                }
            }
        } finally {
            for (Weights p : params) {
                p.setRequiresGradient(false);
            }
        }
        double flops = forwardFlops(teacherConfig, batch, seqLen) + 3 * forwardFlops(studentConfig, batch, seqLen);
        return new Result(batch, seqLen, flops, secs, rss.stream().mapToDouble(Double::doubleValue).toArray(),
                mall.stream().mapToDouble(Double::doubleValue).toArray(), live, matmulGflops);
    }
}
