package ai.minitron.io.gguf;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.io.TensorDType;
import ai.minitron.model.Weights;
import java.io.IOException;
import java.nio.file.Path;

/** Tiny llama GGUF files for tests outside this package (the model of {@link LlamaGgufTest}). */
public final class TinyGgufs {
    private TinyGgufs() {}

    /**
     * Writes a tiny llama GGUF with random weights; {@code unsupported} adds a tensor of a layer the
     * model does not have, which the converter refuses only after reading the metadata and tokenizer.
     */
    public static void write(Path file, long seed, boolean unsupported) throws IOException {
        try (NDManager m = NDManager.newBaseManager();
                Weights w = Weights.random(LlamaGgufTest.TINY, m, seed, DataType.FLOAT32)) {
            GgufWriter g = LlamaGgufTest.tinyGguf(w.toHost(TensorDType.F32), LlamaGgufTest.TINY);
            if (unsupported) {
                g.addF32("blk.7.attn_q.weight", new long[] {64, 64}, new float[64 * 64]);
            }
            g.write(file);
        }
    }
}
