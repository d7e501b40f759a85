package ai.minitron.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.importance.ImportanceTable;
import ai.minitron.importance.Metric;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import ai.minitron.prune.KeepSet;
import ai.minitron.prune.PruningRecord;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** importance -> prune through the command line: ranked by the table, recorded, reloadable; wrong model refused. */
class PruneCommandTest {
    static final ModelConfig C = ModelConfig.builder(Architecture.LLAMA).vocabSize(8192).hiddenSize(16)
            .intermediateSize(24).numHiddenLayers(3).numAttentionHeads(4).numKeyValueHeads(2).headDim(8)
            .maxPositionEmbeddings(64).normEps(1e-5).tieWordEmbeddings(true).build();

    @TempDir
    Path tmp;

    @Test
    void prunesByTheImportanceTableAndRecordsTheKeptUnits() {
        Path model = tmp.resolve("model");
        Path other = tmp.resolve("other");
        try (NDManager m = NDManager.newBaseManager()) {
            new LanguageModel(C, Weights.random(C, m, 3, DataType.FLOAT32), ImportanceCommandTest.TOKENIZER,
                    TensorDType.F32).save(model, TensorDType.F32);
            new LanguageModel(C, Weights.random(C, m, 4, DataType.FLOAT32), ImportanceCommandTest.TOKENIZER,
                    TensorDType.F32).save(other, TensorDType.F32);
        }
        Path imp = tmp.resolve("importance");
        CliRun r = CliRun.of("importance", "--model", model.toString(), "--data", "validation", "--samples", "4",
                "--seq-len", "16", "--out", imp.toString(), "--metrics", "activation,block_importance", "--no-charts");
        assertEquals(0, r.code(), r.err());
        Path out = tmp.resolve("pruned");
        CliRun p = CliRun.of("prune", "--model", model.toString(), "--importance", imp.toString(), "--hidden", "12",
                "--mlp", "16", "--heads-per-group", "1", "--layers", "2", "--out", out.toString());
        assertEquals(0, p.code(), p.err());
        try (NDManager m = NDManager.newBaseManager(); LanguageModel lm = LanguageModel.load(out, m)) {
            assertEquals(12, lm.config().hiddenSize());
            assertEquals(16, lm.config().intermediateSize());
            assertEquals(2, lm.config().numAttentionHeads());
            assertEquals(2, lm.config().numHiddenLayers());
            assertEquals(ParamCount.of(lm.config()).total(), lm.weights().numel());
        }
        KeepSet k = PruningRecord.read(out);
        ImportanceTable t = ImportanceTable.load(imp);
        int[] topHidden = java.util.Arrays.stream(t.best().ranking("hidden", -1)).limit(12).sorted().toArray();
        assertArrayEquals(topHidden, k.hidden(), "the kept channels are the table's top 12");
        assertTrue(p.out().contains("pruned"), p.out());
        // the export's model card: its lineage (parent, plan, importance run, command)
        java.util.List<ai.minitron.eval.Lineage.Step> steps = ai.minitron.eval.Lineage.read(out);
        assertEquals(1, steps.size());
        assertEquals(model.toString(), steps.get(0).facts().get("parent model"));
        assertTrue(steps.get(0).facts().get("importance run").startsWith(imp.toString()), steps.get(0).facts().toString());
        assertTrue(steps.get(0).command().startsWith("minitron prune --model " + model), steps.get(0).command());

        // distilling the pruned export extends the card: both steps, tokens and losses
        Path text = tmp.resolve("text.txt");
        try {
            String corpus = java.nio.file.Files.readString(Path.of("../data/corpus/validation.txt"));
            java.nio.file.Files.writeString(text, corpus.substring(0, 20_000));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Path distilled = tmp.resolve("distilled");
        CliRun d = CliRun.of("distill", "--teacher", model.toString(), "--student", out.toString(), "--data",
                text.toString(), "--val", text.toString(), "--tokens", "256", "--batch-size", "2", "--seq-len", "16",
                "--eval-every", "4", "--eval-batches", "1", "--out", distilled.toString());
        assertEquals(0, d.code(), d.err());
        steps = ai.minitron.eval.Lineage.read(distilled.resolve("model"));
        assertEquals(java.util.List.of("prune", "distill"), steps.stream().map(ai.minitron.eval.Lineage.Step::name).toList());
        assertEquals("256 student, 256 teacher (8 steps)", steps.get(1).facts().get("tokens"));
        assertTrue(steps.get(1).facts().get("final validation").contains("KL(teacher || student)"), steps.get(1).facts().toString());

        CliRun wrong = CliRun.of("prune", "--model", other.toString(), "--importance", imp.toString(), "--mlp", "8",
                "--out", tmp.resolve("x").toString());
        assertEquals(1, wrong.code());
        assertTrue(wrong.err().contains("another model"), wrong.err());
    }

    @Test
    void depthBlockDropDropsTheBlockTheScanScoresLowest() {
        Path model = tmp.resolve("model");
        try (NDManager m = NDManager.newBaseManager()) {
            new LanguageModel(C, Weights.random(C, m, 3, DataType.FLOAT32), ImportanceCommandTest.TOKENIZER,
                    TensorDType.F32).save(model, TensorDType.F32);
        }
        Path imp = tmp.resolve("importance");
        CliRun r = CliRun.of("importance", "--model", model.toString(), "--data", "validation", "--samples", "4",
                "--seq-len", "16", "--out", imp.toString(), "--metrics", "activation,block_drop", "--block-k", "1",
                "--no-charts");
        assertEquals(0, r.code(), r.err());
        Path out = tmp.resolve("pruned");
        CliRun p = CliRun.of("prune", "--model", model.toString(), "--importance", imp.toString(), "--layers", "2",
                "--depth", "BLOCK_DROP", "--out", out.toString());
        assertEquals(0, p.code(), p.err());
        double[] increase = ImportanceTable.load(imp).where(Metric.blockDrop(1)).layers();
        int lowest = 0;
        for (int s = 1; s < increase.length; s++) {
            lowest = increase[s] < increase[lowest] ? s : lowest;
        }
        int dropped = lowest;
        int[] expected = java.util.stream.IntStream.range(0, 3).filter(l -> l != dropped).toArray();
        assertArrayEquals(expected, PruningRecord.read(out).layers(), java.util.Arrays.toString(increase));

        CliRun noScan = CliRun.of("prune", "--model", model.toString(), "--importance", imp.toString(), "--layers",
                "1", "--depth", "BLOCK_DROP", "--out", tmp.resolve("y").toString());
        assertEquals(1, noScan.code());
        assertTrue(noScan.err().contains("--block-k 2"), noScan.err());
    }
}
