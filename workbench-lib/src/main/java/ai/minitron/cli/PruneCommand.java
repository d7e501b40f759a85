package ai.minitron.cli;

import ai.djl.ndarray.NDManager;
import ai.minitron.config.ParamCount;
import ai.minitron.importance.ImportanceTable;
import ai.minitron.importance.Provenance;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.prune.KeepSet;
import ai.minitron.prune.PrunePlan;
import ai.minitron.prune.Pruner;
import ai.minitron.prune.PruningRecord;
import ai.minitron.prune.UnitScores;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code minitron prune}: trim a model by an importance table and export the result. */
@Command(name = "prune", description = "Prune a model by importance (width and depth) and export a Hugging Face checkpoint.")
final class PruneCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Parent checkpoint directory.")
    Path model;

    @Option(names = "--importance", required = true, description = "Importance run directory (importance.arrow + run.json).")
    Path importance;

    @Option(names = "--out", required = true, description = "Output checkpoint directory (with pruning.json).")
    Path out;

    @Option(names = "--plan", description = "A JSON plan: {hiddenSize, headsPerGroup, kvGroups, mlpSize, numLayers, keepLayers, depth}.")
    Path planFile;

    @Option(names = "--hidden", description = "Embedding channels to keep.") Integer hidden;
    @Option(names = "--heads-per-group", description = "Query heads to keep in every KV group.") Integer headsPerGroup;
    @Option(names = "--kv-groups", description = "KV groups to keep (each with all its query heads).") Integer kvGroups;
    @Option(names = "--mlp", description = "MLP neurons to keep per layer.") Integer mlp;
    @Option(names = "--layers", description = "Layers to keep (chosen by --depth).") Integer layers;
    @Option(names = "--keep-layers", split = ",", description = "Explicit parent layers to keep, e.g. 0,1,2,5.") List<Integer> keepLayers;

    @Option(names = "--depth", defaultValue = "LOWEST", description = "LOWEST (drop least important layers) or CONTIGUOUS (drop the best block).")
    PrunePlan.Depth depth;

    @Option(names = "--metric", defaultValue = "activation", description = "Width metric (default ${DEFAULT-VALUE}).")
    String metric;

    @Option(names = "--batch-agg", defaultValue = "l2", description = "Batch aggregation (default ${DEFAULT-VALUE}).")
    String batchAgg;

    @Option(names = "--seq-agg", defaultValue = "mean", description = "Sequence aggregation (default ${DEFAULT-VALUE}).")
    String seqAgg;

    @Option(names = "--depth-metric", defaultValue = "block_importance", description = "Layer metric (default ${DEFAULT-VALUE}).")
    String depthMetric;

    @Option(names = "--save-dtype", defaultValue = "F32", description = "Storage dtype of the export.")
    TensorDType saveDtype;

    @Override
    public Integer call() throws Exception {
        PrunePlan plan = planFile != null ? new Gson().fromJson(Files.readString(planFile), PrunePlan.class)
                : new PrunePlan(hidden, headsPerGroup, kvGroups, mlp, keepLayers == null ? layers : null, keepLayers, depth);
        if (plan.depth() == null) {
            plan = new PrunePlan(plan.hiddenSize(), plan.headsPerGroup(), plan.kvGroups(), plan.mlpSize(), plan.numLayers(),
                    plan.keepLayers(), PrunePlan.Depth.LOWEST);
        }
        ImportanceTable table = ImportanceTable.load(importance);
        JsonObject run = table.run();
        if (run != null && run.has("model") && run.getAsJsonObject("model").has("sha256")) {
            String expected = run.getAsJsonObject("model").get("sha256").getAsString();
            String actual = Provenance.checkpointHash(model);
            if (!expected.equals(actual)) {
                throw new IllegalArgumentException(importance + ": this importance run was computed on another model"
                        + " (checkpoint sha256 " + expected.substring(0, 12) + "…, --model has " + actual.substring(0, 12) + "…)");
            }
        }
        ImportanceTable.View width = table.where(metric, batchAgg, seqAgg);
        boolean needsDepth = plan.numLayers() != null;
        ImportanceTable.View depthView = needsDepth ? table.where(depthMetric) : null;
        UnitScores scores = new UnitScores() {
            @Override
            public double[] hidden() {
                return width.hidden();
            }

            @Override
            public double[] heads(int layer) {
                return width.heads(layer);
            }

            @Override
            public double[] mlp(int layer) {
                return width.mlp(layer);
            }

            @Override
            public double[] layers() {
                return depthView == null ? new double[0] : depthView.layers();
            }

            @Override
            public String runId() {
                return width.runId() + (depthView == null ? "" : " + " + depthView.runId());
            }
        };
        try (NDManager m = NDManager.newBaseManager(); LanguageModel parent = LanguageModel.load(model, m)) {
            KeepSet keep = Pruner.select(parent.config(), plan, scores);
            Pruner.Pruned p = Pruner.apply(parent.config(), parent.weights(), keep);
            new LanguageModel(p.config(), p.weights(), parent.tokenizerJson(), saveDtype).save(out, saveDtype);
            PruningRecord.write(out, parent.config(), p.config(), plan, keep, scores.runId(), model.toString());
            Cards.pruned(out, model, parent.config(), p.config(), plan, scores.runId(), importance);
            long before = ParamCount.of(parent.config()).total();
            long after = ParamCount.of(p.config()).total();
            System.out.printf("pruned %s (%,d parameters) -> %s (%,d parameters, %.1f%%)%n", model, before, out, after,
                    100.0 * after / before);
            System.out.printf("shape: hidden %d -> %d, layers %d -> %d, heads %d/%d -> %d/%d, mlp %d -> %d%n",
                    parent.config().hiddenSize(), p.config().hiddenSize(), parent.config().numHiddenLayers(),
                    p.config().numHiddenLayers(), parent.config().numAttentionHeads(), parent.config().numKeyValueHeads(),
                    p.config().numAttentionHeads(), p.config().numKeyValueHeads(), parent.config().intermediateSize(),
                    p.config().intermediateSize());
            System.out.println("ranked by " + scores.runId());
        }
        return 0;
    }
}
