package ai.minitron.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * Next-token cross-entropy (the language-modelling loss) and perplexity.
 * {@code nll = -log softmax(logits)[target]}, averaged over the tokens the mask keeps.
 */
public final class LmLoss {
    private LmLoss() {}

    /**
     * Per-token negative log-likelihood [B, T].
     *
     * @param logits [B, T, V]
     * @param targets [B, T] int64, the token that should follow each position
     */
    public static NDArray tokenNll(NDArray logits, NDArray targets) {
        NDArray logp = logits.logSoftmax(-1);
        NDArray idx = targets.toType(DataType.INT64, false).expandDims(-1); // [B,T,1]
        return logp.gather(idx, -1).squeeze(-1).neg();
    }

    /** Mean NLL over the kept tokens (mask [B, T] of 1/0, or null for all): a scalar. */
    public static NDArray mean(NDArray logits, NDArray targets, NDArray mask) {
        if (mask == null) {
            return tokenNll(logits, targets).mean();
        }
        NDArray m = mask.toType(logits.getDataType(), false);
        return sum(logits, targets, m).div(m.sum());
    }

    /** Summed NLL over the kept tokens (mask [B, T] of 1/0, or null for all): a scalar. */
    public static NDArray sum(NDArray logits, NDArray targets, NDArray mask) {
        NDArray nll = tokenNll(logits, targets); // [B,T]
        return mask == null ? nll.sum() : nll.mul(mask.toType(nll.getDataType(), false)).sum();
    }

    /** exp(mean NLL). */
    public static double perplexity(double meanNll) {
        return Math.exp(meanNll);
    }
}
