package ai.minitron.model;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.TensorSchema;
import ai.minitron.io.FileTrees;
import ai.minitron.io.HostTensor;
import ai.minitron.io.TensorDType;
import ai.minitron.io.gguf.GgufFile;
import ai.minitron.io.gguf.LlamaGguf;
import ai.minitron.tokenize.GgufTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * A llama.cpp GGUF file as a Hugging Face checkpoint: config, dequantised weights stored as F32, F16 or
 * BF16, and the tokenizer rebuilt from the GGUF metadata. {@code minitron convert} and the case study's
 * teacher both come through here.
 */
public final class GgufConversion {
    private GgufConversion() {}

    /** Number of progress steps {@link #write} reports (one per tensor, one for saving). */
    public static long steps(GgufFile g) {
        return TensorSchema.expectedShapes(LlamaGguf.config(g)).size() + 1L;
    }

    /**
     * Writes the checkpoint of {@code g} into {@code dir} (created; its files are replaced).
     *
     * @param progress receives the number of steps done (see {@link #steps}), or null
     */
    public static ModelConfig write(GgufFile g, Path dir, TensorDType storage, LongConsumer progress) throws IOException {
        if (storage != TensorDType.F32 && storage != TensorDType.F16 && storage != TensorDType.BF16) {
            throw new IllegalArgumentException("storage dtype must be F32, F16 or BF16, not " + storage);
        }
        ModelConfig c = LlamaGguf.config(g);
        Map<String, HostTensor> host = LlamaGguf.hfTensors(g, c, progress);
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.fromHost(c, host, m, DataType.FLOAT32, g.path().toString());
            host = null; // let the dequantized copies go before save makes its own
            Files.createDirectories(dir);
            Path tokenizer = GgufTokenizer.write(g.metadata(), dir);
            try (LanguageModel lm = new LanguageModel(c, w, tokenizer, storage)) {
                lm.save(dir, storage);
            }
        }
        if (progress != null) {
            progress.accept(steps(g));
        }
        return c;
    }

    /**
     * Converts {@code gguf} to {@code dir} unless a finished conversion is there (written to DIR.partial,
     * then moved, so a half-written checkpoint is never taken for a finished one). Returns {@code dir}.
     */
    public static Path convertOnce(Path gguf, Path dir, TensorDType storage, LongConsumer progress) throws IOException {
        if (Files.isRegularFile(dir.resolve("config.json")) && Files.isRegularFile(dir.resolve("model.safetensors"))) {
            return dir;
        }
        if (!Files.isRegularFile(gguf)) {
            throw new IllegalArgumentException(gguf + ": no such GGUF file (tools/fetch_smollm2.py fetches SmolLM2)");
        }
        Path tmp = dir.resolveSibling(dir.getFileName() + ".partial");
        FileTrees.delete(tmp);
        try (GgufFile g = GgufFile.open(gguf)) {
            write(g, tmp, storage, progress);
        }
        FileTrees.delete(dir);
        Files.move(tmp, dir);
        return dir;
    }
}
