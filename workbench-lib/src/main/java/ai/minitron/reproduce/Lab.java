package ai.minitron.reproduce;

import ai.djl.ndarray.NDManager;
import ai.minitron.config.ModelConfig;
import ai.minitron.data.CalibrationSet;
import ai.minitron.data.Corpus;
import ai.minitron.data.TokenDataset;
import ai.minitron.distill.Distiller;
import ai.minitron.importance.ImportanceEstimator;
import ai.minitron.importance.ImportanceResult;
import ai.minitron.importance.ImportanceTable;
import ai.minitron.importance.Metric;
import ai.minitron.io.FileTrees;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import ai.minitron.progress.Progress;
import ai.minitron.prune.KeepSet;
import ai.minitron.prune.PrunePlan;
import ai.minitron.prune.Pruner;
import ai.minitron.prune.UnitScores;
import ai.minitron.tokenize.Tokenizer;
import ai.minitron.train.BatchSource;
import ai.minitron.train.DatasetBatches;
import ai.minitron.train.TrainConfig;
import ai.minitron.train.TrainLoop;
import ai.minitron.train.ValidationLoss;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/**
 * The shared bench of the reproduction: the teacher, one training stream, one validation set, one
 * calibration set and one importance pass on the teacher, used by every {@link Experiment}; plus the
 * three operations the experiments are made of — prune, score zero-shot, retrain (distil or train from
 * scratch) — each retraining run stored under {@code WORK/runs/KEY/} ({@link #runDir}) and reused when another experiment
 * asks for the same run (Minitron's "activation importance, (L2, mean), forward KL" student is shared
 * by experiments 2, 3, 4, 5 and 7).
 *
 * <p>All comparisons within an experiment use the same data order, validation rows and token budget.
 *
 * <p>Seeds: {@link #seeded seeded(i)} is a view of the same teacher and validation rows for seed i of the
 * budget's {@link ComputeBudget#seeds()}, with its own seed {@link #seedOf seedOf(--seed, i)} for data order,
 * calibration sample (hence its own importance pass), the random baseline and initialisation, and its own
 * work directory OUT/seeds/I/ (importance/, runs/KEY/): runs are keyed by seed, so a resumed
 * reproduction reuses exactly the finished per-seed runs. The validation rows are the same for every seed,
 * so per-seed differences are paired.
 */
public final class Lab implements AutoCloseable {
    /** The increment between derived seeds (the 64-bit golden ratio, SplittableRandom's gamma). */
    static final long SEED_STEP = 0x9E3779B97F4A7C15L;

    private final Path out;
    private final Path workDir;
    private final ComputeBudget budget;
    private final long seed;
    private final int seedIndex;
    private final NDManager manager;
    private final LanguageModel teacher;
    private final Path teacherDir;
    private final TokenDataset train;
    private final String trainSource;
    private final TokenDataset validation;
    private final CalibrationSet calibration;
    private final Progress progress;
    private final Lab root;
    private final java.util.Map<Integer, Lab> views = new java.util.HashMap<>();
    private ImportanceTable importance;

    private Lab(Path out, Path workDir, ComputeBudget budget, long seed, int seedIndex, NDManager manager,
            LanguageModel teacher, Path teacherDir, TokenDataset train, String trainSource, TokenDataset validation,
            CalibrationSet calibration, Progress progress, Lab root) {
        this.out = out;
        this.workDir = workDir;
        this.budget = budget;
        this.seed = seed;
        this.seedIndex = seedIndex;
        this.manager = manager;
        this.teacher = teacher;
        this.teacherDir = teacherDir;
        this.train = train;
        this.trainSource = trainSource;
        this.validation = validation;
        this.calibration = calibration;
        this.progress = progress == null ? Progress.NONE : progress;
        this.root = root;
    }

    /**
     * Loads the teacher and tokenises the corpus splits (train.txt, validation.txt under {@code corpusDir}).
     *
     * @throws IllegalArgumentException naming the directory or split at fault
     */
    public static Lab open(Path teacherDir, Path corpusDir, Path out, ComputeBudget budget, long seed, Progress progress) {
        Path trainFile = corpusDir.resolve(Corpus.Split.TRAIN.fileName());
        Path valFile = corpusDir.resolve(Corpus.Split.VALIDATION.fileName());
        for (Path f : List.of(trainFile, valFile)) {
            if (!Files.isRegularFile(f)) {
                throw new IllegalArgumentException(corpusDir + ": no corpus split " + f.getFileName()
                        + " (expected train.txt and validation.txt)");
            }
        }
        NDManager m = NDManager.newBaseManager();
        try {
            LanguageModel t = LanguageModel.load(teacherDir, m);
            TokenDataset.checkSeqLen(budget.seqLen(), t.config().maxPositionEmbeddings());
            TokenDataset tr;
            TokenDataset va;
            try (Tokenizer tok = t.openTokenizer(null)) {
                tr = TokenDataset.pack(Corpus.read(trainFile).documents(), tok, budget.seqLen());
                va = TokenDataset.pack(Corpus.read(valFile).documents(), tok, budget.seqLen());
            }
            if (va.size() < budget.validationRows()) {
                throw new IllegalArgumentException(valFile + " gives " + va.size() + " rows of " + budget.seqLen()
                        + "+1 tokens, the budget needs " + budget.validationRows());
            }
            TokenDataset val = va.shuffled(seed).head(budget.validationRows());
            CalibrationSet cal = CalibrationSet.packed(tr, budget.calibrationSamples(), seed, trainFile.toString());
            Files.createDirectories(out);
            return new Lab(out, out, budget, seed, 0, m, t, teacherDir, tr, trainFile.toString(), val, cal, progress, null);
        } catch (IOException e) {
            m.close();
            throw new UncheckedIOException("cannot create " + out + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /**
     * Seed {@code i} of {@code base}: {@code base + i · SEED_STEP} (64-bit wrap-around), so seed 0 is
     * {@code --seed} itself and the others are far apart in the seed space.
     */
    public static long seedOf(long base, int i) {
        if (i < 0) {
            throw new IllegalArgumentException("seed index must be >= 0, got " + i);
        }
        return base + i * SEED_STEP;
    }

    /**
     * The view of this lab for seed {@code i} (0 .. budget seeds − 1): same teacher and validation rows;
     * seed {@link #seedOf seedOf(seed(), i)} for data order, calibration sample, random baseline and
     * initialisation; importance pass and runs under OUT/seeds/I/. Views are cached and closed with the lab.
     */
    public synchronized Lab seeded(int i) {
        if (root != null) {
            throw new IllegalStateException("seeded(" + i + ") on the view of seed " + seedIndex + ": ask the lab");
        }
        if (i < 0 || i >= budget.seeds()) {
            throw new IllegalArgumentException("seed index " + i + " is outside the budget's " + budget.seeds()
                    + " seeds (budget '" + budget.name() + "')");
        }
        Lab v = views.get(i);
        if (v == null) {
            long s = seedOf(seed, i);
            CalibrationSet cal = CalibrationSet.packed(train, budget.calibrationSamples(), s, trainSource);
            Progress p = (phase, done, total) -> progress.update("seed " + i + ": " + phase, done, total);
            v = new Lab(out, out.resolve("seeds").resolve(String.valueOf(i)), budget, s, i, manager, teacher,
                    teacherDir, train, trainSource, validation, cal, p, this);
            views.put(i, v);
        }
        return v;
    }

    public ComputeBudget budget() {
        return budget;
    }

    /** This lab's seed: {@code --seed} for the lab itself, {@link #seedOf} for a {@link #seeded} view. */
    public long seed() {
        return seed;
    }

    /** 0 for the lab itself, i for the view {@link #seeded seeded(i)}. */
    public int seedIndex() {
        return seedIndex;
    }

    /** The output directory (the same for every seed's view). */
    public Path out() {
        return out;
    }

    /** Where this lab keeps its importance pass and runs: OUT itself, or OUT/seeds/I for a seed's view. */
    public Path workDir() {
        return workDir;
    }

    public ModelConfig teacherConfig() {
        return teacher.config();
    }

    public Weights teacherWeights() {
        return teacher.weights();
    }

    public CalibrationSet calibration() {
        return calibration;
    }

    public Progress progress() {
        return progress;
    }

    /** Validation rows in a fixed order (every model in every experiment is scored on these). */
    public BatchSource validationBatches() {
        return new DatasetBatches(validation, 0, false);
    }

    /** The training stream, shuffled by the run seed: every retraining run reads the same batches. */
    public BatchSource trainBatches() {
        return new DatasetBatches(train, seed, true);
    }

    /** Validation batches every model is scored on (the validation rows in batches of the run's batch size). */
    int validationBatchCount() {
        return Math.max(1, budget.validationRows() / budget.batchSize());
    }

    // ------------------------------------------------------------------ importance

    /**
     * The importance pass on the teacher, computed once per output directory (OUT/importance) and reused:
     * activation importance under all 9 aggregations, magnitude, random, Block Importance, layer drop and
     * drop of blocks of half the layers.
     */
    public synchronized ImportanceTable importance() {
        if (importance != null) {
            return importance;
        }
        Path dir = workDir.resolve("importance");
        if (Files.isRegularFile(dir.resolve(ImportanceTable.FILE))) {
            importance = ImportanceTable.load(dir);
            return importance;
        }
        ImportanceEstimator.Options o = ImportanceEstimator.Options.defaults()
                .withMetrics(importanceMetrics())
                .withBatchSize(budget.batchSize()).withSeed(seed).withBlockK(halfDepth())
                .withDepthSamples(budget.depthSamples()).withStabilityLevels(0);
        ImportanceResult r = ImportanceEstimator.run(teacher.config(), teacher.weights(), calibration, o, teacherDir,
                (phase, done, total) -> progress.update("importance: " + phase, done, total));
        r.write(dir);
        importance = r.table();
        return importance;
    }

    /**
     * The metrics of the shared importance pass: activation, magnitude, random and the depth metrics; the
     * zero-shot budget adds the gradient and weight-times-activation baselines (Taylor, Wanda) that the
     * importance-baselines finding compares zero-shot.
     */
    EnumSet<Metric> importanceMetrics() {
        EnumSet<Metric> m = EnumSet.of(Metric.ACTIVATION, Metric.MAGNITUDE, Metric.RANDOM, Metric.BLOCK_IMPORTANCE,
                Metric.LAYER_DROP, Metric.BLOCK_DROP);
        if (budget.zeroShot()) {
            m.add(Metric.TAYLOR);
            m.add(Metric.WANDA);
        }
        return m;
    }

    /** The teacher (its weights stay owned by the lab). */
    public LanguageModel teacher() {
        return teacher;
    }

    /** Directory of the finished run {@code key} (WORK/runs/KEY, {@link #workDir}); its model, when kept, is in {@code model/}. */
    public Path runDir(String key) {
        return workDir.resolve("runs").resolve(key);
    }

    /** Checkpoint directory of the teacher. */
    public Path teacherDir() {
        return teacherDir;
    }

    /** Layers dropped by the depth experiments: half the teacher's (at least one). */
    public int halfDepth() {
        return Math.max(1, teacher.config().numHiddenLayers() / 2);
    }

    /** Activation importance of any model (e.g. a pruned one) on the shared calibration set, (L2, mean) view. */
    public UnitScores activationScores(ModelConfig c, Weights w) {
        ImportanceEstimator.Options o = ImportanceEstimator.Options.defaults().withMetrics(EnumSet.of(Metric.ACTIVATION))
                .withBatchSize(budget.batchSize()).withSeed(seed).withStabilityLevels(0);
        ImportanceResult r = ImportanceEstimator.run(c, w, calibration, o, null,
                (phase, done, total) -> progress.update("importance (student): " + phase, done, total));
        return UnitScores.of(r.table().where(Metric.ACTIVATION.key(), "l2", "mean"));
    }

    // ------------------------------------------------------------------ prune and score

    /** Selects and slices; the parent is untouched. */
    public Pruner.Pruned prune(ModelConfig c, Weights w, PrunePlan plan, UnitScores s) {
        KeepSet keep = Pruner.select(c, plan, s);
        return Pruner.apply(c, w, keep);
    }

    /** Pruned from the teacher. */
    public Pruner.Pruned prune(PrunePlan plan, UnitScores s) {
        return prune(teacher.config(), teacher.weights(), plan, s);
    }

    /**
     * Next-token loss of each validation window (one batch of the budget's batch size; with batch size 1,
     * one row): the units a paired bootstrap resamples. Their mean is {@link #validationLoss}.
     */
    public double[] validationLosses(ModelConfig c, Weights w) {
        return ValidationLoss.batchLosses(c, w, validationBatches(), validationBatchCount(), budget.batchSize());
    }

    /** Mean next-token loss on the shared validation rows. */
    public double validationLoss(ModelConfig c, Weights w) {
        return ValidationLoss.batchMean(c, w, validationBatches(), validationBatchCount(), budget.batchSize());
    }

    // ------------------------------------------------------------------ retraining

    private TrainConfig trainConfig(long tokens, double lr, int stages) {
        int steps = budget.steps(tokens);
        int evalEvery = stages <= 1 ? 0 : Math.max(1, steps / stages);
        // a checkpoint every 1/20 of the run (at least every 1,000 steps): an interrupted run loses little
        int checkpointEvery = Math.max(1, Math.min(1000, steps / 20));
        return TrainConfig.builder().steps(steps).batchSize(budget.batchSize()).seqLen(budget.seqLen()).lr(lr)
                .minLr(lr / 10).warmupSteps(Math.min(10, steps / 10)).evalEvery(evalEvery)
                .evalBatches(validationBatchCount()).checkpointEvery(checkpointEvery).seed(seed).build();
    }

    /**
     * Distils {@code student} (in place) from the teacher for {@code tokens} student tokens, validating
     * {@code stages} times along the way (1 = only at the end). Stored under {@link #runDir runDir(KEY)}; a finished run
     * with the same key is read back instead of recomputed (then the student is left as it was, unless
     * {@code keepModel}, in which case the distilled weights are loaded into it).
     */
    public Run distill(String key, Pruner.Pruned student, long tokens, Distiller.Options options, int stages,
            boolean keepModel) {
        Path dir = runDir(key);
        Run cached = Run.read(dir);
        if (cached != null) {
            if (keepModel) {
                loadInto(dir.resolve("model"), student.weights());
            }
            return cached;
        }
        long t0 = System.nanoTime();
        double zeroShot = validationLoss(student.config(), student.weights());
        TrainConfig tc = trainConfig(tokens, budget.lr(), stages);
        Distiller d = new Distiller(teacher.config(), teacher.weights(), student.config(), options);
        List<Distiller.Validation> log = d.run(student.weights(), tc, trainBatches(), validationBatches(), dir,
                stepListener("distill " + key, tc.steps()));
        List<Run.Point> curve = new ArrayList<>();
        curve.add(new Run.Point(0, zeroShot, Double.NaN));
        for (Distiller.Validation v : log) {
            curve.add(new Run.Point(v.studentTokens(), v.valLoss(), v.klToTeacher()));
        }
        Run r = new Run(key, (long) tc.steps() * tc.tokensPerStep(), curve, (System.nanoTime() - t0) / 1e9);
        if (keepModel) {
            new LanguageModel(student.config(), student.weights(), teacher.tokenizerJson(), TensorDType.F32)
                    .save(dir.resolve("model"), TensorDType.F32);
        }
        r.write(dir);
        deleteTree(dir.resolve("checkpoint"));
        deleteTree(dir.resolve("checkpoint.old"));
        return r;
    }

    /** Trains a model of shape {@code c} from random initialisation (seeded) on the same stream; stored like {@link #distill}. */
    public Run scratch(String key, ModelConfig c, long tokens, int stages) {
        return scratch(key, c, tokens, stages, false);
    }

    /** {@link #scratch(String, ModelConfig, long, int)}; with {@code keepModel} the trained model is saved in runDir(KEY)/model. */
    public Run scratch(String key, ModelConfig c, long tokens, int stages, boolean keepModel) {
        Path dir = runDir(key);
        Run cached = Run.read(dir);
        if (cached != null) {
            return cached;
        }
        long t0 = System.nanoTime();
        try (Weights w = Weights.random(c, manager, seed, teacher.weights().dataType())) {
            double zeroShot = validationLoss(c, w);
            TrainConfig tc = trainConfig(tokens, 2 * budget.lr(), stages);
            List<Run.Point> curve = new ArrayList<>();
            curve.add(new Run.Point(0, zeroShot, Double.NaN));
            TrainLoop.Listener bar = stepListener("scratch " + key, tc.steps());
            new TrainLoop(c, w, tc, trainBatches(), validationBatches(), TrainLoop.languageModelling(c), dir,
                    new TrainLoop.Listener() {
                        @Override
                        public void onStep(TrainLoop.StepMetrics m) {
                            if (!Double.isNaN(m.valLoss())) {
                                curve.add(new Run.Point(m.tokens(), m.valLoss(), Double.NaN));
                            }
                            bar.onStep(m);
                        }
                    }).run();
            Run r = new Run(key, (long) tc.steps() * tc.tokensPerStep(), curve, (System.nanoTime() - t0) / 1e9);
            if (keepModel) {
                new LanguageModel(c, w, teacher.tokenizerJson(), TensorDType.F32).save(dir.resolve("model"), TensorDType.F32);
            }
            r.write(dir);
            deleteTree(dir.resolve("checkpoint"));
            deleteTree(dir.resolve("checkpoint.old"));
            return r;
        }
    }

    private TrainLoop.Listener stepListener(String phase, long steps) {
        return m -> progress.update(phase, m.step(), steps);
    }

    private void loadInto(Path modelDir, Weights target) {
        try (LanguageModel m = LanguageModel.load(modelDir, manager)) {
            for (String name : m.weights().names()) {
                target.put(name, m.weights().get(name).duplicate());
            }
        }
    }

    private static void deleteTree(Path p) {
        try {
            FileTrees.delete(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + p + ": " + e.getMessage(), e);
        }
    }

    /** Closes the teacher and arrays; a seed's view closes nothing (its lab does). */
    @Override
    public void close() {
        if (root == null) {
            views.clear();
            teacher.close();
            manager.close();
        }
    }
}
