package ai.minitron.importance;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.data.CalibrationSet;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Small random models and calibration sets for the importance tests. */
final class Models {
    private Models() {}

    /**
     * Random weights whose norms are not at identity (so embedding channels differ) and whose
     * weights are larger than the training init (so activations are not all alike).
     */
    static Weights random(ModelConfig c, NDManager m, long seed) {
        Weights w = Weights.random(c, m, seed, DataType.FLOAT32);
        SplittableRandom r = new SplittableRandom(seed + 1);
        for (String n : w.names()) {
            if (n.contains("norm.weight")) {
                float[] v = new float[(int) w.get(n).size()];
                for (int i = 0; i < v.length; i++) v[i] = (float) (0.5 + r.nextDouble());
                w.put(n, m.create(v, w.get(n).getShape()));
            } else if (n.contains("proj")) {
                w.put(n, w.get(n).mul(10));
            }
        }
        return w;
    }

    /** N random rows of len + 1 tokens (packed-like, all the same length). */
    static CalibrationSet rows(ModelConfig c, int n, int len, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[][] rows = new long[n][len + 1];
        for (long[] row : rows) {
            for (int j = 0; j < row.length; j++) row[j] = r.nextInt(c.vocabSize());
        }
        return CalibrationSet.ofRows(rows, "random rows seed " + seed);
    }

    /** N random rows of random lengths in [2, maxLen + 1] tokens. */
    static CalibrationSet ragged(ModelConfig c, int n, int maxLen, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[][] rows = new long[n][];
        for (int i = 0; i < n; i++) {
            rows[i] = new long[2 + r.nextInt(maxLen)];
            for (int j = 0; j < rows[i].length; j++) rows[i][j] = r.nextInt(c.vocabSize());
        }
        return CalibrationSet.ofRows(rows, "ragged rows seed " + seed);
    }

    /** Saves a random model (with the repository's tokenizer) as a checkpoint directory. */
    static Path save(ModelConfig c, Weights w, Path dir) {
        Path tok = Path.of("../data/tokenizer/tokenizer.json");
        new LanguageModel(c, w, tok.toFile().exists() ? tok : null, TensorDType.F32).save(dir, TensorDType.F32);
        return dir;
    }
}
