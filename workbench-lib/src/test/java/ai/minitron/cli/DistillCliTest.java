package ai.minitron.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.io.SafeTensors;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import ai.minitron.stats.ArrowIo;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/** {@code minitron distill} with its intermediate-state, teacher-correction and cache options, and {@code teacher-cache}. */
class DistillCliTest {
    @TempDir
    Path tmp;

    Path teacher;
    Path student;
    Path train;
    Path val;

    @BeforeEach
    void models() throws Exception {
        ModelConfig tc = ModelConfig.builder(Architecture.LLAMA).vocabSize(8192).hiddenSize(32).intermediateSize(64)
                .numHiddenLayers(2).numAttentionHeads(4).numKeyValueHeads(2).headDim(8).maxPositionEmbeddings(64)
                .normEps(1e-5).tieWordEmbeddings(true).build();
        ModelConfig sc = ModelConfig.builder(Architecture.LLAMA).vocabSize(8192).hiddenSize(16).intermediateSize(32)
                .numHiddenLayers(1).numAttentionHeads(4).numKeyValueHeads(2).headDim(8).maxPositionEmbeddings(64)
                .normEps(1e-5).tieWordEmbeddings(true).build();
        teacher = tmp.resolve("teacher");
        student = tmp.resolve("student");
        try (NDManager m = NDManager.newBaseManager()) {
            new LanguageModel(tc, Weights.random(tc, m, 1, DataType.FLOAT32), CliTest.TOKENIZER, TensorDType.F32)
                    .save(teacher, TensorDType.F32);
            new LanguageModel(sc, Weights.random(sc, m, 2, DataType.FLOAT32), CliTest.TOKENIZER, TensorDType.F32)
                    .save(student, TensorDType.F32);
        }
        String text = Files.readString(Path.of("../data/corpus/train.txt"));
        train = tmp.resolve("train.txt");
        val = tmp.resolve("validation.txt");
        Files.writeString(train, text.substring(0, 3000));
        Files.writeString(val, text.substring(3000, 5000));
    }

    CliRun distill(Path out, String... extra) {
        return distill(16, out, extra);
    }

    CliRun distill(int seqLen, Path out, String... extra) {
        String[] base = {"distill", "--teacher", teacher.toString(), "--student", student.toString(), "--data",
                train.toString(), "--tokens", "64", "--batch-size", "2", "--seq-len", "" + seqLen, "--eval-every", "1",
                "--eval-batches", "1", "--out", out.toString()};
        String[] args = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return CliRun.of(args);
    }

    @Test
    void distilsFromATeacherCacheWithoutTeacherForwards() {
        Path cache = tmp.resolve("cache");
        CliRun c = CliRun.of("teacher-cache", "--teacher", teacher.toString(), "--data", train.toString(),
                "--tokens", "100000", "--top-k", "8", "--seq-len", "16", "--shard-samples", "10", "--out", cache.toString());
        assertEquals(0, c.code(), c.err());
        assertTrue(c.out().contains("teacher cache written to"), c.out());
        assertTrue(Files.isRegularFile(cache.resolve("manifest.json")));
        CliRun r = distill(tmp.resolve("out"), "--teacher-cache", cache.toString(), "--loss", "TOP_K_KL", "--top-k",
                "8");
        assertEquals(0, r.code(), r.err());
        Table t = ArrowIo.read(tmp.resolve("out/distill_metrics.arrow"));
        assertEquals(0L, t.longColumn("teacher_tokens").getLong(t.rowCount() - 1));
        assertTrue(t.longColumn("teacher_cache_tokens").getLong(0) > 0);
        // A cache made for another seq-len does not line up with the batches: refused in one line.
        CliRun bad = distill(8, tmp.resolve("out2"), "--teacher-cache", cache.toString(), "--loss", "TOP_K_KL",
                "--top-k", "8");
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("seq_len 16") && bad.err().contains("--seq-len 8"), bad.err());
    }

    @Test
    void distilsWithTheIntermediateLossFromACorrectedTeacher() throws Exception {
        Path out = tmp.resolve("out");
        CliRun r = distill(out, "--is-loss", "cosine", "--layer-map", "1:0", "--embedding-loss", "--is-weight",
                "dynamic", "--teacher-correction-tokens", "64");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("IS COSINE"), r.err());
        assertTrue(Files.isRegularFile(out.resolve("teacher-corrected/config.json")));
        assertTrue(Files.isRegularFile(out.resolve("checkpoint/auxiliary.safetensors")), "projection checkpointed");
        Table t = ArrowIo.read(out.resolve("distill_metrics.arrow"));
        assertEquals(64L, t.longColumn("teacher_correction_tokens").getLong(0));
        assertEquals(64L, t.longColumn("teacher_tokens").getLong(t.rowCount() - 1));
        assertEquals(128L, t.longColumn("teacher_tokens_total").getLong(t.rowCount() - 1));
        assertTrue(SafeTensors.readCheckpoint(out.resolve("model")).keySet().stream().noneMatch(n -> n.startsWith("distill.")),
                "the projection is not exported with the student");
        String card = Files.readString(out.resolve("model/README.md"));
        assertTrue(card.contains("intermediate-state COSINE") && card.contains("teacher corrected on 64 tokens"), card);
    }

    @Test
    void benchDistillReportsThroughputAgainstTheMatmulCeiling() {
        CliRun r = CliRun.of("bench", "--distill", "--small", "--teacher", teacher.toString(), "--batch", "2",
                "--seq-len", "16", "--iters", "1", "--distill-steps", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("distillation step") && r.out().contains("of matmul")
                && r.out().contains("resident memory"), r.out());
    }

    @Test
    void badDistillationOptionsAreNamed() {
        CliRun w = distill(tmp.resolve("a"), "--is-loss", "mse", "--is-weight", "lots");
        assertEquals(1, w.code());
        assertTrue(w.err().contains("--is-weight"), w.err());
        CliRun map = distill(tmp.resolve("b"), "--is-loss", "mse", "--layer-map", "5:0");
        assertEquals(1, map.code());
        assertTrue(map.err().contains("teacher layer out of range"), map.err());
        CliRun kind = distill(tmp.resolve("c"), "--is-loss", "l1");
        assertEquals(1, kind.code());
        assertTrue(kind.err().contains("--is-loss"), kind.err());
        CliRun orphan = distill(tmp.resolve("d"), "--embedding-loss");
        assertEquals(1, orphan.code());
        assertTrue(orphan.err().contains("--is-loss"), orphan.err());
    }
}
