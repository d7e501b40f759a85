package ai.minitron.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.io.AtomicFiles;
import ai.minitron.io.HostTensor;
import ai.minitron.io.SafeTensors;
import ai.minitron.io.TensorDType;
import ai.minitron.tokenize.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A checkpoint directory brought to life: its {@link ModelConfig}, its {@link Weights} on a device,
 * and the path of its {@code tokenizer.json} (if any). The directory layout is Hugging Face's:
 * {@code config.json}, {@code model.safetensors} (or shards + {@code model.safetensors.index.json}),
 * {@code tokenizer.json}; so a directory saved here loads in transformers and vice versa.
 */
public final class LanguageModel implements AutoCloseable {
    /** Shard size for saving, as Hugging Face's default max_shard_size ("5GB"). */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

    private final ModelConfig config;
    private final Weights weights;
    private final Path tokenizerJson;
    private final TensorDType storageDtype;
    private final Path source; // the directory it was loaded from, or null

    public LanguageModel(ModelConfig config, Weights weights, Path tokenizerJson, TensorDType storageDtype) {
        this(config, weights, tokenizerJson, storageDtype, null);
    }

    private LanguageModel(ModelConfig config, Weights weights, Path tokenizerJson, TensorDType storageDtype, Path source) {
        this.source = source;
        this.config = config;
        this.weights = weights;
        this.tokenizerJson = tokenizerJson;
        this.storageDtype = storageDtype;
    }

    /**
     * Opens the tokenizer for this model: {@code override} when given, else the checkpoint's own
     * {@code tokenizer.json}. Throws when there is none, or when the tokenizer has more tokens than the
     * model's {@code vocab_size} (ids past the embedding would fail deep inside the forward).
     */
    public Tokenizer openTokenizer(Path override) {
        Path tp = override != null ? override : tokenizerJson;
        if (tp == null) {
            throw new IllegalArgumentException((source != null ? source + ": " : "")
                    + "no tokenizer.json in the checkpoint; pass a tokenizer (--tokenizer)");
        }
        Tokenizer tok = Tokenizer.load(tp);
        try {
            checkVocab(tok);
        } catch (IllegalArgumentException e) {
            tok.close();
            throw e;
        }
        return tok;
    }

    /** Throws when {@code tok} has ids the model cannot embed (more tokens than {@code vocab_size}). */
    public void checkVocab(Tokenizer tok) {
        if (tok.vocabSize() > config.vocabSize()) {
            String name = tok.path() != null ? tok.path().toString() : "tokenizer";
            throw new IllegalArgumentException(name + ": tokenizer has " + tok.vocabSize()
                    + " tokens but the model's vocab_size is " + config.vocabSize());
        }
    }

    /** Loads a checkpoint directory in float32 on the manager's device. */
    public static LanguageModel load(Path dir, NDManager manager) {
        return load(dir, manager, DataType.FLOAT32);
    }

    /**
     * Loads a checkpoint directory. Errors name the directory, file, tensor or field at fault.
     *
     * @param dtype compute dtype: float32 (default), float64 (for gradient checks) or float16 (GPU)
     */
    public static LanguageModel load(Path dir, NDManager manager, DataType dtype) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + ": not a checkpoint directory (expected config.json + safetensors)");
        }
        Weights.requireSupported(dtype, manager.getDevice());
        ModelConfig config = ModelConfig.load(dir.resolve("config.json"));
        Map<String, HostTensor> host;
        try {
            host = SafeTensors.readCheckpoint(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot read weights: " + e.getMessage(), e);
        }
        TensorDType storage = host.values().stream().map(HostTensor::dtype).findFirst().orElse(TensorDType.F32);
        Weights w = Weights.fromHost(config, host, manager, dtype, dir.toString());
        Path tok = dir.resolve("tokenizer.json");
        return new LanguageModel(config, w, Files.isRegularFile(tok) ? tok : null, storage, dir);
    }

    /**
     * Writes this model as a Hugging Face checkpoint directory (created if needed): config.json with
     * {@code torch_dtype} set to the storage dtype, safetensors weights (sharded above 5 GB; stale weight files of an earlier save are removed after the new ones are in place), and a copy
     * of tokenizer.json when the model has one. Every file is written atomically.
     */
    public void save(Path dir, TensorDType storage) {
        save(dir, storage, DEFAULT_MAX_SHARD_BYTES);
    }

    public void save(Path dir, TensorDType storage, long maxShardBytes) {
        try {
            Files.createDirectories(dir);
            Map<String, HostTensor> host = weights.toHost(storage);
            SafeTensors.writeSharded(dir, host.values(), maxShardBytes, Map.of("format", "pt"));
            ModelConfig out = config.withTorchDtype(torchDtypeName(storage));
            AtomicFiles.writeString(dir.resolve("config.json"), out.toJsonString() + "\n");
            if (tokenizerJson != null && !tokenizerJson.toAbsolutePath().equals(dir.resolve("tokenizer.json").toAbsolutePath())) {
                AtomicFiles.copy(tokenizerJson, dir.resolve("tokenizer.json"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save checkpoint to " + dir + ": " + e.getMessage(), e);
        }
    }

    public static String torchDtypeName(TensorDType t) {
        return switch (t) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            case F64 -> "float64";
            default -> throw new IllegalArgumentException("not a floating storage dtype: " + t);
        };
    }

    /** Logits [B, T, V] of unpadded token rows (all of equal length); closes nothing it returns. */
    public NDArray logits(NDManager m, long[][] tokens) {
        NDArray ids = m.create(tokens);
        return DecoderLM.forward(config, weights, ids);
    }

    public ModelConfig config() {
        return config;
    }

    public Weights weights() {
        return weights;
    }

    /** tokenizer.json of the checkpoint, or null. */
    public Path tokenizerJson() {
        return tokenizerJson;
    }

    /** The dtype the weights were stored in on disk. */
    public TensorDType storageDtype() {
        return storageDtype;
    }

    @Override
    public void close() {
        weights.close();
    }
}
