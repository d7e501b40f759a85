package ai.minitron.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.data.CalibrationSet;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.LmLoss;
import ai.minitron.model.Weights;
import ai.minitron.tap.Taps;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The language-modelling loss of a model over fixed batches, without gradients: the one evaluation loop
 * behind training's and distillation's validation, the depth scan's calibration loss and the reproduction
 * lab's scores. Each batch is one {@link DecoderLM} forward pass (optionally over a subset of the layers)
 * in its own {@code NDScope}; call it outside any {@code GradientCollector}. Two reductions, each the one
 * its callers have always used (so their numbers are unchanged):
 *
 * <pre>
 *   batch mean   L = (1/n) Σ_i mean_t NLL[i, t]                  n validation batches of equal-length rows
 *   token mean   L = Σ_i Σ_t mask[i, t] · NLL[i, t] / Σ mask      a right-padded calibration set
 * </pre>
 */
public final class ValidationLoss {
    private ValidationLoss() {}

    /**
     * A second number per batch from the same forward pass, averaged over the batches like the loss
     * (distillation's KL to the teacher): inputs [B, T] int64 and the model's logits [B, T, V].
     */
    @FunctionalInterface
    public interface BatchTerm {
        double of(NDArray inputs, NDArray logits);
    }

    /** The batch-mean loss and the batch mean of the {@link BatchTerm} (NaN without one). */
    public record Result(double loss, double term) {}

    /** Batch-mean loss over the first {@code batches} batches (at least one) of {@code val}. */
    public static double batchMean(ModelConfig c, Weights w, BatchSource val, int batches, int batchSize) {
        return batchMean(c, w, val, batches, batchSize, null).loss();
    }

    /** Batch-mean loss and {@code term} (or null) over the first {@code batches} batches (at least one). */
    public static Result batchMean(ModelConfig c, Weights w, BatchSource val, int batches, int batchSize,
            BatchTerm term) {
        int n = Math.max(1, batches);
        double[] sums = sums(c, w, n, i -> unpadded(val.batch(i, batchSize)),
                DecoderLM.allLayers(c), false, term, null);
        return new Result(sums[0] / n, term == null ? Double.NaN : sums[1] / n);
    }

    /**
     * The loss of each of the first {@code batches} batches (at least one) of {@code val}: the units a
     * bootstrap over validation windows resamples; their mean is {@link #batchMean} bit for bit.
     */
    public static double[] batchLosses(ModelConfig c, Weights w, BatchSource val, int batches, int batchSize) {
        double[] each = new double[Math.max(1, batches)];
        sums(c, w, each.length, i -> unpadded(val.batch(i, batchSize)), DecoderLM.allLayers(c), false, null, each);
        return each;
    }

    /** Token-mean loss over every row of {@code cal} (padding masked), running only {@code layers}. */
    public static double tokenMean(ModelConfig c, Weights w, CalibrationSet cal, int batchSize, int[] layers) {
        List<CalibrationSet.Batch> batches = cal.batches(batchSize);
        return sums(c, w, batches.size(), batches::get, layers, true, null, null)[0] / cal.tokens();
    }

    /**
     * The loop: per batch, the loss ({@link LmLoss#sum} when {@code tokenSum}, else {@link LmLoss#mean})
     * and the term, each added up in double in batch order -> {loss sum, term sum}; each batch's loss also
     * goes to {@code each[i]} when {@code each} is given.
     */
    private static double[] sums(ModelConfig c, Weights w, int n, IntFunction<CalibrationSet.Batch> batch,
            int[] layers, boolean tokenSum, BatchTerm term, double[] each) {
        NDManager m = w.manager();
        double loss = 0;
        double extra = 0;
        for (int i = 0; i < n; i++) {
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                CalibrationSet.Batch b = batch.apply(i);
                NDArray ids = b.inputs(m); // [B,T]
                NDArray mask = b.mask(m, w.dataType()); // [B,T] or null when nothing is padded
                NDArray logits = DecoderLM.forward(c, w, ids, mask, null, Taps.NONE, layers); // [B,T,V]
                NDArray targets = b.targets(m);
                NDArray l = tokenSum ? LmLoss.sum(logits, targets, mask) : LmLoss.mean(logits, targets, mask);
                double li = l.toType(DataType.FLOAT64, false).getDouble();
                loss += li;
                if (each != null) {
                    each[i] = li;
                }
                if (term != null) {
                    extra += term.of(ids, logits);
                }
            }
        }
        return new double[] {loss, extra};
    }

    /** Rows [B][T+1] of a {@link BatchSource} as an unpadded batch: inputs [B][T], targets [B][T] (sample ids 0..B-1). */
    static CalibrationSet.Batch unpadded(long[][] rows) {
        long[][] in = new long[rows.length][];
        long[][] tg = new long[rows.length][];
        int[] lengths = new int[rows.length];
        int[] ids = new int[rows.length];
        for (int r = 0; r < rows.length; r++) {
            in[r] = Arrays.copyOf(rows[r], rows[r].length - 1);
            tg[r] = Arrays.copyOfRange(rows[r], 1, rows[r].length);
            lengths[r] = in[r].length;
            ids[r] = r;
        }
        return new CalibrationSet.Batch(in, tg, lengths, ids);
    }
}
