package ai.minitron.reliability;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.cli.CliRun;
import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Small checkpoints and texts for the input-validation and load-sanity reliability tests. */
final class InputFixtures {
    private InputFixtures() {}

    static final Path TOKENIZER = Path.of("../data/tokenizer/tokenizer.json");

    /** A tiny Llama (3 layers, hidden 16, 4 heads over 2 KV groups, context 64) over the project tokenizer. */
    static final ModelConfig C = ModelConfig.builder(Architecture.LLAMA).vocabSize(8192).hiddenSize(16)
            .intermediateSize(24).numHiddenLayers(3).numAttentionHeads(4).numKeyValueHeads(2).headDim(8)
            .maxPositionEmbeddings(64).normEps(1e-5).tieWordEmbeddings(true).build();

    /** Saves a random {@link #C} with {@code tokenizer} into {@code dir} in {@code storage}. */
    static Path model(Path dir, long seed, Path tokenizer, TensorDType storage) {
        try (NDManager m = NDManager.newBaseManager()) {
            new LanguageModel(C, Weights.random(C, m, seed, DataType.FLOAT32), tokenizer, storage).save(dir, storage);
        }
        return dir;
    }

    static Path model(Path dir) {
        return model(dir, 3, TOKENIZER, TensorDType.F32);
    }

    /** The first {@code chars} characters of the validation split, as a file. */
    static Path text(Path file, int chars) {
        try {
            Files.writeString(file, Files.readString(Path.of("../data/corpus/validation.txt")).substring(0, chars));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An importance run of {@code model} (activation + block importance on 4 samples of 16 tokens). */
    static Path importance(Path model, Path out) {
        CliRun r = CliRun.of("importance", "--model", model.toString(), "--data", "validation", "--samples", "4",
                "--seq-len", "16", "--out", out.toString(), "--metrics", "activation,block_importance", "--no-charts");
        if (r.code() != 0) {
            throw new IllegalStateException("importance failed: " + r.err());
        }
        return out;
    }
}
