package ai.minitron.importance;

import ai.minitron.config.ModelConfig;
import ai.minitron.data.CalibrationSet;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.Weights;
import ai.minitron.progress.Progress;
import ai.minitron.train.ValidationLoss;
import java.util.ArrayList;
import java.util.List;

/**
 * Loss-based depth importance (Minitron 2407.14679 §2.2 and Fig. 9; 2408.11796 §2 "depth
 * pruning"): the calibration LM loss of the model with some layers removed, computed by running
 * {@link DecoderLM#forward} over the kept layers only (no new model code, no copied weights), with the
 * token-mean {@link ValidationLoss} every loss evaluation uses.
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
        return loss(DecoderLM.allLayers(config));
    }

    /** Mean NLL per valid token with only {@code keep} layers (in order) run. */
    public double loss(int[] keep) {
        return ValidationLoss.tokenMean(config, weights, cal, batchSize, keep);
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

    /** The layers other than [start, start + k). */
    public int[] without(int start, int k) {
        List<Integer> keep = new ArrayList<>();
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            if (l < start || l >= start + k) keep.add(l);
        }
        return keep.stream().mapToInt(Integer::intValue).toArray();
    }
}
