package ai.minitron.cli;

import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.distill.Distiller;
import ai.minitron.eval.Lineage;
import ai.minitron.prune.PrunePlan;
import com.google.gson.Gson;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Model cards for the checkpoints the CLI exports: each export records its step ({@link Lineage}) on
 * top of its parent's, with the facts a reader needs and the exact command, so a distilled student's
 * README says which teacher, which pruning plan, which importance run and how many tokens made it.
 */
final class Cards {
    private Cards() {}

    /** The command being run, as a shell line. */
    static String command() {
        return Lineage.command("minitron", Main.invocation);
    }

    static void pruned(Path out, Path parentDir, ModelConfig parent, ModelConfig pruned, PrunePlan plan, String runId,
            Path importance) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("parent model", parentDir.toString());
        f.put("parameters", String.format(Locale.ROOT, "%,d -> %,d (%.1f%%)", ParamCount.of(parent).total(),
                ParamCount.of(pruned).total(), 100.0 * ParamCount.of(pruned).total() / ParamCount.of(parent).total()));
        f.put("shape", shape(parent) + " -> " + shape(pruned));
        f.put("pruning plan", new Gson().toJson(plan));
        f.put("importance run", importance + " (" + runId + ")");
        f.put("kept indices", "pruning.json");
        Lineage.record(out, parentDir, new Lineage.Step("prune", f, command()));
    }

    static void distilled(Path modelDir, Path studentDir, Path teacherDir, String losses, List<Distiller.Validation> log,
            Path metrics) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("teacher", teacherDir.toString());
        f.put("student initialisation", studentDir.toString());
        f.put("losses", losses);
        if (!log.isEmpty()) {
            Distiller.Validation last = log.get(log.size() - 1);
            f.put("tokens", String.format(Locale.ROOT, "%,d student, %,d teacher (%d steps)", last.studentTokens(),
                    last.teacherTokens(), last.step()));
            f.put("final validation", String.format(Locale.ROOT, "loss %.4f, perplexity %.2f, KL(teacher || student) %.5f",
                    last.valLoss(), last.valPerplexity(), last.klToTeacher()));
        }
        f.put("metrics", metrics.toString());
        Lineage.record(modelDir, studentDir, new Lineage.Step("distill", f, command()));
    }

    private static String shape(ModelConfig c) {
        return String.format(Locale.ROOT, "%d layers, hidden %d, heads %d/%d KV, MLP %d", c.numHiddenLayers(), c.hiddenSize(),
                c.numAttentionHeads(), c.numKeyValueHeads(), c.intermediateSize());
    }
}
