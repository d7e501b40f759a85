package ai.minitron.model;

import ai.djl.ndarray.NDArray;
import ai.minitron.config.ModelConfig;

/**
 * The two normalisations of the supported families, over the last axis of x [B, T, H].
 *
 * <ul>
 *   <li>RMSNorm (Llama, Mistral, Qwen2): {@code w * x / sqrt(mean(x^2) + eps)}.
 *   <li>LayerNorm1p (Nemotron): {@code (1 + w) * (x - mean) / sqrt(var + eps) + b}, i.e. LayerNorm whose
 *       stored scale is an offset from one, so weight decay pulls it towards identity.
 * </ul>
 * Written with the activation as the left operand so every intermediate belongs to the forward's
 * manager, not the weights'.
 */
public final class Norm {
    private Norm() {}

    /** @param bias only for LayerNorm1p; null for RMSNorm */
    public static NDArray apply(ModelConfig c, NDArray x, NDArray weight, NDArray bias) {
        return c.layerNorm1p() ? layerNorm1p(x, weight, bias, c.normEps()) : rmsNorm(x, weight, c.normEps());
    }

    public static NDArray rmsNorm(NDArray x, NDArray weight, double eps) {
        NDArray rms = x.square().mean(new int[] {-1}, true).add(eps).sqrt(); // [B, T, 1]
        return x.div(rms).mul(weight);
    }

    public static NDArray layerNorm1p(NDArray x, NDArray weight, NDArray bias, double eps) {
        NDArray mean = x.mean(new int[] {-1}, true); // [B, T, 1]
        NDArray centred = x.sub(mean);
        NDArray var = centred.square().mean(new int[] {-1}, true);
        NDArray xhat = centred.div(var.add(eps).sqrt());
        return xhat.mul(weight).add(xhat).add(bias); // xhat * (1 + w) + b
    }
}
