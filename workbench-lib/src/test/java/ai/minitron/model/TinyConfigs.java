package ai.minitron.model;

import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;

/** Small configurations for unit tests (not fixtures): every feature switched on somewhere. */
final class TinyConfigs {
    private TinyConfigs() {}

    /** Llama with GQA (2 queries per KV head), head_dim != hidden/heads, q/k/v/o and MLP biases, untied. */
    static ModelConfig llamaBiased() {
        return new ModelConfig(Architecture.LLAMA, 23, 12, 10, 2, 4, 2, 4, 64, 10000.0, 1.0, 1e-5, "silu",
                false, true, true, "float32", null);
    }

    /** Nemotron: LayerNorm1p, squared ReLU, partial rotary, tied embeddings. */
    static ModelConfig nemotronTied() {
        return new ModelConfig(Architecture.NEMOTRON, 19, 8, 12, 2, 2, 1, 8, 64, 10000.0, 0.5, 1e-5, "relu2",
                true, false, false, "float32", null);
    }
}
