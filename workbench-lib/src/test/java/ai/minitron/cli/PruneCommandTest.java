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
    static final ModelConfig C = new ModelConfig(Architecture.LLAMA, 8192, 16, 24, 3, 4, 2, 8, 64, 10000.0, 1.0,
            1e-5, "silu", true, false, false, "float32", null);

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
        CliTest.Run r = CliTest.run("importance", "--model", model.toString(), "--data", "validation", "--samples", "4",
                "--seq-len", "16", "--out", imp.toString(), "--metrics", "activation,block_importance", "--no-charts");
        assertEquals(0, r.code(), r.err());
        Path out = tmp.resolve("pruned");
        CliTest.Run p = CliTest.run("prune", "--model", model.toString(), "--importance", imp.toString(), "--hidden", "12",
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

        CliTest.Run wrong = CliTest.run("prune", "--model", other.toString(), "--importance", imp.toString(), "--mlp", "8",
                "--out", tmp.resolve("x").toString());
        assertEquals(1, wrong.code());
        assertTrue(wrong.err().contains("another model"), wrong.err());
    }
}
