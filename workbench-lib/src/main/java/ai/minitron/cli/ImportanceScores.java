package ai.minitron.cli;

import ai.minitron.importance.ImportanceTable;
import ai.minitron.importance.Metric;
import ai.minitron.io.OutputDir;
import ai.minitron.model.Provenance;
import ai.minitron.prune.UnitScores;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An importance run as the {@link UnitScores} pruning ranks by (one width metric and aggregation,
 * one depth metric), after checking that it was computed on the model being pruned. Shared by
 * {@code prune} and {@code search}.
 */
final class ImportanceScores {
    private ImportanceScores() {}

    /**
     * Loads {@code importance} and refuses a run of another checkpoint (sha256 of config + weights),
     * naming the model it belongs to.
     */
    static UnitScores load(Path importance, Path model, String metric, String batchAgg, String seqAgg,
            String depthMetric, boolean needsDepth) {
        return load(importance, model, null, metric, batchAgg, seqAgg, depthMetric, needsDepth);
    }

    /** As above, with the model's checkpoint hash when the caller has it already (null: hash it here). */
    static UnitScores load(Path importance, Path model, String modelHash, String metric, String batchAgg, String seqAgg,
            String depthMetric, boolean needsDepth) {
        ImportanceTable table = complete(importance);
        checkSameModel(table.run(), importance, model, modelHash);
        ImportanceTable.View width = table.where(metric, batchAgg, seqAgg);
        ImportanceTable.View depthView = needsDepth ? table.where(depthMetric) : null;
        return UnitScores.of(width, depthView);
    }

    /**
     * {@code scores} with the run's block-drop scan losses of blocks of {@code k} layers (for
     * {@code --depth BLOCK_DROP}); refuses a run without them, naming the command that computes them.
     */
    static UnitScores withBlockDrop(UnitScores scores, Path importance, int k) {
        ImportanceTable table = complete(importance);
        if (!table.metrics().contains(Metric.blockDrop(k))) {
            throw new IllegalArgumentException(importance + " has no block-drop scan of blocks of " + k + " layers ("
                    + Metric.blockDrop(k) + "), which --depth BLOCK_DROP needs for this plan; valid choices: --depth"
                    + " LOWEST or CONTIGUOUS, or an importance run made with `minitron importance --metrics block_drop"
                    + " --block-k " + k + "`");
        }
        return scores.withBlockDrop(k, table.where(Metric.blockDrop(k)).layers());
    }

    /**
     * Loads an importance run only if it is whole: its files match the hashes of their output marker
     * ({@link OutputDir#verify}), its run.json is present, and run.json and importance.arrow are of
     * the same run (a run killed mid-write, or files mixed from two runs, are refused by name).
     */
    static ImportanceTable complete(Path importance) {
        Path dir = Files.isDirectory(importance) ? importance : importance.toAbsolutePath().getParent();
        Path arrow = Files.isDirectory(importance) ? importance.resolve(ImportanceTable.FILE) : importance;
        Path runFile = dir.resolve(ImportanceTable.RUN_FILE);
        if (Files.isRegularFile(arrow) && Files.isDirectory(importance)) {
            OutputDir.verify(dir, ImportanceTable.FILE, ImportanceTable.RUN_FILE);
        }
        ImportanceTable table = ImportanceTable.load(importance);
        if (table.run() == null) {
            throw new IllegalArgumentException(runFile + " is missing: " + arrow + " has no provenance (the run was"
                    + " interrupted, or the file was copied alone), so it cannot be checked against --model; rerun"
                    + " `minitron importance --out " + dir + "`");
        }
        String runId = table.run().has("run_id") ? table.run().get("run_id").getAsString() : "";
        if (!runId.equals(table.runId())) {
            throw new IllegalArgumentException(runFile + " is of run " + (runId.isEmpty() ? "?" : runId) + " but " + arrow
                    + " is of run " + table.runId() + " (the files are mixed from two runs); rerun"
                    + " `minitron importance --out " + dir + "`");
        }
        return table;
    }

    static void checkSameModel(JsonObject run, Path importance, Path model, String modelHash) {
        if (run == null || !run.has("model") || !run.getAsJsonObject("model").has("sha256")) {
            return;
        }
        JsonObject m = run.getAsJsonObject("model");
        String expected = m.get("sha256").getAsString();
        String actual = modelHash != null ? modelHash : Provenance.checkpointHash(model);
        if (!expected.equals(actual)) {
            String dir = m.has("dir") && !m.get("dir").isJsonNull() ? m.get("dir").getAsString() : "?";
            String shape = m.has("hidden_size") ? String.format(" (%s layers, hidden %s, %s/%s heads, MLP %s)",
                    m.get("num_hidden_layers"), m.get("hidden_size"), m.get("num_attention_heads"),
                    m.get("num_key_value_heads"), m.get("intermediate_size")) : "";
            throw new IllegalArgumentException(importance + ": this importance run was computed on another model"
                    + " (checkpoint sha256 " + expected.substring(0, 12) + "…, --model has " + actual.substring(0, 12)
                    + "…); valid choices: --model " + dir + shape + " with this run, or a run of " + model
                    + " made by `minitron importance --model " + model + "`");
        }
    }
}
