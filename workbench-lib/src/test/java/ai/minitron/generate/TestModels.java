package ai.minitron.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.Weights;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Small random-weight models for generation tests: every feature the cache must respect switched on somewhere. */
final class TestModels {
    static final Path TOKENIZER = Path.of("../data/tokenizer/tokenizer.json");

    private TestModels() {}

    /** Llama, GQA with 3 query heads per KV head, head_dim != hidden/heads, q/k/v/o biases, untied. */
    static ModelConfig llamaGqaBiased() {
        return new ModelConfig(Architecture.LLAMA, 61, 24, 40, 2, 6, 2, 8, 64, 10000.0, 1.0, 1e-5, "silu",
                false, true, false, "float32", null);
    }

    /** Qwen2: q/k/v biases without an o bias, 4 query heads per KV head, tied. */
    static ModelConfig qwen2() {
        return new ModelConfig(Architecture.QWEN2, 61, 16, 32, 2, 4, 1, 8, 64, 1000000.0, 1.0, 1e-6, "silu",
                true, false, false, "float32", null);
    }

    /** Nemotron: partial rotary (half of head_dim rotates), LayerNorm1p, squared ReLU, GQA, tied. */
    static ModelConfig nemotron() {
        return new ModelConfig(Architecture.NEMOTRON, 61, 16, 24, 2, 4, 2, 8, 64, 10000.0, 0.5, 1e-5, "relu2",
                true, false, false, "float32", null);
    }

    /** A one-layer Llama over the project tokenizer's 8192 ids, for text-level tests. */
    static ModelConfig textLlama(int maxPositions) {
        return new ModelConfig(Architecture.LLAMA, 8192, 32, 64, 1, 4, 2, 8, maxPositions, 10000.0, 1.0, 1e-5, "silu",
                true, false, false, "float32", null);
    }

    /**
     * Random weights with meaningful logits: projections scaled up from Weights.random's N(0, 0.02)
     * so logits spread over several units, and biases and norm weights random (Weights.random leaves
     * them at zero and identity, which would let a bias bug pass unseen).
     */
    static Weights weights(ModelConfig c, NDManager m, long seed) {
        Weights w = Weights.random(c, m, seed, DataType.FLOAT32);
        SplittableRandom rng = new SplittableRandom(seed + 7);
        for (String name : w.names().toArray(new String[0])) {
            NDArray a = w.get(name);
            Shape shape = a.getShape();
            boolean norm = name.contains("norm");
            boolean bias = name.endsWith(".bias");
            if (norm || bias) {
                float[] v = new float[(int) shape.size()];
                for (int i = 0; i < v.length; i++) {
                    double g = rng.nextDouble() * 2 - 1;
                    v[i] = (float) (norm && !c.layerNorm1p() && !bias ? 1 + 0.3 * g : 0.3 * g);
                }
                w.put(name, w.manager().create(v, shape));
            } else {
                w.put(name, a.mul(10));
            }
        }
        return w;
    }

    /** Deterministic pseudo-random token ids in [1, vocab). */
    static long[] tokens(int n, int vocab, long seed) {
        return new SplittableRandom(seed).longs(n, 1, vocab).toArray();
    }
}
