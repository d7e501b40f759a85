package ai.minitron.prune;

import ai.djl.ndarray.NDManager;
import ai.minitron.config.ModelConfig;
import ai.minitron.importance.MagnitudeMetric;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import java.nio.file.Path;

/**
 * The pruned-export fixture: the golden parent {@code llama_gqa_untied} (2 layers, hidden 48,
 * 4 query heads over 2 KV heads, MLP 80) pruned along every axis at once — hidden 48 -> 32, query heads
 * per group 2 -> 1, MLP 80 -> 48, layers 2 -> 1 — ranked by the data-free weight-magnitude metric, so
 * the export is a deterministic function of the committed parent. {@link #main} writes it to
 * {@code golden/pruned_export/model}; {@code tools/make_pruned_export_fixture.py} then records
 * transformers' logits for it, and {@link PrunedExportParityTest} checks both.
 */
public final class PrunedExportFixture {
    static final Path GOLDEN = Path.of("src/test/resources/golden");
    static final Path PARENT = GOLDEN.resolve("llama_gqa_untied");
    static final Path DIR = GOLDEN.resolve("pruned_export");
    static final Path MODEL = DIR.resolve("model");

    private PrunedExportFixture() {}

    /** The plan: every axis at once. */
    static PrunePlan plan() {
        return PrunePlan.keepAll().withHidden(32).withHeadsPerGroup(1).withMlp(48).withLayers(1, PrunePlan.Depth.LOWEST);
    }

    /** Weight-magnitude importance of the parent (layers by the magnitude of all their weights). */
    static UnitScores scores(ModelConfig c, Weights w) {
        return UnitScores.of(MagnitudeMetric.scores(c, w).withRunId("magnitude"));
    }

    /** Prunes the parent by the fixture's plan. */
    static Pruner.Pruned prune(LanguageModel parent) {
        UnitScores s = scores(parent.config(), parent.weights());
        return Pruner.apply(parent.config(), parent.weights(), Pruner.select(parent.config(), plan(), s), plan());
    }

    /** Writes the export (run from workbench-lib/, see tools/make_pruned_export_fixture.py). */
    public static void main(String[] args) {
        try (NDManager m = NDManager.newBaseManager(); LanguageModel parent = LanguageModel.load(PARENT, m)) {
            Pruner.Pruned p = prune(parent);
            new LanguageModel(p.config(), p.weights(), parent.tokenizerJson(), TensorDType.F32).save(MODEL, TensorDType.F32);
            PruningRecord.write(MODEL, parent.config(), p.config(), plan(), p.keep(), "magnitude",
                    "workbench-lib/" + PARENT);
            System.out.println("wrote " + MODEL.toAbsolutePath() + ": " + p.config().hiddenSize() + " hidden, "
                    + p.config().numHiddenLayers() + " layer(s), " + p.config().numAttentionHeads() + "/"
                    + p.config().numKeyValueHeads() + " heads, MLP " + p.config().intermediateSize());
        }
    }
}
