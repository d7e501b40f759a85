package ai.minitron.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ParamCount;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import ai.minitron.prune.PruningRecord;
import ai.minitron.search.ArchitectureSearch;
import ai.minitron.stats.ArrowIo;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/** importance -> search (and prune by budget) through the command line; bad input lists the valid choices. */
class SearchCommandTest {
    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    static Path model;
    static Path other;
    static Path imp;

    /** One parent, one unrelated model and one importance run of the parent for every test. */
    @BeforeAll
    static void importanceRun() {
        Path tmp = shared;
        model = tmp.resolve("model");
        other = tmp.resolve("other");
        try (NDManager m = NDManager.newBaseManager()) {
            new LanguageModel(PruneCommandTest.C, Weights.random(PruneCommandTest.C, m, 3, DataType.FLOAT32),
                    ImportanceCommandTest.TOKENIZER, TensorDType.F32).save(model, TensorDType.F32);
            new LanguageModel(PruneCommandTest.C, Weights.random(PruneCommandTest.C, m, 4, DataType.FLOAT32),
                    ImportanceCommandTest.TOKENIZER, TensorDType.F32).save(other, TensorDType.F32);
        }
        imp = tmp.resolve("importance");
        CliRun r = CliRun.of("importance", "--model", model.toString(), "--data", "validation", "--samples", "4",
                "--seq-len", "16", "--out", imp.toString(), "--metrics", "activation,block_importance", "--no-charts");
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void searchesRanksRetrainsAndExportsTheChosenCandidate() throws Exception {
        Path out = tmp.resolve("search");
        String[] common = {"search", "--model", model.toString(), "--importance", imp.toString(), "--params", "70%",
            "--tolerance", "0.1", "--hidden-step", "4", "--mlp-step", "8", "--out", out.toString()};
        CliRun list = CliRun.of(concat(common, "--list"));
        assertEquals(0, list.code(), list.err());
        long listed = list.out().lines().filter(l -> l.startsWith("h")).count();
        assertTrue(listed >= 2, list.out());
        CliRun r = CliRun.of(concat(common, "--validation-tokens", "64", "--seq-len", "16", "--batch-size", "2",
                "--top-k", "2", "--stages", "1", "--retrain-tokens", "64", "--data", "validation", "--export-best"));
        assertEquals(0, r.code(), r.err());
        Table t = ArrowIo.read(out.resolve(ArchitectureSearch.CANDIDATES_FILE));
        assertEquals(listed, t.rowCount());
        assertEquals(2 * 2, ArrowIo.read(out.resolve(ArchitectureSearch.RETRAIN_FILE)).rowCount());
        JsonObject s = JsonParser.parseString(Files.readString(out.resolve("search.json"))).getAsJsonObject();
        JsonObject chosen = s.getAsJsonObject("chosen");
        assertEquals(1, s.getAsJsonArray("kendall_tau").size());
        assertTrue(r.out().contains("Kendall tau"), r.out());
        try (NDManager m = NDManager.newBaseManager(); LanguageModel best = LanguageModel.load(out.resolve("best"), m)) {
            assertEquals(chosen.get("hidden_size").getAsInt(), best.config().hiddenSize());
            assertEquals(chosen.get("params").getAsLong(), best.weights().numel());
            assertEquals(chosen.get("params").getAsLong(), ParamCount.of(best.config()).total());
        }
        assertEquals(chosen.get("hidden_size").getAsInt(), PruningRecord.read(out.resolve("best")).hidden().length);
        assertEquals("prune", ai.minitron.eval.Lineage.read(out.resolve("best")).get(0).name(), "the export has a model card");
    }

    @Test
    void pruneWithOnlyABudgetChoosesAShape() {
        Path out = tmp.resolve("pruned");
        CliRun p = CliRun.of("prune", "--model", model.toString(), "--importance", imp.toString(), "--params", "60%",
                "--tolerance", "0.1", "--out", out.toString());
        assertEquals(0, p.code(), p.err());
        long parent = ParamCount.of(PruneCommandTest.C).total();
        try (NDManager m = NDManager.newBaseManager(); LanguageModel lm = LanguageModel.load(out, m)) {
            long n = lm.weights().numel();
            assertTrue(Math.abs(n - 0.6 * parent) <= 0.1 * 0.6 * parent, n + " vs " + parent);
            assertEquals(PruneCommandTest.C.numHiddenLayers(), lm.config().numHiddenLayers(), "width before depth");
        }
    }

    @Test
    void badInputNamesTheNearestValidChoices() {
        String[] base = {"--model", model.toString(), "--importance", imp.toString(), "--out", tmp.resolve("x").toString()};
        CliRun big = CliRun.of(concat(concat(new String[] {"search"}, base), "--params", "200%"));
        assertEquals(1, big.code());
        assertTrue(big.err().contains("larger than the parent") && big.err().contains("nearest achievable counts"), big.err());
        CliRun heads = CliRun.of(concat(concat(new String[] {"search"}, base), "--params", "70%", "--heads", "3"));
        assertEquals(1, heads.code());
        assertTrue(heads.err().contains("3 query heads cannot be split evenly") && heads.err().contains("[2, 4]"),
                heads.err());
        CliRun wrong = CliRun.of("search", "--model", other.toString(), "--importance", imp.toString(), "--params",
                "70%", "--tolerance", "0.2", "--out", tmp.resolve("y").toString());
        assertEquals(1, wrong.code());
        assertTrue(wrong.err().contains("another model") && wrong.err().contains("valid choices: --model "), wrong.err());
        CliRun pruneHeads = CliRun.of(concat(concat(new String[] {"prune"}, base), "--heads", "3"));
        assertEquals(1, pruneHeads.code());
        assertTrue(pruneHeads.err().contains("valid head counts are 2, 4"), pruneHeads.err());
        CliRun pruneBig = CliRun.of(concat(concat(new String[] {"prune"}, base), "--params", "150%"));
        assertEquals(1, pruneBig.code());
        assertTrue(pruneBig.err().contains("nearest achievable counts"), pruneBig.err());
        CliRun pruneWrong = CliRun.of("prune", "--model", other.toString(), "--importance", imp.toString(), "--mlp",
                "8", "--out", tmp.resolve("z").toString());
        assertEquals(1, pruneWrong.code());
        assertTrue(pruneWrong.err().contains("valid choices: --model "), pruneWrong.err());
    }

    static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
