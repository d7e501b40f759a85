package ai.minitron.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.Weights;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Random weights and tokens for the generation tests (their configurations are in {@link ai.minitron.TestConfigs}). */
final class TestModels {
    static final Path TOKENIZER = Path.of("../data/tokenizer/tokenizer.json");

    private TestModels() {}

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
