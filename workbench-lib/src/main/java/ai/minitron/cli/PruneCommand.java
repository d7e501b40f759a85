package ai.minitron.cli;

import ai.minitron.io.Json;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.io.OutputDir;
import ai.minitron.io.OutputLock;
import ai.minitron.io.TensorDType;
import ai.minitron.model.Provenance;
import ai.minitron.model.LanguageModel;
import ai.minitron.prune.CheckpointPruner;
import ai.minitron.prune.KeepSet;
import ai.minitron.prune.PrunePlan;
import ai.minitron.prune.Pruner;
import ai.minitron.prune.PruningRecord;
import ai.minitron.prune.UnitScores;
import ai.minitron.search.Candidate;
import ai.minitron.search.SearchSpace;
import com.google.gson.Gson;
import ai.minitron.config.HfCompatibility;
import ai.minitron.io.Utf8Text;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

    @Option(names = "--plan", description = "A JSON plan: {hiddenSize, headsPerGroup, kvGroups, mlpSize, numLayers, keepLayers, depth, headResidual} or {params, tolerance}.")
    Path planFile;

    @Option(names = "--params", description = "Only a parameter budget (e.g. 3800000, 3.8M, 50%%): the shape is chosen by the default rule (see README).")
    String params;

    @Option(names = "--tolerance", defaultValue = "0.05", description = "Budget tolerance as a fraction (default ${DEFAULT-VALUE}).")
    double tolerance;

    @Option(names = "--max-prune", defaultValue = "0.5", description = "With --params: largest fraction pruned per axis (default ${DEFAULT-VALUE}).")
    double maxPrune;

    @Option(names = "--heads", description = "Query heads to keep in total (split evenly over the kept KV groups).") Integer heads;

    @Option(names = "--head-residual", description = "EXPERIMENTAL: add pruned heads' o_proj columns to the most similar kept head of their group.")
    boolean headResidual;

    @Option(names = "--hidden", description = "Embedding channels to keep.") Integer hidden;
    @Option(names = "--heads-per-group", description = "Query heads to keep in every KV group.") Integer headsPerGroup;
    @Option(names = "--kv-groups", description = "KV groups to keep (each with all its query heads).") Integer kvGroups;
    @Option(names = "--mlp", description = "MLP neurons to keep per layer.") Integer mlp;
    @Option(names = "--layers", description = "Layers to keep (chosen by --depth).") Integer layers;
    @Option(names = "--keep-layers", split = ",", description = "Explicit parent layers to keep, e.g. 0,1,2,5.") List<Integer> keepLayers;

    @Option(names = "--depth", defaultValue = "LOWEST", description = "LOWEST (drop least important layers), CONTIGUOUS (drop the block of lowest total layer score)"
            + " or BLOCK_DROP (drop the block whose removal raised the loss least in the importance run's block-drop scan).")
    PrunePlan.Depth depth;

    @Option(names = "--metric", defaultValue = "activation", description = "Width metric (default ${DEFAULT-VALUE}).")
    String metric;

    @Option(names = "--batch-agg", defaultValue = "l2", description = "Batch aggregation (default ${DEFAULT-VALUE}).")
    String batchAgg;

    @Option(names = "--seq-agg", defaultValue = "mean", description = "Sequence aggregation (default ${DEFAULT-VALUE}).")
    String seqAgg;

    @Option(names = "--depth-metric", defaultValue = "block_importance", description = "Layer metric (default ${DEFAULT-VALUE}).")
    String depthMetric;

    @Option(names = "--save-dtype", description = "Storage dtype of the export (F32, F16, BF16); default: as the parent stores it.")
    TensorDType saveDtype;

    /** The options that set a target shape (one of them, --params or a --plan is required). */
    static final String SHAPE_OPTIONS = "--hidden, --heads, --heads-per-group, --kv-groups, --mlp, --layers, --keep-layers, --params";

    /** Keys of a --plan file that set a shape; with depth, headResidual, params and tolerance the only valid keys. */
    static final List<String> PLAN_SHAPE_KEYS = List.of("hiddenSize", "headsPerGroup", "kvGroups", "mlpSize", "numLayers",
            "keepLayers");
    static final List<String> PLAN_KEYS = List.of("hiddenSize", "headsPerGroup", "kvGroups", "mlpSize", "numLayers",
            "keepLayers", "depth", "headResidual", "params", "tolerance");

    /** A --plan file as a JSON object: refuses an unreadable, empty or non-object file and unknown keys, naming the file. */
    static JsonObject readPlan(Path file) {
        String text = Utf8Text.read(file, "--plan");
        if (text.isBlank()) {
            throw new IllegalArgumentException("--plan " + file + ": the file is empty; expected a JSON object with keys "
                    + String.join(", ", PLAN_KEYS));
        }
        JsonElement json;
        try {
            json = Json.parse(text);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("--plan " + file + ": not valid JSON: " + e.getMessage(), e);
        }
        if (!json.isJsonObject()) {
            throw new IllegalArgumentException("--plan " + file + ": expected a JSON object with keys "
                    + String.join(", ", PLAN_KEYS) + ", got " + (json.isJsonNull() ? "null" : json));
        }
        List<String> unknown = json.getAsJsonObject().keySet().stream().filter(k -> !PLAN_KEYS.contains(k)).sorted().toList();
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("--plan " + file + ": unknown key" + (unknown.size() > 1 ? "s " : " ")
                    + String.join(", ", unknown) + "; valid keys: " + String.join(", ", PLAN_KEYS));
        }
        return json.getAsJsonObject();
    }

    @Mixin
    OutputOptions output;

    @Override
    public Integer call() throws Exception {
        PrunePlan plan;
        String budgetText = params;
        if (planFile != null) {
            JsonObject o = readPlan(planFile);
            try {
                plan = new Gson().fromJson(o, PrunePlan.class);
            } catch (JsonParseException | IllegalStateException | NumberFormatException e) {
                throw new IllegalArgumentException("--plan " + planFile + ": a value has the wrong type: " + e.getMessage(), e);
            }
            if (o.has("params") && budgetText == null) {
                budgetText = o.get("params").getAsString();
            }
            if (o.has("tolerance")) {
                tolerance = o.get("tolerance").getAsDouble();
            }
        } else {
            plan = new PrunePlan(hidden, headsPerGroup, kvGroups, mlp, keepLayers == null ? layers : null, keepLayers, depth);
        }
        if (plan.depth() == null) {
            plan = new PrunePlan(plan.hiddenSize(), plan.headsPerGroup(), plan.kvGroups(), plan.mlpSize(), plan.numLayers(),
                    plan.keepLayers(), PrunePlan.Depth.LOWEST, plan.headResidual());
        }
        if (headResidual) {
            plan = plan.withHeadResidual(true);
        }
        if (budgetText == null && heads == null && plan.hiddenSize() == null && plan.headsPerGroup() == null
                && plan.kvGroups() == null && plan.mlpSize() == null && plan.numLayers() == null && plan.keepLayers() == null) {
            throw new IllegalArgumentException((planFile != null ? "--plan " + planFile + " sets no target shape" : "no target shape")
                    + ": give at least one of " + SHAPE_OPTIONS + " (or a --plan with " + String.join(", ", PLAN_SHAPE_KEYS)
                    + " or params); pruning nothing would only copy the model");
        }
        if (!java.nio.file.Files.isDirectory(model)) {
            throw new IllegalArgumentException(model + ": not a checkpoint directory (expected config.json + safetensors)");
        }
        try (OutputLock lock = OutputOptions.lock(out)) {
            ModelConfig pc = ModelConfig.load(model.resolve("config.json"));
            String parentHash = Provenance.checkpointHash(model);
            output.check(out, OutputKind.PRUNE, parentHash);
            if (heads != null) {
                if (plan.headsPerGroup() != null) {
                    throw new IllegalArgumentException("give either --heads or --heads-per-group, not both");
                }
                int kv = plan.kvGroups() == null ? pc.numKeyValueHeads() : plan.kvGroups();
                plan = plan.withHeadsPerGroup(PrunePlan.headsPerGroup(pc, heads, kv));
            }
            if (budgetText != null) {
                if (plan.hiddenSize() != null || plan.headsPerGroup() != null || plan.kvGroups() != null
                        || plan.mlpSize() != null || plan.numLayers() != null || plan.keepLayers() != null) {
                    throw new IllegalArgumentException("--params chooses the whole shape: do not combine it with --hidden,"
                            + " --heads, --heads-per-group, --kv-groups, --mlp, --layers or --keep-layers");
                }
                long budget = ParamBudget.parse(budgetText, ParamCount.of(pc).total(), "--params");
                Candidate c = SearchSpace.of(pc).withMaxPrune(maxPrune).defaultChoice(budget, tolerance);
                System.err.printf("--params %,d: chose %s (width before depth, most even pruning; run `minitron search`"
                        + " to rank candidates by validation loss)%n", budget, c);
                plan = c.plan(plan.depth()).withHeadResidual(plan.headResidual());
            }
            boolean needsDepth = plan.numLayers() != null && plan.numLayers() != pc.numHiddenLayers();
            boolean blockDrop = needsDepth && plan.depth() == PrunePlan.Depth.BLOCK_DROP;
            UnitScores scores = ImportanceScores.load(importance, model, parentHash, metric, batchAgg, seqAgg,
                    depthMetric, needsDepth && !blockDrop);
            if (blockDrop) {
                scores = ImportanceScores.withBlockDrop(scores, importance, pc.numHiddenLayers() - plan.numLayers());
            }
            KeepSet keep = Pruner.select(pc, plan, scores);
            ModelConfig cc = Pruner.childConfig(pc, keep);
            HfCompatibility.check(cc, "prune");
            PrunePlan chosen = plan;
            UnitScores ranked = scores;
            // Streamed tensor by tensor from the parent's files into the output: memory stays about one block.
            OutputDir.replace(out, OutputKind.PRUNE.key, parentHash, dir -> {
                try (ProgressBars bars = new ProgressBars()) {
                    CheckpointPruner.write(model, pc, keep, chosen, saveDtype, dir, LanguageModel.DEFAULT_MAX_SHARD_BYTES,
                            CheckpointPruner.DEFAULT_BLOCK_BYTES, bars);
                }
                PruningRecord.write(dir, pc, cc, chosen, keep, ranked.runId(), model.toString());
                Cards.pruned(dir, model, pc, cc, chosen, ranked.runId(), importance);
            });
            long before = ParamCount.of(pc).total();
            long after = ParamCount.of(cc).total();
            System.out.printf("pruned %s (%,d parameters) -> %s (%,d parameters, %.1f%%)%n", model, before, out, after,
                    100.0 * after / before);
            System.out.printf("shape: hidden %d -> %d, layers %d -> %d, heads %d/%d -> %d/%d, mlp %d -> %d%n",
                    pc.hiddenSize(), cc.hiddenSize(), pc.numHiddenLayers(), cc.numHiddenLayers(), pc.numAttentionHeads(),
                    pc.numKeyValueHeads(), cc.numAttentionHeads(), cc.numKeyValueHeads(), pc.intermediateSize(),
                    cc.intermediateSize());
            System.out.println("ranked by " + scores.runId() + (plan.headResidual() ? " (experimental head residual on)" : ""));
        }
        return 0;
    }
}
