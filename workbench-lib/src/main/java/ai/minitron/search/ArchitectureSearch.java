package ai.minitron.search;

import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.distill.Distiller;
import ai.minitron.io.FileTrees;
import ai.minitron.stats.RankAgreement;
import ai.minitron.model.Weights;
import ai.minitron.prune.KeepSet;
import ai.minitron.prune.PrunePlan;
import ai.minitron.prune.Pruner;
import ai.minitron.prune.UnitScores;
import ai.minitron.train.BatchSource;
import ai.minitron.train.TrainConfig;
import ai.minitron.train.TrainLoop;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tech.tablesaw.api.Table;

/**
 * Architecture search under a parameter budget (Minitron, arXiv 2407.14679 §2.3 and Fig. 4):
 * enumerate every shape of a {@link SearchSpace} whose exact parameter count is within the budget's
 * tolerance, prune each from the parent by importance ({@link Pruner}), rank them by zero-shot
 * validation loss (default) or KL(teacher ‖ candidate) on one fixed validation token set, then
 * optionally retrain the top K with a few distillation stages ({@link Distiller}) and re-rank after
 * each stage, measuring with Kendall's τ how much each stage reorders them (the paper's finding:
 * rankings stabilise after a little retraining, while zero-shot loss is a poor predictor).
 *
 * <p>Fluent, for notebooks:
 *
 * <pre>
 *   SearchResult r = ArchitectureSearch.of(config, weights).importance(scores)
 *       .space(SearchSpace.of(config).withMaxPrune(0.5)).budget(3_800_000, 0.05)
 *       .validation(val, 4, 8).out(dir).run();
 *   r.byRank(); r.tau();
 * </pre>
 *
 * With {@link #out} set, the search is checkpointed and resumable (see {@code SearchStore}): {@code
 * candidates.arrow} is rewritten (atomically) after every scored candidate and {@code retrain.arrow}
 * after every retrained candidate, so a crashed search resumes without scoring a candidate twice;
 * retraining resumes inside a candidate from its {@link TrainLoop} checkpoint (one per stage). A
 * directory holding a search with other settings is refused. The tables' columns are in {@code
 * SearchTables}.
 */
public final class ArchitectureSearch {
    public static final String CANDIDATES_FILE = "candidates.arrow";
    public static final String RETRAIN_FILE = "retrain.arrow";
    public static final String SUMMARY_FILE = "search.json";

    // The settings (package-private: SearchStore hashes them and writes them to search.json).
    final ModelConfig parent;
    final Weights weights;
    UnitScores scores;
    SearchSpace space;
    Long budget;
    double tolerance = 0.05;
    RankBy rankBy = RankBy.VAL_LOSS;
    PrunePlan.Depth depth = PrunePlan.Depth.LOWEST;
    boolean headResidual;
    BatchSource val;
    int valBatches = 4;
    int batchSize = 8;
    int topK;
    int stages = 1;
    long tokensPerStage;
    BatchSource train;
    double lr = 1e-3;
    long seed;
    Distiller.Options distill = Distiller.Options.forwardKl();
    private Path out;
    private SearchListener listener = new SearchListener() {};
    private ZeroShotScorer zeroShot;

    /**
     * Zero-shot scoring of many candidates at once, {@code {val_loss, kl}} by candidate id: by default each is
     * scored here in turn ({@link #score}); another implementation may score them elsewhere (e.g. on a cluster,
     * module {@code spark}) with {@link #zeroShot}, the same computation for one candidate.
     */
    @FunctionalInterface
    public interface ZeroShotScorer {
        Map<String, double[]> score(ArchitectureSearch search, List<Candidate> candidates);
    }

    private ArchitectureSearch(ModelConfig parent, Weights weights) {
        this.parent = parent;
        this.weights = weights;
        this.space = SearchSpace.of(parent);
    }

    /** A search around a parent model (its weights are only read). */
    public static ArchitectureSearch of(ModelConfig parent, Weights weights) {
        return new ArchitectureSearch(parent, weights);
    }

    /** The importance every candidate is pruned by. */
    public ArchitectureSearch importance(UnitScores s) {
        this.scores = s;
        return this;
    }

    public ArchitectureSearch space(SearchSpace s) {
        if (!s.parent().equals(parent)) {
            throw new IllegalArgumentException("the search space was built for another model");
        }
        this.space = s;
        return this;
    }

    /** Target parameter count and tolerance (a fraction: 0.05 = ±5%). */
    public ArchitectureSearch budget(long params, double tolerance) {
        this.budget = params;
        this.tolerance = tolerance;
        return this;
    }

    /** What candidates are ranked by (default {@link RankBy#VAL_LOSS}). */
    public ArchitectureSearch rankBy(RankBy r) {
        this.rankBy = r;
        return this;
    }

    /** How layers are chosen when a candidate drops some (default LOWEST importance). */
    public ArchitectureSearch depth(PrunePlan.Depth d) {
        this.depth = d;
        return this;
    }

    /** Prune candidates with the experimental head residual ({@link PrunePlan#headResidual}); default off. */
    public ArchitectureSearch headResidual(boolean on) {
        this.headResidual = on;
        return this;
    }

    /** The plan that prunes the parent to candidate {@code c} with this search's options. */
    public PrunePlan planFor(Candidate c) {
        return c.plan(depth).withHeadResidual(headResidual);
    }

    /** The fixed validation token set: its first {@code batches} batches of {@code batchSize} rows. */
    public ArchitectureSearch validation(BatchSource source, int batches, int batchSize) {
        if (batches < 1 || batchSize < 1) {
            throw new IllegalArgumentException("validation batches and batch size must be >= 1");
        }
        this.val = source;
        this.valBatches = batches;
        this.batchSize = batchSize;
        return this;
    }

    /**
     * Lightweight retraining of the top {@code k} zero-shot candidates: {@code stages} stages of
     * {@code tokensPerStage} student tokens each, distilled from the parent on {@code trainData}
     * (batches of the validation batch size), re-ranked after each stage.
     */
    public ArchitectureSearch retrain(int k, int stages, long tokensPerStage, BatchSource trainData) {
        if (k < 0 || stages < 1 || tokensPerStage < 1) {
            throw new IllegalArgumentException("retraining needs top-k >= 0, stages >= 1 and tokens per stage >= 1");
        }
        this.topK = k;
        this.stages = stages;
        this.tokensPerStage = tokensPerStage;
        this.train = trainData;
        return this;
    }

    public ArchitectureSearch learningRate(double lr) {
        this.lr = lr;
        return this;
    }

    public ArchitectureSearch distillation(Distiller.Options o) {
        this.distill = o;
        return this;
    }

    public ArchitectureSearch seed(long s) {
        this.seed = s;
        return this;
    }

    /** Where tables, search.json and retraining checkpoints go (and where a crashed search resumes). */
    public ArchitectureSearch out(Path dir) {
        this.out = dir;
        return this;
    }

    /** Scores the zero-shot candidates with {@code s} instead of one by one in this process. */
    public ArchitectureSearch zeroShotScorer(ZeroShotScorer s) {
        this.zeroShot = s;
        return this;
    }

    public ArchitectureSearch listener(SearchListener l) {
        this.listener = l;
        return this;
    }

    /** The candidates within the budget (no scoring). */
    public List<Candidate> candidates() {
        if (budget == null) {
            throw new IllegalArgumentException("no parameter budget: call budget(params, tolerance)");
        }
        return space.enumerate(budget, tolerance);
    }

    // ---------------------------------------------------------------- run

    public SearchResult run() {
        if (scores == null) {
            throw new IllegalArgumentException("no importance scores: call importance(...)");
        }
        if (val == null) {
            throw new IllegalArgumentException("no validation tokens: call validation(source, batches, batchSize)");
        }
        List<Candidate> cands = candidates();
        SearchStore store = SearchStore.open(this, out);
        Map<String, double[]> done = store.scoredCandidates();
        long parentParams = ParamCount.of(parent).total();
        if (zeroShot != null) {
            List<Candidate> todo = cands.stream().filter(c -> !done.containsKey(c.id())).toList();
            if (!todo.isEmpty()) {
                Map<String, double[]> got = zeroShot.score(this, todo);
                for (Candidate c : todo) {
                    double[] v = got.get(c.id());
                    if (v == null) {
                        throw new IllegalStateException("the zero-shot scorer returned no score for candidate " + c.id());
                    }
                    done.put(c.id(), v);
                }
                store.writeCandidates(SearchTables.candidates(cands, done, parentParams));
            }
        }
        for (int i = 0; i < cands.size(); i++) {
            Candidate c = cands.get(i);
            boolean resumed = done.containsKey(c.id());
            if (!resumed) {
                done.put(c.id(), score(c));
                store.writeCandidates(SearchTables.candidates(cands, done, parentParams));
            }
            listener.onCandidate(i, cands.size(), c, resumed);
        }
        List<Candidate> ranked = rank(cands, done);
        Table table = SearchTables.withRanks(SearchTables.candidates(cands, done, parentParams), ranked);
        store.writeCandidates(table);
        List<SearchResult.Ranking> rankings = new ArrayList<>();
        rankings.add(ranking(0, 0, ranked, done));
        Table retrainTable = SearchTables.emptyRetraining();
        double[] tau = new double[0];
        Candidate best = ranked.get(0);
        int k = Math.min(topK, ranked.size());
        if (k > 0) {
            List<Candidate> top = ranked.subList(0, k);
            Map<String, Map<Integer, double[]>> log = retrainTop(top, done, store);
            tau = new double[stages];
            List<Candidate> prev = top;
            Map<String, double[]> prevScores = done;
            for (int s = 1; s <= stages; s++) {
                Map<String, double[]> at = new LinkedHashMap<>();
                for (Candidate c : top) {
                    at.put(c.id(), log.get(c.id()).get(s));
                }
                List<Candidate> now = rank(top, at);
                rankings.add(ranking(s, s * tokensPerRetrainStage(), now, at));
                double[] a = new double[k];
                double[] b = new double[k];
                for (int j = 0; j < k; j++) {
                    a[j] = rankBy.of(prevScores.get(top.get(j).id()));
                    b[j] = rankBy.of(at.get(top.get(j).id()));
                }
                tau[s - 1] = k < 2 ? Double.NaN : RankAgreement.kendallTauB(a, b);
                prev = now;
                prevScores = at;
            }
            best = prev.get(0);
            retrainTable = SearchTables.retraining(top, done, log, rankings, stages, tokensPerRetrainStage());
        }
        SearchResult r = new SearchResult(table, retrainTable, rankings, tau, best);
        store.writeRetraining(retrainTable);
        store.writeSummary(r, cands.size());
        return r;
    }

    /** Prunes one candidate from the parent and scores it on the validation tokens: {val_loss, kl}. */
    double[] score(Candidate c) {
        PrunePlan plan = planFor(c);
        return zeroShot(parent, weights, plan, Pruner.select(parent, plan, scores), distill, val, valBatches, batchSize);
    }

    /**
     * One candidate's zero-shot score {@code {val_loss, kl}}: the parent pruned to {@code keep} by {@code plan},
     * validated on the first {@code valBatches} batches of {@code batchSize} rows of {@code val} against the
     * parent. What {@link #run} computes for each candidate, wherever it runs.
     */
    public static double[] zeroShot(ModelConfig parent, Weights weights, PrunePlan plan, KeepSet keep,
            Distiller.Options distill, BatchSource val, int valBatches, int batchSize) {
        Pruner.Pruned p = Pruner.apply(parent, weights, keep, plan);
        try (Weights w = p.weights()) {
            Distiller.Validation v = new Distiller(parent, weights, p.config(), distill).validate(w, val, valBatches,
                    batchSize, 0, 0);
            return new double[] {v.valLoss(), v.klToTeacher()};
        }
    }

    /** The units candidate {@code c} keeps (what {@link #score} prunes the parent to). */
    public KeepSet keepFor(Candidate c) {
        return Pruner.select(parent, planFor(c), scores);
    }

    /** The validation rows every candidate is scored on: the first batches of the validation source, in order. */
    public long[][] validationRows() {
        long[][] out = new long[valBatches * batchSize][];
        for (int b = 0; b < valBatches; b++) {
            long[][] rows = val.batch(b, batchSize);
            System.arraycopy(rows, 0, out, b * batchSize, batchSize);
        }
        return out;
    }

    public int validationBatches() {
        return valBatches;
    }

    public int batchSize() {
        return batchSize;
    }

    public Distiller.Options distillation() {
        return distill;
    }

    public ModelConfig parent() {
        return parent;
    }

    /** Best first: lower metric, then more parameters, then id. */
    private List<Candidate> rank(List<Candidate> cands, Map<String, double[]> s) {
        return cands.stream().sorted(Comparator.comparingDouble((Candidate c) -> rankBy.of(s.get(c.id())))
                .thenComparing(Comparator.comparingLong(Candidate::params).reversed()).thenComparing(Candidate::id))
                .toList();
    }

    private SearchResult.Ranking ranking(int stage, long tokens, List<Candidate> ordered, Map<String, double[]> s) {
        return new SearchResult.Ranking(stage, tokens, ordered.stream().map(Candidate::id).toList(),
                ordered.stream().mapToDouble(c -> rankBy.of(s.get(c.id()))).toArray());
    }

    // ---------------------------------------------------------------- retraining

    private long tokensPerStep() {
        return (long) batchSize * train.seqLen();
    }

    private int stepsPerStage() {
        return (int) Math.max(1, tokensPerStage / tokensPerStep());
    }

    /** Student tokens each retrained candidate sees per stage (whole steps). */
    long tokensPerRetrainStage() {
        return stepsPerStage() * tokensPerStep();
    }

    /** candidate id -> stage -> {val_loss, kl}, for stages 1..S; resumes from retrain.arrow and checkpoints. */
    private Map<String, Map<Integer, double[]>> retrainTop(List<Candidate> top, Map<String, double[]> zero,
            SearchStore store) {
        if (train == null) {
            throw new IllegalArgumentException("retraining the top " + topK + " needs training data: call retrain(k,"
                    + " stages, tokens, trainData)");
        }
        Path base = out;
        boolean temp = false;
        try {
            if (base == null) {
                base = Files.createTempDirectory("minitron-search");
                temp = true;
            }
            Map<String, Map<Integer, double[]>> log = store.retrainingLog();
            int per = stepsPerStage();
            int steps = per * stages;
            for (Candidate c : top) {
                Map<Integer, double[]> mine = log.computeIfAbsent(c.id(), x -> new LinkedHashMap<>());
                if (mine.size() >= stages) {
                    continue;
                }
                Path dir = base.resolve("retrain").resolve(c.id());
                TrainConfig tc = TrainConfig.builder().steps(steps).batchSize(batchSize).seqLen(train.seqLen()).lr(lr)
                        .minLr(lr / 10).warmupSteps(Math.min(Math.max(1, steps / 10), steps)).evalEvery(per)
                        .evalBatches(valBatches).checkpointEvery(per).seed(seed).build();
                PrunePlan plan = planFor(c);
                Pruner.Pruned p = Pruner.apply(parent, weights, Pruner.select(parent, plan, scores), plan);
                List<Distiller.Validation> validations;
                String diverged = null;
                try (Weights student = p.weights()) {
                    Distiller d = new Distiller(parent, weights, p.config(), distill);
                    validations = d.run(student, tc, train, val, dir, new TrainLoop.Listener() {
                        @Override
                        public void onStep(TrainLoop.StepMetrics m) {
                            listener.onRetrainStep(c, m.step(), steps);
                        }
                    });
                } catch (Distiller.Diverged e) {
                    // The loss diverged (NaN gradient norm): the stages validated before still count.
                    validations = e.validations();
                    diverged = e.getMessage();
                }
                for (Distiller.Validation v : validations) {
                    if (v.step() % per == 0) {
                        mine.put((int) (v.step() / per), new double[] {finite(v.valLoss()), finite(v.klToTeacher())});
                    }
                }
                if (diverged != null) {
                    // The candidate is ranked last at every stage it did not reach (+inf), recorded, and the
                    // search goes on.
                    for (int s = 1; s <= stages; s++) {
                        mine.putIfAbsent(s, new double[] {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY});
                    }
                }
                store.writeRetraining(SearchTables.retraining(top, zero, log, List.of(), stages,
                        tokensPerRetrainStage()));
                if (diverged != null) {
                    listener.onDiverged(c, diverged);
                }
                if (mine.size() < stages) {
                    throw new IllegalStateException(dir + ": retraining ended without a validation at every stage");
                }
            }
            return log;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a retraining directory: " + e.getMessage(), e);
        } finally {
            if (temp) {
                deleteTree(base);
            }
        }
    }


    /** A NaN score (a diverged validation) ranks last. */
    private static double finite(double v) {
        return Double.isNaN(v) ? Double.POSITIVE_INFINITY : v;
    }

    /** Best effort: a temporary directory. */
    private static void deleteTree(Path p) {
        try {
            FileTrees.delete(p);
        } catch (IOException e) {
            // left for the OS's temporary-file cleanup
        }
    }
}
