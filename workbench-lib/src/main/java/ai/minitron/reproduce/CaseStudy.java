package ai.minitron.reproduce;

import ai.djl.ndarray.NDManager;
import ai.minitron.config.HfCompatibility;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.data.Corpus;
import ai.minitron.distill.Distiller;
import ai.minitron.eval.EvalRecord;
import ai.minitron.eval.Evaluator;
import ai.minitron.eval.Lineage;
import ai.minitron.eval.ModelCard;
import ai.minitron.eval.Perplexity;
import ai.minitron.eval.Report;
import ai.minitron.eval.TaskFile;
import ai.minitron.generate.Comparison;
import ai.minitron.generate.GenerationConfig;
import ai.minitron.generate.Generator;
import ai.minitron.importance.ImportanceEstimator;
import ai.minitron.importance.ImportanceResult;
import ai.minitron.importance.ImportanceTable;
import ai.minitron.importance.Metric;
import ai.minitron.io.AtomicFiles;
import ai.minitron.io.FileTrees;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.prune.KeepSet;
import ai.minitron.prune.PrunePlan;
import ai.minitron.prune.Pruner;
import ai.minitron.prune.PruningRecord;
import ai.minitron.prune.UnitScores;
import ai.minitron.search.Candidate;
import ai.minitron.search.SearchSpace;
import ai.minitron.stats.ArrowIo;
import ai.minitron.tokenize.Tokenizer;
import ai.minitron.train.NativeMemory;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.reflect.TypeToken;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The Minitron recipe end to end on a real pretrained model (SmolLM2-135M in the README): importance on a
 * calibration set, a width-pruned and a depth-pruned student at the same parameter count, each distilled
 * from the teacher with forward KL, the width shape trained from random initialisation on the same tokens
 * as the from-scratch baseline, every model evaluated side by side, generation compared, and the best
 * student exported as a Hugging Face checkpoint with its card. Built on a {@link Lab} (shared data,
 * validation rows, retraining runs), so its runs resume from their checkpoints.
 *
 * <p>Each step stores its result under the output directory and is reused when run again ("done, reused"):
 *
 * <pre>
 *   importance/                 the teacher's importance run (activation, block drop; stability at N/2, N/4)
 *   students/width-pruned/      the pruned students (HF checkpoints with pruning.json and card)
 *   students/depth-pruned/
 *   runs/width-distilled/       retraining runs: run.json (recovery curve), model/ (HF checkpoint)
 *   runs/depth-distilled/
 *   runs/width-scratch/
 *   eval/NAME.json              each model's evaluation records
 *   report/                     report.arrow, report.md, report.html (every metric ± standard error)
 *   generation.arrow            teacher and best student on the same prompts
 *   best/                       the best distilled student: HF checkpoint, README.md (card), lineage.json
 *   steps.json                  wall time and peak resident memory of each step
 *   results.arrow, results.md   the case study's table
 * </pre>
 */
public final class CaseStudy implements AutoCloseable {
    /** Retraining run keys and model names, in the results table's order. */
    public static final String TEACHER = "teacher";
    public static final String WIDTH_PRUNED = "width-pruned";
    public static final String DEPTH_PRUNED = "depth-pruned";
    public static final String WIDTH_DISTILLED = "width-distilled";
    public static final String DEPTH_DISTILLED = "depth-distilled";
    public static final String SCRATCH = "width-scratch";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();

    /**
     * What the case study spends.
     *
     * @param lab the lab's budget: sequence length, batch size, calibration samples N, depth-scan samples,
     *     validation rows, distillation tokens D (each student and the scratch baseline get D), peak learning rate
     * @param stages validations along each retraining run (the recovery curve's points)
     * @param evalDocuments test-split documents scored under the document protocol (0 = all)
     * @param taskItems items of each downstream task (0 = all)
     * @param prompts generation prompts (the first of the built-in list)
     * @param newTokens tokens generated per prompt
     */
    public record Budget(ComputeBudget lab, int stages, int evalDocuments, int taskItems, int prompts, int newTokens) {
        /**
         * The README's run, sized for about 2 hours on an idle 2-core machine with SmolLM2-135M: N x L = 128 x
         * 256 calibration tokens; D = 131,072 tokens (128 steps of 4 x 256) per student and for the scratch
         * baseline, validated 8 times on 16 rows; the first 8 test documents; 100 items per task.
         */
        public static Budget full() {
            return new Budget(new ComputeBudget("case-study", 256, 4, 128, 8, 16, 131_072, 1, 1, 2, 131_072, 1, 2, 2e-4),
                    8, 8, 100, 4, 48);
        }

        /** Tiny: checks the pipeline end to end in the tests (numbers mean nothing). */
        public static Budget test() {
            return new Budget(new ComputeBudget("case-study-test", 64, 2, 8, 2, 4, 128, 1, 1, 2, 128, 1, 2, 2e-4),
                    2, 1, 2, 2, 8);
        }
    }

    /** Prompts for the side-by-side generation. */
    static final List<String> PROMPTS = List.of("The whale", "Call me Ishmael. Some years ago",
            "The ship sailed out of the harbour and", "It was a dark and stormy night;");

    /** A step's cost. */
    public record StepCost(String step, double seconds, long peakRssMb, boolean reused) {}

    private final Lab lab;
    private final Budget budget;
    private final Path corpusDir;
    private final Path tasksDir;
    private final Map<String, StepCost> costs = new LinkedHashMap<>();
    private final Set<String> announced = new HashSet<>();

    private CaseStudy(Lab lab, Budget budget, Path corpusDir, Path tasksDir) {
        this.lab = lab;
        this.budget = budget;
        this.corpusDir = corpusDir;
        this.tasksDir = tasksDir;
        this.costs.putAll(readCosts(lab.out()));
    }

    /** Opens the teacher and data (see {@link Lab#open}); tasks are {@code tasksDir}/*.jsonl. */
    public static CaseStudy open(Path teacherDir, Path corpusDir, Path tasksDir, Path out, Budget budget, long seed,
            ai.minitron.progress.Progress progress) {
        return new CaseStudy(Lab.open(teacherDir, corpusDir, out, budget.lab(), seed, progress), budget, corpusDir,
                tasksDir);
    }

    public Lab lab() {
        return lab;
    }

    public Budget budget() {
        return budget;
    }

    public Path out() {
        return lab.out();
    }

    /** Wall time and peak resident memory of every step run or reused so far. */
    public List<StepCost> costs() {
        return List.copyOf(costs.values());
    }

    // ------------------------------------------------------------------ steps

    /** Step 2: the teacher's importance (activation; block drop of half the layers; stability at N/2, N/4). */
    public ImportanceTable importance() {
        return step("importance", Files.isRegularFile(out().resolve("importance").resolve(ImportanceTable.FILE)), () -> {
            if (!Files.isRegularFile(out().resolve("importance").resolve(ImportanceTable.FILE))) {
                ImportanceEstimator.Options o = ImportanceEstimator.Options.defaults()
                        .withMetrics(EnumSet.of(Metric.ACTIVATION, Metric.BLOCK_DROP))
                        .withBatchSize(budget.lab().batchSize()).withSeed(lab.seed()).withBlockK(lab.halfDepth())
                        .withDepthSamples(budget.lab().depthSamples()).withStabilityLevels(2);
                ImportanceResult r = ImportanceEstimator.run(lab.teacherConfig(), lab.teacherWeights(), lab.calibration(),
                        o, lab.teacherDir(), (phase, done, total) -> lab.progress().update("importance: " + phase, done, total));
                r.write(out().resolve("importance"));
            }
            return lab.importance();
        });
    }

    /** The depth student's kept layers: half the layers dropped as the contiguous block with the lowest block-drop loss. */
    public List<Integer> depthLayers() {
        return Depth.contiguousBlock(importance(), lab.teacherConfig(), lab.halfDepth());
    }

    /**
     * The width student's shape: the default shape rule ({@link SearchSpace#defaultChoice}: all layers kept,
     * the most even pruning of MLP, heads and hidden, only shapes Hugging Face transformers loads) at the
     * depth student's parameter count (within 2 %).
     */
    public Candidate widthShape() {
        return widthShape(lab.teacherConfig());
    }

    /** {@link #widthShape()} of any teacher: the default shape rule at the size of the teacher with half its layers. */
    public static Candidate widthShape(ModelConfig t) {
        Candidate c = SearchSpace.of(t).defaultChoice(new Shapes(t).depthTargetParams(), 0.02);
        if (c.numLayers() != t.numHiddenLayers()) {
            throw new IllegalStateException("the default shape rule dropped layers (" + c + "); the width student keeps all");
        }
        return c;
    }

    /** Step 3: both pruned students as checkpoints (students/width-pruned, students/depth-pruned). */
    public Map<String, Path> students() {
        Path w = out().resolve("students").resolve(WIDTH_PRUNED);
        Path d = out().resolve("students").resolve(DEPTH_PRUNED);
        boolean done = isCheckpoint(w) && isCheckpoint(d);
        return step("prune", done, () -> {
            UnitScores s = UnitScores.of(importance().where(Metric.ACTIVATION.key(), "l2", "mean"));
            if (!isCheckpoint(w)) {
                savePruned(w, widthShape().plan(PrunePlan.Depth.LOWEST), s);
            }
            if (!isCheckpoint(d)) {
                savePruned(d, PrunePlan.keepAll().withKeepLayers(depthLayers()), s);
            }
            Map<String, Path> m = new LinkedHashMap<>();
            m.put(WIDTH_PRUNED, w);
            m.put(DEPTH_PRUNED, d);
            return m;
        });
    }

    private void savePruned(Path dir, PrunePlan plan, UnitScores s) {
        KeepSet keep = Pruner.select(lab.teacherConfig(), plan, s);
        Pruner.Pruned p = Pruner.apply(lab.teacherConfig(), lab.teacherWeights(), keep);
        try (var w = p.weights()) {
            HfCompatibility.check(p.config(), "case study student " + dir.getFileName());
            Path tmp = dir.resolveSibling(dir.getFileName() + ".partial");
            deleteTree(tmp);
            new LanguageModel(p.config(), w, lab.teacher().tokenizerJson(), TensorDType.F32).save(tmp, TensorDType.F32);
            PruningRecord.write(tmp, lab.teacherConfig(), p.config(), plan, keep, s.runId(), lab.teacherDir().toString());
            Map<String, String> f = new LinkedHashMap<>();
            f.put("parent model", lab.teacherDir().toString());
            f.put("parameters", String.format(Locale.ROOT, "%,d -> %,d", Shapes.params(lab.teacherConfig()),
                    Shapes.params(p.config())));
            f.put("shape", shape(p.config()));
            f.put("pruning plan", new Gson().toJson(plan));
            f.put("importance run", out().resolve("importance") + " (" + s.runId() + ")");
            Lineage.record(tmp, lab.teacherDir(), new Lineage.Step("prune", f, command()));
            deleteTree(dir);
            Files.move(tmp, dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Step 4: a student distilled from the teacher with forward KL for D tokens (resumes from its checkpoint). */
    public Run distill(String prunedName) {
        String key = prunedName.equals(WIDTH_PRUNED) ? WIDTH_DISTILLED : DEPTH_DISTILLED;
        return step("distill " + prunedName, Run.read(lab.runDir(key)) != null, () -> {
            Path src = students().get(prunedName);
            try (NDManager m = NDManager.newBaseManager(); LanguageModel s = LanguageModel.load(src, m)) {
                Pruner.Pruned p = new Pruner.Pruned(s.config(), s.weights(), null);
                Run r = lab.distill(key, p, budget.lab().distillTokens(), Distiller.Options.forwardKl(), budget.stages(), true);
                Path model = lab.runDir(key).resolve("model");
                if (!Files.isRegularFile(model.resolve(Lineage.FILE))) {
                    Map<String, String> f = new LinkedHashMap<>();
                    f.put("teacher", lab.teacherDir().toString());
                    f.put("student initialisation", src.toString());
                    f.put("losses", "forward KL(teacher || student) on logits, temperature 1");
                    f.put("tokens", String.format(Locale.ROOT, "%,d student tokens", r.tokens()));
                    f.put("final validation", String.format(Locale.ROOT, "loss %.4f, KL %.5f", r.finalLoss(), r.finalKl()));
                    Lineage.record(model, src, new Lineage.Step("distill", f, command()));
                }
                return r;
            }
        });
    }

    /** Step 5: the width student's shape trained from random initialisation on the same D tokens (cross-entropy). */
    public Run scratch() {
        return step("scratch", Run.read(lab.runDir(SCRATCH)) != null, () -> {
            Candidate c = widthShape();
            ModelConfig t = lab.teacherConfig();
            ModelConfig shape = t.withShape(c.hiddenSize(), c.mlpSize(), c.numLayers(), c.numAttentionHeads(), c.kvGroups());
            return lab.scratch(SCRATCH, shape, budget.lab().distillTokens(), budget.stages(), true);
        });
    }

    /** The checkpoint of each model of the table, in order. */
    public Map<String, Path> models() {
        Map<String, Path> m = new LinkedHashMap<>();
        m.put(TEACHER, lab.teacherDir());
        m.putAll(students());
        m.put(WIDTH_DISTILLED, lab.runDir(WIDTH_DISTILLED).resolve("model"));
        m.put(DEPTH_DISTILLED, lab.runDir(DEPTH_DISTILLED).resolve("model"));
        m.put(SCRATCH, lab.runDir(SCRATCH).resolve("model"));
        return m;
    }

    /**
     * Step 6: every model on the test split (document protocol: bits per byte, word perplexity), last-word
     * accuracy and the multiple-choice continuation task, each with its standard error; the side-by-side
     * report in report/. Each model's records are stored in eval/NAME.json and reused.
     */
    public Report evaluate() {
        Map<String, Path> models = models();
        boolean done = models.keySet().stream().allMatch(n -> Files.isRegularFile(evalFile(n)));
        return step("evaluate", done, () -> {
            Report report = new Report();
            for (var e : models.entrySet()) {
                report.add(e.getKey(), evaluate(e.getKey(), e.getValue()));
            }
            report.write(out().resolve("report"));
            return report;
        });
    }

    private Path evalFile(String name) {
        return out().resolve("eval").resolve(name + ".json");
    }

    /** One model's records (stored, or computed and stored). */
    public List<EvalRecord> evaluate(String name, Path dir) {
        Path f = evalFile(name);
        if (Files.isRegularFile(f)) {
            try {
                return GSON.fromJson(Files.readString(f), new TypeToken<List<EvalRecord>>() {}.getType());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
            }
        }
        if (!isCheckpoint(dir)) {
            throw new IllegalStateException("model '" + name + "' has no checkpoint at " + dir + " (run its step first)");
        }
        List<EvalRecord> records = new ArrayList<>();
        Corpus test = Corpus.read(corpusDir, Corpus.Split.TEST);
        List<String> docs = budget.evalDocuments() > 0 && test.documents().size() > budget.evalDocuments()
                ? test.documents().subList(0, budget.evalDocuments()) : test.documents();
        try (NDManager m = NDManager.newBaseManager(); LanguageModel lm = LanguageModel.load(dir, m);
                Tokenizer tok = lm.openTokenizer(null)) {
            String source = corpusDir.resolve(Corpus.Split.TEST.fileName()) + " (first " + docs.size() + " documents)";
            List<long[]> tokens = new ArrayList<>(docs.size());
            for (String d : docs) {
                tokens.add(tok.encode(d));
            }
            int windows = Perplexity.documentWindowCount(tokens, budget.lab().seqLen());
            Perplexity.DocumentResult r = Perplexity.documents(lm.config(), lm.weights(), m, docs, tokens,
                    Perplexity.prefixToken(tok), budget.lab().seqLen(), budget.lab().batchSize(),
                    i -> lab.progress().update("evaluate " + name + ": test windows", i, windows));
            records.addAll(Evaluator.records("test", source, r));
            Evaluator ev = new Evaluator(lm, tok, m).batchSize(budget.lab().batchSize());
            for (String task : List.of("moby_lastword.jsonl", "moby_continuation.jsonl")) {
                TaskFile.Task t = TaskFile.read(tasksDir.resolve(task));
                if (budget.taskItems() > 0) {
                    t = t.limit(budget.taskItems());
                }
                records.addAll(t.kind() == TaskFile.Kind.MULTIPLE_CHOICE ? ev.multipleChoice(t).records(t.path().toString())
                        : ev.lastWord(t).records(t.path().toString()));
            }
        }
        try {
            Files.createDirectories(f.getParent());
            AtomicFiles.writeString(f, GSON.toJson(records) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + f + ": " + e.getMessage(), e);
        }
        return records;
    }

    /** The distilled student with the lowest final validation loss. */
    public String bestStudent() {
        Run w = distill(WIDTH_PRUNED);
        Run d = distill(DEPTH_PRUNED);
        return w.finalLoss() <= d.finalLoss() ? WIDTH_DISTILLED : DEPTH_DISTILLED;
    }

    /** Step 6b: greedy generation of the teacher and the best student on the same prompts. */
    public Table generation() {
        Path f = out().resolve("generation.arrow");
        return step("generate", Files.isRegularFile(f), () -> {
            if (Files.isRegularFile(f)) {
                return ArrowIo.read(f);
            }
            String best = bestStudent();
            GenerationConfig cfg = GenerationConfig.defaults().withMaxNewTokens(budget.newTokens());
            List<String> prompts = PROMPTS.subList(0, Math.min(PROMPTS.size(), budget.prompts()));
            Table t;
            try (NDManager m = NDManager.newBaseManager(); LanguageModel s = LanguageModel.load(models().get(best), m);
                    Tokenizer tt = lab.teacher().openTokenizer(null); Tokenizer st = s.openTokenizer(null)) {
                t = Comparison.sideBySide(TEACHER, new Generator(lab.teacherConfig(), lab.teacherWeights(), tt), best,
                        Generator.of(s, st), prompts, cfg);
            }
            ArrowIo.write(t, f);
            return t;
        });
    }

    /** Step 7: the best distilled student as a Hugging Face checkpoint in best/ with its card (lineage and results). */
    public Path export() {
        Path dir = out().resolve("best");
        return step("export", isCheckpoint(dir) && Files.isRegularFile(dir.resolve("README.md")), () -> {
            String best = bestStudent();
            Path src = models().get(best);
            Path tmp = out().resolve("best.partial");
            try {
                deleteTree(tmp);
                FileTrees.copy(src, tmp);
                ModelCard.update(tmp, evaluate(best, src));
                deleteTree(dir);
                Files.move(tmp, dir);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot export " + src + " to " + dir + ": " + e.getMessage(), e);
            }
            return dir;
        });
    }

    /** Runs every step (each reused when done) and writes results.arrow and results.md. */
    public Table runAll() {
        importance();
        students();
        distill(WIDTH_PRUNED);
        distill(DEPTH_PRUNED);
        scratch();
        evaluate();
        generation();
        export();
        return results();
    }

    // ------------------------------------------------------------------ results

    /** The results table: one row per model with its shape, size, training tokens, time and every metric. */
    public Table results() {
        Map<String, Path> models = models();
        StringColumn model = StringColumn.create("model");
        StringColumn stage = StringColumn.create("stage");
        StringColumn shape = StringColumn.create("shape");
        LongColumn params = LongColumn.create("params");
        LongColumn tokens = LongColumn.create("train_tokens");
        DoubleColumn seconds = DoubleColumn.create("train_seconds");
        DoubleColumn valLoss = DoubleColumn.create("val_loss");
        Map<String, DoubleColumn> metrics = new LinkedHashMap<>();
        for (var e : models.entrySet()) {
            String name = e.getKey();
            ModelConfig c = ModelConfig.load(e.getValue());
            Run run = Run.read(lab.runDir(name));
            model.append(name);
            stage.append(switch (name) {
                case TEACHER -> "teacher";
                case WIDTH_PRUNED, DEPTH_PRUNED -> "pruned, zero-shot";
                case SCRATCH -> "random init, trained (CE)";
                default -> "pruned + distilled (forward KL)";
            });
            shape.append(shape(c));
            params.append(ParamCount.of(c).total());
            tokens.append(run == null ? 0 : run.tokens());
            seconds.append(run == null ? 0 : run.seconds());
            valLoss.append(run != null ? run.finalLoss() : zeroShotLoss(name, e.getValue()));
            for (EvalRecord r : evaluate(name, e.getValue())) {
                String col = r.task() + " " + r.metric();
                metrics.computeIfAbsent(col, k -> DoubleColumn.create(k));
                metrics.computeIfAbsent(col + " se", k -> DoubleColumn.create(k));
                metrics.get(col).append(r.value());
                metrics.get(col + " se").append(r.stderr());
            }
        }
        Table t = Table.create("case_study", model, stage, shape, params, tokens, seconds, valLoss);
        for (DoubleColumn c : metrics.values()) {
            if (c.size() == model.size()) {
                t.addColumns(c);
            }
        }
        try {
            ArrowIo.write(t, out().resolve("results.arrow"), Map.of("producer", "minitron case-study",
                    "budget", budget.lab().name(), "seed", String.valueOf(lab.seed())));
            AtomicFiles.writeString(out().resolve("results.md"), markdown(t));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write results to " + out() + ": " + e.getMessage(), e);
        }
        return t;
    }

    /** Validation loss of a model without a retraining run (teacher, pruned students), on the lab's rows; cached. */
    private double zeroShotLoss(String name, Path dir) {
        Path f = out().resolve("eval").resolve(name + ".val_loss");
        try {
            if (Files.isRegularFile(f)) {
                return Double.parseDouble(Files.readString(f).trim());
            }
            double v;
            if (name.equals(TEACHER)) {
                v = lab.validationLoss(lab.teacherConfig(), lab.teacherWeights());
            } else {
                try (NDManager m = NDManager.newBaseManager(); LanguageModel lm = LanguageModel.load(dir, m)) {
                    v = lab.validationLoss(lm.config(), lm.weights());
                }
            }
            Files.createDirectories(f.getParent());
            AtomicFiles.writeString(f, Double.toString(v) + "\n");
            return v;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot cache " + f + ": " + e.getMessage(), e);
        }
    }

    /** The Markdown table of the README: the headline metrics with their standard errors. */
    String markdown(Table t) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "Teacher %s; budget %s, seed %d: calibration N x L = %d x %d, D = %,d tokens per"
                + " retraining run (batch %d x %d), peak LR %.0e; test split: first %d documents (document protocol);"
                + " tasks: %d items each.%n%n", lab.teacherDir(), budget.lab().name(), lab.seed(),
                budget.lab().calibrationSamples(), budget.lab().seqLen(), budget.lab().distillTokens(),
                budget.lab().batchSize(), budget.lab().seqLen(), budget.lab().lr(), budget.evalDocuments(),
                budget.taskItems()));
        List<String> headline = new ArrayList<>();
        for (String c : t.columnNames()) {
            if (!c.endsWith(" se") && t.columnNames().contains(c + " se") && (c.endsWith("bits_per_byte")
                    || c.endsWith("word_perplexity") || c.endsWith(" acc") || c.endsWith(" acc_norm"))) {
                headline.add(c);
            }
        }
        b.append("| model | stage | shape | params | train tokens | train time | val loss |");
        headline.forEach(h -> b.append(' ').append(h).append(" |"));
        b.append('\n').append("|---".repeat(7 + headline.size())).append("|\n");
        for (int i = 0; i < t.rowCount(); i++) {
            b.append(String.format(Locale.ROOT, "| %s | %s | %s | %,d | %,d | %.0f min | %.3f |", t.stringColumn("model").get(i),
                    t.stringColumn("stage").get(i), t.stringColumn("shape").get(i), t.longColumn("params").get(i),
                    t.longColumn("train_tokens").get(i), t.doubleColumn("train_seconds").get(i) / 60,
                    t.doubleColumn("val_loss").get(i)));
            for (String h : headline) {
                double se = t.doubleColumn(h + " se").isMissing(i) ? Double.NaN : t.doubleColumn(h + " se").getDouble(i);
                // the document protocol's corpus-level perplexity and bits per byte have no standard error
                b.append(Double.isFinite(se) ? String.format(Locale.ROOT, " %.3f ± %.3f |", t.doubleColumn(h).getDouble(i), se)
                        : String.format(Locale.ROOT, " %.3f |", t.doubleColumn(h).getDouble(i)));
            }
            b.append('\n');
        }
        b.append("\nSteps (wall time, peak resident memory of the step):");
        for (StepCost c : costs.values()) {
            b.append(String.format(Locale.ROOT, " %s %.1f min, %,d MB%s;", c.step(), c.seconds() / 60, c.peakRssMb(),
                    c.reused() ? " (earlier run)" : ""));
        }
        b.setLength(b.length() - 1);
        b.append(".\n");
        return b.toString();
    }

    // ------------------------------------------------------------------ plumbing

    /** Runs a step (or reuses it), recording wall time and peak resident memory in steps.json. */
    private <T> T step(String name, boolean done, Supplier<T> body) {
        if (done) {
            if (announced.add(name)) { // steps call each other: say it once
                lab.progress().update(name + ": done, reused", 1, 1);
            }
            return body.get();
        }
        NativeMemory.resetPeakRss();
        long t0 = System.nanoTime();
        T r = body.get();
        costs.put(name, new StepCost(name, (System.nanoTime() - t0) / 1e9, NativeMemory.peakRssKb() / 1024, false));
        writeCosts();
        return r;
    }

    private void writeCosts() {
        try {
            AtomicFiles.writeString(out().resolve("steps.json"), GSON.toJson(costs.values()) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out().resolve("steps.json") + ": " + e.getMessage(), e);
        }
    }

    private static Map<String, StepCost> readCosts(Path out) {
        Map<String, StepCost> m = new LinkedHashMap<>();
        Path f = out.resolve("steps.json");
        if (Files.isRegularFile(f)) {
            try {
                List<StepCost> l = GSON.fromJson(Files.readString(f), new TypeToken<List<StepCost>>() {}.getType());
                for (StepCost c : l) {
                    m.put(c.step(), new StepCost(c.step(), c.seconds(), c.peakRssMb(), true));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
            }
        }
        return m;
    }

    static String shape(ModelConfig c) {
        return String.format(Locale.ROOT, "%d layers, hidden %d, heads %d/%d KV, MLP %d", c.numHiddenLayers(),
                c.hiddenSize(), c.numAttentionHeads(), c.numKeyValueHeads(), c.intermediateSize());
    }

    private static boolean isCheckpoint(Path dir) {
        return Files.isRegularFile(dir.resolve("config.json"))
                && (Files.isRegularFile(dir.resolve("model.safetensors"))
                        || Files.isRegularFile(dir.resolve("model.safetensors.index.json")));
    }

    private String command() {
        return "minitron case-study --model " + lab.teacherDir() + " --out " + out() + " --budget "
                + (budget.lab().name().endsWith("-test") ? "test" : "full") + " --seed " + lab.seed();
    }

    private static void deleteTree(Path p) throws IOException {
        FileTrees.delete(p);
    }

    @Override
    public void close() {
        lab.close();
    }
}
