package ai.minitron.importance;

import ai.minitron.config.ModelConfig;
import ai.minitron.tap.Site;

/**
 * Block Importance (Men et al., "ShortGPT", 2024; Minitron 2407.14679 §2.2 depth):
 *
 * <pre>
 *   BI_l = 1 - E_{b, t} [ cos(x_l[b, t], x_{l+1}[b, t]) ]      x_l = LAYER_IN, x_{l+1} = LAYER_OUT
 * </pre>
 *
 * the expectation over all valid (non-padding) calibration tokens. A layer that barely changes the
 * residual stream has cos ≈ 1 and BI ≈ 0: it is the first to drop. Computed from the
 * {@code cos_in_out} accumulators of the {@link ActivationPass}.
 */
public final class BlockImportance {
    private BlockImportance() {}

    public static double[] scores(ModelConfig c, ActivationStats stats) {
        double[] bi = new double[c.numHiddenLayers()];
        for (int l = 0; l < bi.length; l++) {
            ChannelAccumulator a = stats.get(Site.LAYER_OUT, l, ActivationPass.COS);
            bi[l] = 1.0 - a.sum(0, 0) / a.tokens();
        }
        return bi;
    }
}
