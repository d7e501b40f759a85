package ai.minitron.importance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import ai.minitron.config.ModelConfig;
import ai.minitron.data.CalibrationSet;
import ai.minitron.model.Attention;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.LmLoss;
import ai.minitron.model.Norm;
import ai.minitron.model.Rope;
import ai.minitron.model.Scalars;
import ai.minitron.model.Weights;
import ai.minitron.progress.Progress;
import ai.minitron.tap.Taps;
import java.util.ArrayList;
import java.util.List;

/**
 * Loss-based depth importance (Minitron 2407.14679 §2.2 and Fig. 9; 2408.11796 §2 "depth
 * pruning"): the calibration LM loss of the model with some layers removed, computed by running
 * {@link DecoderLM#layer} over the kept layers only (no new model code, no copied weights).
 *
 * <pre>
 *   layer_drop(l)        = L(model without layer l) - L(model)
 *   block_drop_kK(s)     = L(model without layers s .. s+K-1) - L(model)
 * </pre>
 *
 * L is the mean next-token NLL over all valid calibration tokens. Higher = removing it hurts more =
 * more important. Costs one forward over the set per scored layer or block.
 */
public final class DepthScan {
    private final ModelConfig config;
    private final Weights weights;
    private final CalibrationSet cal;
    private final int batchSize;

    public DepthScan(ModelConfig config, Weights weights, CalibrationSet cal, int batchSize) {
        cal.checkContext(config.maxPositionEmbeddings()).checkVocab(config.vocabSize());
        this.config = config;
        this.weights = weights;
        this.cal = cal;
        this.batchSize = batchSize;
    }

    /** The loss of the full model. */
    public double baseline() {
        return loss(allLayers());
    }

    /** Mean NLL with only {@code keep} layers (in order) run. */
    public double loss(int[] keep) {
        double sum = 0;
        for (CalibrationSet.Batch bt : cal.batches(batchSize)) {
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDManager m = weights.manager();
                NDArray mask = bt.mask(m, weights.dataType());
                NDArray logits = forward(bt.inputs(m), mask, keep);
                NDArray nll = LmLoss.tokenNll(logits, bt.targets(m));
                if (mask != null) nll = nll.mul(mask);
                sum += nll.sum().toType(DataType.FLOAT64, false).getDouble();
            }
        }
        return sum / cal.tokens();
    }

    /** Loss increase when each single layer is removed [layers]. */
    public double[] layerDrop(double baseline, Progress progress) {
        int n = config.numHiddenLayers();
        double[] out = new double[n];
        for (int l = 0; l < n; l++) {
            out[l] = loss(without(l, 1)) - baseline;
            if (progress != null) progress.update("layer drop", l + 1, n);
        }
        return out;
    }

    /** Loss increase when the block of k layers starting at s is removed, for s = 0 .. L-k [L-k+1]. */
    public double[] blockDrop(int k, double baseline, Progress progress) {
        int n = config.numHiddenLayers();
        if (k < 1 || k >= n) {
            throw new IllegalArgumentException("block size k must be in [1, " + (n - 1) + "] for a model of " + n
                    + " layers, got " + k);
        }
        double[] out = new double[n - k + 1];
        for (int s = 0; s < out.length; s++) {
            out[s] = loss(without(s, k)) - baseline;
            if (progress != null) progress.update("block drop k=" + k, s + 1, out.length);
        }
        return out;
    }

    private int[] allLayers() {
        int[] all = new int[config.numHiddenLayers()];
        for (int i = 0; i < all.length; i++) all[i] = i;
        return all;
    }

    /** The layers other than [start, start + k). */
    public int[] without(int start, int k) {
        List<Integer> keep = new ArrayList<>();
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            if (l < start || l >= start + k) keep.add(l);
        }
        return keep.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Logits [B, T, V] running only the kept layers (right padding: default positions are exact). */
    NDArray forward(NDArray ids, NDArray mask, int[] keep) {
        NDManager m = ids.getManager();
        long b = ids.getShape().get(0);
        long t = ids.getShape().get(1);
        NDArray embed = weights.get("model.embed_tokens.weight");
        DataType dtype = embed.getDataType();
        NDArray pos = mask == null
                ? m.arange(0, t, 1, DataType.INT64).reshape(1, t).repeat(0, b)
                : Scalars.maximum(mask.toType(DataType.INT64, false).cumSum(1).sub(1), 0);
        NDList cs = Rope.cosSin(config, pos, dtype);
        NDArray bias = Attention.maskBias(m, t, mask, dtype);
        NDArray x = ids.getNDArrayInternal().embedding(ids, embed, SparseFormat.DENSE).singletonOrThrow();
        for (int l : keep) {
            x = DecoderLM.layer(config, weights, l, x, cs.get(0), cs.get(1), bias, Taps.NONE);
        }
        x = Norm.apply(config, x, weights.get("model.norm.weight"), weights.bias("model.norm.bias"));
        NDArray head = config.tieWordEmbeddings() ? embed : weights.get("lm_head.weight");
        return Weights.linear(x, head, null);
    }
}
