package ai.minitron.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import ai.minitron.config.ModelConfig;
import ai.minitron.tap.Site;
import ai.minitron.tap.Taps;

/**
 * The feed-forward block of layer l on x [B, T, H] -> [B, T, H].
 *
 * <ul>
 *   <li>SwiGLU (Llama, Mistral, Qwen2): {@code down(silu(gate(x)) * up(x))}.
 *   <li>Squared ReLU, non-gated (Nemotron): {@code down(relu(up(x))^2)}.
 * </ul>
 * The activation entering down_proj, [B, T, I], is the {@link Site#MLP_ACT} tap: Minitron scores
 * neuron i by this activation.
 */
public final class Mlp {
    private Mlp() {}

    public static NDArray forward(ModelConfig c, Weights w, int layer, NDArray x, Taps taps) {
        String p = "model.layers." + layer + ".mlp.";
        NDArray up = Weights.linear(x, w.get(p + "up_proj.weight"), w.bias(p + "up_proj.bias")); // [B,T,I]
        NDArray act;
        if (c.gatedMlp()) {
            NDArray gate = Weights.linear(x, w.get(p + "gate_proj.weight"), w.bias(p + "gate_proj.bias"));
            act = gate.mul(Activation.sigmoid(gate)).mul(up); // silu(gate) * up
        } else {
            NDArray r = Activation.relu(up);
            act = r.mul(r); // relu(up)^2
        }
        if (taps.wants(Site.MLP_ACT)) {
            taps.emit(Site.MLP_ACT, layer, act);
        }
        return Weights.linear(act, w.get(p + "down_proj.weight"), w.bias(p + "down_proj.bias"));
    }
}
