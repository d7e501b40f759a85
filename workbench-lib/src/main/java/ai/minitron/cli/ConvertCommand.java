package ai.minitron.cli;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.config.TensorSchema;
import ai.minitron.io.HostTensor;
import ai.minitron.io.OutputDir;
import ai.minitron.io.OutputLock;
import ai.minitron.io.TensorDType;
import ai.minitron.io.gguf.GgufFile;
import ai.minitron.model.GgufConversion;
import ai.minitron.io.gguf.GgufTensorInfo;
import ai.minitron.io.gguf.LlamaGguf;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import ai.minitron.tokenize.GgufTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.LongConsumer;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code minitron convert --in FILE.gguf --out DIR}: a llama.cpp GGUF model (llama architecture,
 * any of the quantizations {@link ai.minitron.io.gguf.Dequantize} reads) written as a Hugging Face
 * checkpoint directory: config.json, model.safetensors, tokenizer.json and tokenizer_config.json.
 * Quantized weights are dequantized to float32 first; the output stores them as F32 (default), F16
 * or BF16.
 */
@Command(name = "convert", description = "Convert a llama GGUF file (llama.cpp) to a Hugging Face checkpoint directory.")
public final class ConvertCommand implements Callable<Integer> {
    @Option(names = "--in", required = true, description = "GGUF file (llama architecture).")
    Path in;

    @Option(names = "--out", required = true, description = "Output checkpoint directory (created if needed).")
    Path out;

    @Option(names = "--dtype", defaultValue = "F32", description = "Storage dtype: F32, F16 or BF16 (default ${DEFAULT-VALUE}).")
    TensorDType dtype;

    @Mixin
    OutputOptions output;

    @Override
    public Integer call() throws IOException {
        if (!Files.isRegularFile(in)) {
            throw new IllegalArgumentException("--in: file not found: " + in);
        }
        long t0 = System.nanoTime();
        ModelConfig c;
        String types;
        try (OutputLock lock = OutputOptions.lock(out); GgufFile g = GgufFile.open(in)) {
            output.check(out, OutputKind.CONVERT, source(g));
            types = typeCounts(g);
            int steps = TensorSchema.expectedShapes(LlamaGguf.config(g)).size() + 1; // + saving
            try (ProgressBar pb = ProgressBars.open("convert", steps, " steps")) {
                c = convert(g, out, dtype, pb::stepTo);
            }
        }
        System.out.println("converted   " + in + " (" + types + ")");
        System.out.printf("model       %s, %d layers, hidden %d, %d/%d heads, mlp %d, vocab %d, %,d parameters%n",
                c.architecture().hfClass(), c.numHiddenLayers(), c.hiddenSize(), c.numAttentionHeads(),
                c.numKeyValueHeads(), c.intermediateSize(), c.vocabSize(), ParamCount.of(c).total());
        System.out.printf("wrote       %s (config.json, %s weights, tokenizer.json) in %.1f s%n", out, dtype,
                (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    /**
     * Converts an open GGUF file into a checkpoint directory (library entry point for notebooks). The
     * tensors are read and checked before anything is written; the directory is then written whole
     * into a temporary sibling and swapped in ({@link OutputDir#replace}), so an existing {@code outDir}
     * is either untouched (on failure) or replaced entirely (no old model card or metrics beside the
     * new weights).
     *
     * @param storage F32, F16 or BF16
     * @param progress told the number of steps done: one per tensor dequantized, one more when the
     *     checkpoint is saved (may be null)
     * @return the configuration written
     */
    public static ModelConfig convert(GgufFile g, Path outDir, TensorDType storage, LongConsumer progress)
            throws IOException {
        if (storage != TensorDType.F32 && storage != TensorDType.F16 && storage != TensorDType.BF16) {
            throw new IllegalArgumentException("--dtype must be F32, F16 or BF16, not " + storage);
        }
        ModelConfig[] c = new ModelConfig[1];
        OutputDir.replace(outDir, OutputKind.CONVERT.key, source(g), dir -> {
            c[0] = GgufConversion.write(g, dir, storage, progress);
        });
        return c[0];
    }

    /** What a converted checkpoint is made of: the GGUF file's name and size. */
    static String source(GgufFile g) throws IOException {
        return "gguf:" + g.path().getFileName() + ":" + java.nio.file.Files.size(g.path());
    }

    /** "Q4_1 x210, F32 x61, Q8_0 x1": how many tensors of each GGML type the file holds. */
    static String typeCounts(GgufFile g) {
        Map<String, Integer> counts = new TreeMap<>();
        for (GgufTensorInfo t : g.tensors()) {
            counts.merge(t.typeName(), 1, Integer::sum);
        }
        StringBuilder sb = new StringBuilder();
        counts.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).forEach(e ->
                sb.append(sb.length() == 0 ? "" : ", ").append(e.getKey()).append(" x").append(e.getValue()));
        return sb.toString();
    }
}
