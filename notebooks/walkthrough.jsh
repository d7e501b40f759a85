// Shared setup of the walkthrough notebooks (02-06), loaded by each with `%load walkthrough.jsh`.
//
// The notebooks share state through ONE output folder and ONE budget, both read from the environment:
//   MINITRON_OUT     the output folder (default: runs/BUDGET at the repository root)
//   MINITRON_BUDGET  test (tiny: what `mvn -B verify` runs) or walkthrough (the main job; the default)
// Each notebook also runs on its own: what it needs from an earlier notebook (the importance run, the
// width-pruned student) is loaded from OUT when present and computed here when absent.

import ai.minitron.data.*;
import ai.minitron.distill.*;
import ai.minitron.eval.*;
import ai.minitron.generate.*;
import ai.minitron.importance.*;
import ai.minitron.prune.*;
import ai.minitron.stats.*;
import ai.minitron.tokenize.*;
import ai.minitron.train.*;
import ai.minitron.viz.*;

/**
 * How much work each step does. calibration*: the importance calibration set (N packed samples of L tokens
 * from the training split); depthSamples: samples of the loss-based depth scans and Taylor; evalTokens and
 * evalSeqLen: the zero-shot validation stream (non-overlapping windows); distill*: the distillation run;
 * search*: the architecture search's lightweight retraining (top K candidates, stages, student tokens per stage);
 * calibrationPoolTokens: draw the calibration samples from the first this-many tokens of the split (0 = all of it).
 */
record Budget(String name, int calibrationSamples, int calibrationSeqLen, int depthSamples, int evalTokens,
        int evalSeqLen, int distillSteps, int distillBatch, int distillSeqLen, int evalEvery, int evalBatches,
        int generateTokens, int taskItems, int searchTopK, int searchStages, int searchTokensPerStage,
        int calibrationPoolTokens) {
    static Budget of(String name) {
        // (a classic switch: JShell 17's snippet analysis does not accept a switch expression here)
        switch (name) {
            case "test": return new Budget("test", 4, 32, 2, 128, 32, 4, 2, 32, 2, 1, 8, 2, 2, 1, 64, 4096);
            case "walkthrough": return new Budget("walkthrough", 128, 128, 32, 4096, 128, 120, 8, 128, 20, 4, 40, 50, 3, 2, 8192, 0);
            default: throw new IllegalArgumentException("MINITRON_BUDGET=" + name + ": expected test or walkthrough");
        }
    }
}

Budget BUDGET = Budget.of(System.getenv().getOrDefault("MINITRON_BUDGET", "walkthrough"));
Path ROOT = Path.of("..").toAbsolutePath().normalize();           // the notebooks run with cwd = notebooks/
Path TEACHER = ROOT.resolve("data/teacher");
Path CORPUS = ROOT.resolve("data/corpus");
Path OUT = Path.of(System.getenv().getOrDefault("MINITRON_OUT", ROOT.resolve("runs").resolve(BUDGET.name()).toString()))
        .toAbsolutePath().normalize();
Path IMPORTANCE_DIR = OUT.resolve("importance");      // 02: importance.arrow, agreement.arrow, ..., charts/
Path WIDTH_DIR = OUT.resolve("width");                // 03: width_steps.arrow and the width-pruned student
Path DEPTH_DIR = OUT.resolve("depth");                // 04: depth_choices.arrow
Path SEARCH_DIR = OUT.resolve("search");              // 05: candidates and their ranking
Path DISTILL_DIR = OUT.resolve("distill");            // 06: checkpoint/, metrics.arrow, distill_metrics.arrow
Path STUDENT_DIR = OUT.resolve("student");            // 06: the exported distilled student (+ model card)
Files.createDirectories(OUT);

/** Minitron's width target for the walkthrough: half the MLP, half the query heads, 3/4 of the embedding channels. */
PrunePlan WIDTH_TARGET = PrunePlan.keepAll().withMlp(352).withHeadsPerGroup(2).withHidden(192);

/**
 * The beginning of a split, enough for about {@code tokens} tokens: whole documents, the last one cut, until
 * 6 characters per token are reached (this tokenizer averages about 4).
 */
Corpus headForTokens(Corpus c, long tokens) {
    List<String> docs = new ArrayList<>();
    long left = 6L * tokens;
    for (int i = 0; i < c.size() && left > 0; i++) {
        String d = c.document(i);
        docs.add(d.length() <= left ? d : d.substring(0, (int) left));
        left -= d.length();
    }
    return Corpus.of(c.path(), docs);
}

/** A phase progress that rewrites one live output line ("activations 12/64"), at most four times a second. */
Progress liveProgress(LiveOutput h) {
    long[] last = {0};
    return (phase, done, total) -> {
        long now = System.nanoTime();
        if (done == total || now - last[0] > 250_000_000L) {
            last[0] = now;
            h.update(String.format("%s: %d/%d", phase, done, total));
        }
    };
}

/** The importance calibration set of the budget: N packed samples of L tokens from the training split, seeded. */
CalibrationSet calibration(LanguageModel lm) {
    Path train = CORPUS.resolve("train.txt");
    try (Tokenizer tok = lm.openTokenizer(null)) {
        if (BUDGET.calibrationPoolTokens() == 0) {
            return CalibrationSet.fromSplit(train, tok, BUDGET.calibrationSamples(), BUDGET.calibrationSeqLen(), 1234,
                    lm.config().maxPositionEmbeddings());
        }
        TokenDataset pool = TokenDataset.pack(headForTokens(Corpus.read(train), BUDGET.calibrationPoolTokens()).documents(),
                tok, BUDGET.calibrationSeqLen());
        return CalibrationSet.packed(pool, BUDGET.calibrationSamples(), 1234,
                train + " (first " + BUDGET.calibrationPoolTokens() + " tokens)");
    }
}

/** Every metric, depth scans on the budget's first samples, blocks of 2 layers. */
ImportanceEstimator.Options importanceOptions() {
    return ImportanceEstimator.Options.defaults().withBatchSize(8).withDepthSamples(BUDGET.depthSamples()).withBlockK(2);
}

/** Notebook 02's importance run from OUT, or (standalone) computed now and written there. */
ImportanceTable importance(LanguageModel teacher) {
    if (!Files.exists(IMPORTANCE_DIR.resolve(ImportanceTable.FILE))) {
        System.out.println("no importance run in " + IMPORTANCE_DIR + ": computing it (notebook 02 does this step by step)");
        ImportanceResult r = ImportanceEstimator.run(teacher.config(), teacher.weights(), calibration(teacher),
                importanceOptions(), TEACHER, null);
        r.write(IMPORTANCE_DIR);
    }
    return ImportanceTable.load(IMPORTANCE_DIR);
}

/** Any importance view as the pruner's scores: width axes from {@code width}, layers from {@code depth} (may be null). */
UnitScores scores(ImportanceTable.View width, ImportanceTable.View depth) {
    return UnitScores.of(width, depth);
}

/** The first evalTokens tokens of the validation split (documents joined by end-of-text): the zero-shot yardstick. */
long[] validationTokens(Tokenizer tok) {
    long[] all = Evaluator.stream(headForTokens(Corpus.read(CORPUS.resolve("validation.txt")), BUDGET.evalTokens()), tok);
    return Arrays.copyOf(all, Math.min(all.length, BUDGET.evalTokens() + 1));
}

/** Zero-shot validation loss: token protocol, non-overlapping windows of evalSeqLen predicted tokens. */
Perplexity.Result zeroShot(ModelConfig c, Weights w, long[] valTokens) {
    return Perplexity.windowed(c, w, w.manager(), valTokens, BUDGET.evalSeqLen(), 8, null);
}

/** Ordered facts for a model card's lineage: facts("key", "value", "key", "value", ...). */
Map<String, String> facts(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i + 1 < kv.length; i += 2) {
        m.put(kv[i], kv[i + 1]);
    }
    return m;
}

/**
 * Writes a pruned child of the teacher as a Hugging Face checkpoint with its pruning.json (plan, scores, kept
 * units) and the first step of its model card's lineage.
 */
void exportPruned(Path dir, LanguageModel parent, PrunePlan plan, UnitScores s, Pruner.Pruned p) {
    new LanguageModel(p.config(), p.weights(), parent.tokenizerJson(), TensorDType.F32).save(dir, TensorDType.F32);
    PruningRecord.write(dir, parent.config(), p.config(), plan, p.keep(), s.runId(), TEACHER.toString());
    Lineage.record(dir, TEACHER, new Lineage.Step("prune", facts(
            "parent model", TEACHER.toString(),
            "parameters", String.format("%,d -> %,d", ParamCount.of(parent.config()).total(), ParamCount.of(p.config()).total()),
            "pruning plan", new com.google.gson.Gson().toJson(plan),
            "importance run", s.runId(),
            "kept indices", "pruning.json"),
        "./minitron walkthrough --budget " + BUDGET.name() + "  (notebooks/03-width-pruning.ipynb)"));
}

/** Notebook 03's width-pruned student from OUT, or (standalone) pruned now from the teacher by the paper's best metric. */
Path widthPrunedStudent(LanguageModel teacher) {
    Path dir = WIDTH_DIR.resolve("student");
    if (!Files.exists(dir.resolve("config.json"))) {
        System.out.println("no width-pruned student in " + dir + ": pruning the teacher to " + WIDTH_TARGET);
        ImportanceTable imp = importance(teacher);
        UnitScores s = scores(imp.best(), null);
        Pruner.Pruned p = Pruner.apply(teacher.config(), teacher.weights(), Pruner.select(teacher.config(), WIDTH_TARGET, s));
        exportPruned(dir, teacher, WIDTH_TARGET, s, p);
        p.weights().close();
    }
    return dir;
}

String.format("budget %s, output %s", BUDGET.name(), OUT)
