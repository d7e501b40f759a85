package ai.minitron.importance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.minitron.config.ModelConfig;
import ai.minitron.data.CalibrationSet;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.Weights;
import ai.minitron.tap.Taps;
import java.util.Arrays;
import java.util.List;

/**
 * How much the importance pass costs over a plain forward pass over the same calibration set
 * (goal: ≤ 1.10×). Three passes are timed batch by batch, interleaved and repeated so that background
 * load hits them alike; each reported time is the sum over batches of the median over repeats:
 *
 * <ul>
 *   <li>{@code forward}: {@link DecoderLM#forward} to logits, no taps;</li>
 *   <li>{@code hidden}: {@link DecoderLM#hiddenStates} (no lm_head), no taps — what the importance
 *       pass computes minus the statistics;</li>
 *   <li>{@code importance}: the {@link ActivationPass} (hidden states + every tap, engine reductions,
 *       one transfer per batch, exact host accumulation).</li>
 * </ul>
 * The tap overhead is importance / hidden; importance / forward compares with a plain forward.
 */
public final class ImportanceBenchmark {
    private ImportanceBenchmark() {}

    /** Seconds per pass (medians over repeats) and tokens per pass. */
    public record Result(double forwardS, double hiddenS, double importanceS, long tokens, int repeats) {
        public double tapOverhead() {
            return importanceS / hiddenS;
        }

        public double versusForward() {
            return importanceS / forwardS;
        }

        public double tokensPerSecond() {
            return tokens / importanceS;
        }

        @Override
        public String toString() {
            return String.format(java.util.Locale.ROOT,
                    "%-34s %10s %12s%n%-34s %10.3f %12.0f%n%-34s %10.3f %12.0f%n%-34s %10.3f %12.0f%n"
                            + "importance / hidden-state forward = %.3f (goal <= 1.10)%n"
                            + "importance / full forward (logits) = %.3f%n",
                    "pass (medians of " + repeats + ")", "seconds", "tokens/s",
                    "forward to logits (no taps)", forwardS, tokens / forwardS,
                    "forward to hidden states (no taps)", hiddenS, tokens / hiddenS,
                    "importance pass (all taps)", importanceS, tokens / importanceS,
                    tapOverhead(), versusForward());
        }
    }

    public static Result run(ModelConfig c, Weights w, CalibrationSet cal, int batchSize, int repeats) {
        if (repeats < 1) throw new IllegalArgumentException("repeats must be >= 1");
        List<CalibrationSet.Batch> batches = cal.batches(batchSize);
        ActivationPass pass = new ActivationPass(c, w);
        List<ActivationStats> sink = List.of(new ActivationStats());
        int[] shardOf = new int[batchSize];
        // warm-up: one batch of each
        plain(c, w, batches.get(0), true);
        plain(c, w, batches.get(0), false);
        pass.runBatch(batches.get(0), sink, shardOf);
        double[][] f = new double[batches.size()][repeats];
        double[][] h = new double[batches.size()][repeats];
        double[][] imp = new double[batches.size()][repeats];
        for (int r = 0; r < repeats; r++) {
            for (int i = 0; i < batches.size(); i++) { // interleaved per batch: background load hits all alike
                f[i][r] = plain(c, w, batches.get(i), true);
                h[i][r] = plain(c, w, batches.get(i), false);
                long t0 = System.nanoTime();
                pass.runBatch(batches.get(i), sink, shardOf);
                imp[i][r] = (System.nanoTime() - t0) / 1e9;
            }
        }
        return new Result(sumOfMedians(f), sumOfMedians(h), sumOfMedians(imp), cal.tokens(), repeats);
    }

    /** Seconds of one plain forward of a batch to the final hidden states, no taps (the importance pass's baseline). */
    public static double hiddenForwardSeconds(ModelConfig c, Weights w, CalibrationSet.Batch bt) {
        return plain(c, w, bt, false);
    }

    /** Seconds of the importance pass over one batch (every tap reduced into {@code sink}). */
    public static double importanceSeconds(ActivationPass pass, CalibrationSet.Batch bt, ActivationStats sink) {
        long t0 = System.nanoTime();
        pass.runBatch(bt, List.of(sink), new int[bt.size()]);
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double sumOfMedians(double[][] perBatch) {
        double s = 0;
        for (double[] v : perBatch) s += median(v);
        return s;
    }

    private static double plain(ModelConfig c, Weights w, CalibrationSet.Batch bt, boolean logits) {
        long t0 = System.nanoTime();
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDManager m = w.manager();
            NDArray mask = bt.mask(m, w.dataType());
            NDArray out = logits
                    ? DecoderLM.forward(c, w, bt.inputs(m), mask, null, Taps.NONE)
                    : DecoderLM.hiddenStates(c, w, bt.inputs(m), mask, null, Taps.NONE);
            out.get(0, 0, 0).getFloat(); // wait for the result, as the importance pass does
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
