package ai.minitron.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.importance.ImportanceTable;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code minitron importance} end to end on a small random model with the repository's tokenizer. */
class ImportanceCommandTest {
    static final Path TOKENIZER = Path.of("../data/tokenizer/tokenizer.json");
    static final ModelConfig C = ModelConfig.builder(Architecture.LLAMA).vocabSize(8192).hiddenSize(16)
            .intermediateSize(24).numHiddenLayers(2).numAttentionHeads(4).numKeyValueHeads(2).headDim(8)
            .maxPositionEmbeddings(64).normEps(1e-5).tieWordEmbeddings(true).build();

    @TempDir
    static Path tmp;

    static Path model;

    @BeforeAll
    static void saveModel() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(C, m, 3, DataType.FLOAT32);
            model = tmp.resolve("model");
            new LanguageModel(C, w, TOKENIZER, TensorDType.F32).save(model, TensorDType.F32);
        }
    }

    @Test
    void writesTablesProvenanceAndCharts() throws Exception {
        Path out = tmp.resolve("run");
        CliRun r = CliRun.of("importance", "--model", model.toString(), "--data", "validation", "--samples", "8",
                "--seq-len", "32", "--batch-size", "4", "--out", out.toString(), "--block-k", "1");
        assertEquals(0, r.code(), r.err());
        for (String f : new String[] {"importance.arrow", "accumulators.arrow", "agreement.arrow", "stability.arrow",
                "run.json", "charts/heads_heatmap.png", "charts/heads_heatmap.svg", "charts/depth_curves.png"}) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f + " missing; stdout: " + r.out());
        }
        ImportanceTable t = ImportanceTable.load(out);
        assertEquals(8, t.run().getAsJsonObject("calibration").get("samples").getAsInt());
        assertTrue(t.run().getAsJsonObject("calibration").get("source").getAsString().endsWith("validation.txt"));
        assertEquals(4, t.best().ranking("heads", 1).length);
        assertTrue(r.out().contains("calibration loss"), r.out());
    }

    @Test
    void choosesMetricsAndSkipsDepth() {
        Path out = tmp.resolve("run2");
        CliRun r = CliRun.of("importance", "--model", model.toString(), "--data", "../data/corpus/test.txt",
                "--samples", "4", "--seq-len", "16", "--out", out.toString(), "--metrics", "activation,magnitude",
                "--no-depth", "--no-charts", "--batch-size", "1");
        assertEquals(0, r.code(), r.err());
        assertEquals(java.util.List.of("activation", "magnitude"), ImportanceTable.load(out).metrics());
        assertTrue(!Files.exists(out.resolve("charts")));
    }

    @Test
    void thePapersMetricAloneReducesOnlyTheSequenceMean() throws Exception {
        Path out = tmp.resolve("paper");
        CliRun r = CliRun.of("importance", "--model", model.toString(), "--data", "../data/corpus/test.txt",
                "--samples", "4", "--seq-len", "16", "--out", out.toString(), "--metrics", "activation,block_importance",
                "--seq-aggregations", "mean", "--no-depth", "--no-charts", "--batch-size", "2");
        assertEquals(0, r.code(), r.err());
        ImportanceTable t = ImportanceTable.load(out);
        assertEquals(java.util.List.of("activation", "block_importance"), t.metrics());
        java.util.Set<String> seq = new java.util.TreeSet<>(t.table().stringColumn("seq_agg").asList());
        assertEquals(java.util.Set.of("mean", ImportanceTable.NONE), seq, "only the sequence mean (and BI's none)");
        assertEquals("[\"mean\"]", t.run().getAsJsonObject("options").get("seq_aggregations").toString());
        assertEquals(4, t.where("activation", "l2", "mean").ranking("heads", 0).length);

        CliRun bad = CliRun.of("importance", "--model", model.toString(), "--data", "../data/corpus/test.txt",
                "--samples", "4", "--seq-len", "16", "--out", tmp.resolve("bad").toString(), "--metrics", "wanda",
                "--seq-aggregations", "mean", "--no-depth");
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("wanda") && bad.err().contains("l2"), bad.err());
        CliRun unknown = CliRun.of("importance", "--model", model.toString(), "--data", "../data/corpus/test.txt",
                "--samples", "4", "--seq-len", "16", "--out", tmp.resolve("bad2").toString(), "--seq-aggregations", "median");
        assertEquals(1, unknown.code());
        assertTrue(unknown.err().contains("--seq-aggregations") && unknown.err().contains("median"), unknown.err());
    }

    @Test
    void badInputFailsWithOneClearLine() throws Exception {
        CliRun r = CliRun.of("importance", "--model", model.toString(), "--data", "validation", "--samples",
                "100000", "--seq-len", "32", "--out", tmp.resolve("x").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: ") && r.err().contains("gives only"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());

        r = CliRun.of("importance", "--model", model.toString(), "--data", "validation", "--seq-len", "128",
                "--samples", "2", "--out", tmp.resolve("y").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("exceeds the model context of 64"), r.err());

        Path empty = Files.createFile(tmp.resolve("empty.txt"));
        r = CliRun.of("importance", "--model", model.toString(), "--data", empty.toString(), "--samples", "2",
                "--seq-len", "8", "--out", tmp.resolve("z").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("empty"), r.err());

        r = CliRun.of("importance", "--model", model.toString(), "--data", "no-such-split", "--out", "q");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("no such split file"), r.err());

        r = CliRun.of("importance", "--model", model.toString(), "--data", "validation", "--metrics", "vibes",
                "--out", "q");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("unknown metric 'vibes'"), r.err());
    }
}
