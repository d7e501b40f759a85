package ai.minitron.reliability;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.io.Sha256;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Tiny checkpoints, text and command lines shared by the reliability tests. */
final class Fixtures {
    static final Path TOKENIZER = Path.of("../data/tokenizer/tokenizer.json");
    static final ModelConfig C = ModelConfig.builder(Architecture.LLAMA).vocabSize(8192).hiddenSize(16)
            .intermediateSize(24).numHiddenLayers(3).numAttentionHeads(4).numKeyValueHeads(2).headDim(8)
            .maxPositionEmbeddings(64).normEps(1e-5).tieWordEmbeddings(true).build();

    private Fixtures() {}

    /** A tiny random Llama checkpoint with the embedded tokenizer. */
    static Path model(Path dir, long seed) {
        try (NDManager m = NDManager.newBaseManager()) {
            new LanguageModel(C, Weights.random(C, m, seed, DataType.FLOAT32), TOKENIZER, TensorDType.F32)
                    .save(dir, TensorDType.F32);
        }
        return dir;
    }

    /** The first 20,000 characters of the validation split, as a corpus file. */
    static Path text(Path tmp) {
        Path text = tmp.resolve("text.txt");
        try {
            Files.writeString(text, Files.readString(Path.of("../data/corpus/validation.txt")).substring(0, 20_000));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text;
    }

    static String[] importance(Path model, Path out, long seed) {
        return new String[] {"importance", "--model", model.toString(), "--data", "validation", "--samples", "4",
                "--seq-len", "16", "--out", out.toString(), "--metrics", "activation,block_importance", "--no-charts",
                "--seed", String.valueOf(seed)};
    }

    static String[] prune(Path model, Path importance, Path out, int hidden) {
        return new String[] {"prune", "--model", model.toString(), "--importance", importance.toString(), "--hidden",
                String.valueOf(hidden), "--out", out.toString()};
    }

    static String[] distill(Path model, Path text, Path out, long tokens) {
        return new String[] {"distill", "--teacher", model.toString(), "--student", model.toString(), "--data",
                text.toString(), "--val", text.toString(), "--tokens", String.valueOf(tokens), "--batch-size", "2",
                "--seq-len", "16", "--eval-every", "4", "--eval-batches", "1", "--checkpoint-every", "4", "--out",
                out.toString()};
    }

    /** SHA-256 of every non-hidden file under {@code dir}, by relative path. */
    static Map<String, String> hashes(Path dir) {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                String rel = dir.relativize(f).toString();
                if (!rel.startsWith(".")) {
                    out.put(rel, Sha256.hex(new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** Hidden siblings a write left beside {@code dir} (temporary folders, lock files). */
    static List<String> leftovers(Path dir) {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir.toAbsolutePath().getParent())) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("." + dir.getFileName() + "."))
                    .forEach(out::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
