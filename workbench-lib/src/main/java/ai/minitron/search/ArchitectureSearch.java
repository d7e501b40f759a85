package ai.minitron.search;

import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.distill.Distiller;
import ai.minitron.model.Provenance;
import ai.minitron.stats.RankAgreement;
import ai.minitron.io.AtomicFiles;
import ai.minitron.model.Weights;
import ai.minitron.prune.PrunePlan;
import ai.minitron.prune.Pruner;
import ai.minitron.prune.UnitScores;
import ai.minitron.stats.ArrowIo;
import ai.minitron.train.BatchSource;
import ai.minitron.train.TrainConfig;
import ai.minitron.train.TrainLoop;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
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
 * With {@link #out} set, the search is checkpointed and resumable: {@code candidates.arrow} is
 * rewritten (atomically) after every scored candidate and {@code retrain.arrow} after every stage, so
 * a crashed search resumes without scoring a candidate twice; retraining resumes inside a candidate
 * from its {@link TrainLoop} checkpoint. A directory holding a search with other settings is refused.
 */
public final class ArchitectureSearch {
    /** The ranking metric; lower is better for both. */
    public enum Metric {
        /** Mean next-token cross-entropy of the candidate on the validation tokens. */
        VAL_LOSS,
        /** Mean KL(teacher ‖ candidate) at τ = 1 on the validation tokens. */
        KL
    }

    /** Progress callbacks (all optional). */
    public interface Progress {
        /** After candidate {@code index} (0-based) of {@code total} is scored ({@code resumed}: taken from disk). */
        default void onCandidate(int index, int total, Candidate c, boolean resumed) {}

        /** After a retraining step of candidate {@code c}. */
        default void onRetrainStep(Candidate c, long step, long steps) {}

        /** Retraining of {@code c} diverged; it is ranked last (+inf) at the stages it did not reach. */
        default void onDiverged(Candidate c, String why) {}
    }

    public static final String CANDIDATES_FILE = "candidates.arrow";
    public static final String RETRAIN_FILE = "retrain.arrow";
    public static final String SUMMARY_FILE = "search.json";
    private static final String SETTINGS_KEY = "search_settings";

    private final ModelConfig parent;
    private final Weights weights;
    private UnitScores scores;
    private SearchSpace space;
    private Long budget;
    private double tolerance = 0.05;
    private Metric metric = Metric.VAL_LOSS;
    private PrunePlan.Depth depth = PrunePlan.Depth.LOWEST;
    private boolean headResidual;
    private BatchSource val;
    private int valBatches = 4;
    private int batchSize = 8;
    private int topK;
    private int stages = 1;
    private long tokensPerStage;
    private BatchSource train;
    private double lr = 1e-3;
    private long seed;
    private Distiller.Options distill = Distiller.Options.forwardKl();
    private Path out;
    private Progress progress = new Progress() {};

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

    public ArchitectureSearch metric(Metric m) {
        this.metric = m;
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

    public ArchitectureSearch progress(Progress p) {
        this.progress = p;
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
        if (out != null) {
            try {
                Files.createDirectories(out);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create " + out + ": " + e.getMessage(), e);
            }
        }
        String settings = settings();
        Map<String, double[]> done = resumeCandidates(settings);
        long parentParams = ParamCount.of(parent).total();
        for (int i = 0; i < cands.size(); i++) {
            Candidate c = cands.get(i);
            boolean resumed = done.containsKey(c.id());
            if (!resumed) {
                done.put(c.id(), score(c));
                if (out != null) {
                    ArrowIo.write(candidateTable(cands, done, parentParams), out.resolve(CANDIDATES_FILE),
                            Map.of(SETTINGS_KEY, settings));
                }
            }
            progress.onCandidate(i, cands.size(), c, resumed);
        }
        List<Candidate> ranked = rank(cands, done);
        Table table = withRanks(candidateTable(cands, done, parentParams), ranked);
        if (out != null) {
            ArrowIo.write(table, out.resolve(CANDIDATES_FILE), Map.of(SETTINGS_KEY, settings));
        }
        List<SearchResult.Ranking> rankings = new ArrayList<>();
        rankings.add(ranking(0, 0, ranked, done));
        Table retrainTable = retrainTable(List.of());
        double[] tau = new double[0];
        Candidate best = ranked.get(0);
        int k = Math.min(topK, ranked.size());
        if (k > 0) {
            List<Candidate> top = ranked.subList(0, k);
            Map<String, Map<Integer, double[]>> log = retrainTop(top, done, settings);
            List<double[]> rowsOut = new ArrayList<>();
            tau = new double[stages];
            List<Candidate> prev = top;
            Map<String, double[]> prevScores = done;
            for (int s = 1; s <= stages; s++) {
                final int stage = s;
                Map<String, double[]> at = new LinkedHashMap<>();
                for (Candidate c : top) {
                    at.put(c.id(), log.get(c.id()).get(stage));
                }
                List<Candidate> now = rank(top, at);
                rankings.add(ranking(s, s * stepsPerStage() * tokensPerStep(), now, at));
                double[] a = new double[k];
                double[] b = new double[k];
                for (int j = 0; j < k; j++) {
                    a[j] = metricOf(prevScores.get(top.get(j).id()));
                    b[j] = metricOf(at.get(top.get(j).id()));
                }
                tau[s - 1] = k < 2 ? Double.NaN : RankAgreement.kendallTauB(a, b);
                prev = now;
                prevScores = at;
            }
            best = prev.get(0);
            retrainTable = retrainTableFrom(top, done, log, rankings);
        }
        SearchResult r = new SearchResult(table, retrainTable, rankings, tau, best);
        if (out != null) {
            ArrowIo.write(retrainTable, out.resolve(RETRAIN_FILE), Map.of(SETTINGS_KEY, retrainSettings(settings)));
            writeSummary(r, cands.size(), settings);
        }
        return r;
    }

    /** Prunes one candidate from the parent and scores it on the validation tokens: {val_loss, kl}. */
    double[] score(Candidate c) {
        PrunePlan plan = planFor(c);
        Pruner.Pruned p = Pruner.apply(parent, weights, Pruner.select(parent, plan, scores), plan);
        try (Weights w = p.weights()) {
            Distiller.Validation v = new Distiller(parent, weights, p.config(), distill).validate(w, val, valBatches,
                    batchSize, 0, 0);
            return new double[] {v.valLoss(), v.klToTeacher()};
        }
    }

    private double metricOf(double[] s) {
        return metric == Metric.VAL_LOSS ? s[0] : s[1];
    }

    /** Best first: lower metric, then more parameters, then id. */
    private List<Candidate> rank(List<Candidate> cands, Map<String, double[]> s) {
        return cands.stream().sorted(Comparator.comparingDouble((Candidate c) -> metricOf(s.get(c.id())))
                .thenComparing(Comparator.comparingLong(Candidate::params).reversed()).thenComparing(Candidate::id))
                .toList();
    }

    private SearchResult.Ranking ranking(int stage, long tokens, List<Candidate> ordered, Map<String, double[]> s) {
        return new SearchResult.Ranking(stage, tokens, ordered.stream().map(Candidate::id).toList(),
                ordered.stream().mapToDouble(c -> metricOf(s.get(c.id()))).toArray());
    }

    // ---------------------------------------------------------------- retraining

    private long tokensPerStep() {
        return (long) batchSize * train.seqLen();
    }

    private int stepsPerStage() {
        return (int) Math.max(1, tokensPerStage / tokensPerStep());
    }

    /** candidate id -> stage -> {val_loss, kl}, for stages 1..S; resumes from retrain.arrow and checkpoints. */
    private Map<String, Map<Integer, double[]>> retrainTop(List<Candidate> top, Map<String, double[]> zero,
            String settings) {
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
            Map<String, Map<Integer, double[]>> log = resumeRetraining(base, retrainSettings(settings));
            int per = stepsPerStage();
            int steps = per * stages;
            for (Candidate c : top) {
                Map<Integer, double[]> mine = log.computeIfAbsent(c.id(), x -> new LinkedHashMap<>());
                if (mine.size() >= stages) {
                    continue;
                }
                Path dir = base.resolve("retrain").resolve(c.id());
                TrainConfig tc = new TrainConfig(steps, batchSize, train.seqLen(), 1, lr, lr / 10, Math.min(
                        Math.max(1, steps / 10), steps), 0.0, 0.9, 0.95, 1e-8, 1.0, per, valBatches, per, seed);
                PrunePlan plan = planFor(c);
                Pruner.Pruned p = Pruner.apply(parent, weights, Pruner.select(parent, plan, scores), plan);
                final Path logBase = base;
                try (Weights student = p.weights()) {
                    Distiller d = new Distiller(parent, weights, p.config(), distill);
                    try {
                        d.run(student, tc, train, val, dir, new TrainLoop.Listener() {
                            @Override
                            public void onStep(TrainLoop.StepMetrics m) {
                                progress.onRetrainStep(c, m.step(), steps);
                                if (!Double.isNaN(m.valLoss()) && m.step() % per == 0) {
                                    Table dm = ArrowIo.read(dir.resolve("distill_metrics.arrow"));
                                    int last = dm.rowCount() - 1;
                                    mine.put((int) (m.step() / per), new double[] {
                                        finite(dm.doubleColumn("val_loss").getDouble(last)),
                                        finite(dm.doubleColumn("kl_to_teacher").getDouble(last))});
                                    ArrowIo.write(retrainTableFrom(top, zero, log, List.of()), logBase.resolve(RETRAIN_FILE),
                                            Map.of(SETTINGS_KEY, retrainSettings(settings)));
                                }
                            }
                        });
                    } catch (ArithmeticException diverged) {
                        // The loss diverged (NaN gradient norm): the candidate is ranked last at every stage it
                        // did not reach (+inf), recorded, and the search goes on.
                        for (int s = 1; s <= stages; s++) {
                            mine.putIfAbsent(s, new double[] {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY});
                        }
                        ArrowIo.write(retrainTableFrom(top, zero, log, List.of()), logBase.resolve(RETRAIN_FILE),
                                Map.of(SETTINGS_KEY, retrainSettings(settings)));
                        progress.onDiverged(c, diverged.getMessage());
                    }
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

    // ---------------------------------------------------------------- tables

    private static Table candidateTable(List<Candidate> cands, Map<String, double[]> s, long parentParams) {
        StringColumn id = StringColumn.create("candidate");
        IntColumn h = IntColumn.create("hidden_size");
        IntColumn a = IntColumn.create("num_attention_heads");
        IntColumn kv = IntColumn.create("num_key_value_heads");
        IntColumn q = IntColumn.create("heads_per_group");
        IntColumn m = IntColumn.create("intermediate_size");
        IntColumn l = IntColumn.create("num_hidden_layers");
        LongColumn p = LongColumn.create("params");
        DoubleColumn frac = DoubleColumn.create("params_fraction");
        DoubleColumn loss = DoubleColumn.create("val_loss");
        DoubleColumn kl = DoubleColumn.create("kl_to_teacher");
        for (Candidate c : cands) {
            id.append(c.id());
            h.append(c.hiddenSize());
            a.append(c.numAttentionHeads());
            kv.append(c.kvGroups());
            q.append(c.headsPerGroup());
            m.append(c.mlpSize());
            l.append(c.numLayers());
            p.append(c.params());
            frac.append((double) c.params() / parentParams);
            double[] v = s.get(c.id());
            loss.append(v == null ? Double.NaN : v[0]);
            kl.append(v == null ? Double.NaN : v[1]);
        }
        return Table.create("candidates", id, h, a, kv, q, m, l, p, frac, loss, kl);
    }

    /** Adds the zero_shot_rank column (1 = best). */
    private static Table withRanks(Table t, List<Candidate> ranked) {
        Map<String, Integer> r = new LinkedHashMap<>();
        for (int i = 0; i < ranked.size(); i++) {
            r.put(ranked.get(i).id(), i + 1);
        }
        IntColumn col = IntColumn.create("zero_shot_rank");
        for (String id : t.stringColumn("candidate")) {
            col.append(r.get(id));
        }
        return t.addColumns(col);
    }

    private static Table retrainTable(List<Object[]> rows) {
        Table t = Table.create("retrain", StringColumn.create("candidate"), IntColumn.create("stage"),
                LongColumn.create("tokens"), DoubleColumn.create("val_loss"), DoubleColumn.create("kl_to_teacher"),
                IntColumn.create("rank"));
        for (Object[] r : rows) {
            t.stringColumn(0).append((String) r[0]);
            t.intColumn(1).append((Integer) r[1]);
            t.longColumn(2).append((Long) r[2]);
            t.doubleColumn(3).append((Double) r[3]);
            t.doubleColumn(4).append((Double) r[4]);
            t.intColumn(5).append((Integer) r[5]);
        }
        return t;
    }

    private Table retrainTableFrom(List<Candidate> top, Map<String, double[]> zero, Map<String, Map<Integer, double[]>> log,
            List<SearchResult.Ranking> rankings) {
        List<Object[]> rows = new ArrayList<>();
        for (Candidate c : top) {
            for (int s = 0; s <= stages; s++) {
                double[] v = s == 0 ? zero.get(c.id()) : log.getOrDefault(c.id(), Map.of()).get(s);
                if (v == null) {
                    continue;
                }
                int rank = Integer.MIN_VALUE; // missing until the stage is ranked
                if (s < rankings.size()) {
                    List<String> ids = rankings.get(s).ids();
                    rank = s == 0 ? rankAmong(top, ids, c.id()) : ids.indexOf(c.id()) + 1;
                }
                rows.add(new Object[] {c.id(), s, (long) s * stepsPerStage() * tokensPerStep(), v[0], v[1], rank});
            }
        }
        return retrainTable(rows);
    }

    /** 1-based rank of {@code id} among the top-K in an ordering of all candidates. */
    private static int rankAmong(List<Candidate> top, List<String> ordered, String id) {
        java.util.Set<String> k = new java.util.HashSet<>();
        top.forEach(c -> k.add(c.id()));
        int r = 0;
        for (String x : ordered) {
            if (k.contains(x)) {
                r++;
                if (x.equals(id)) {
                    return r;
                }
            }
        }
        return Integer.MIN_VALUE;
    }

    // ---------------------------------------------------------------- resume

    /** Everything that determines the zero-shot scores, hashed: a resumed search must match it exactly. */
    String settings() {
        JsonObject o = new JsonObject();
        o.addProperty("parent_config", parent.toJsonString());
        o.addProperty("parent_weights_sha256", Provenance.weightsHash(weights));
        o.addProperty("importance", scores.runId());
        o.add("space", space.toJson());
        o.addProperty("budget", budget);
        o.addProperty("tolerance", tolerance);
        o.addProperty("metric", metric.name());
        o.addProperty("depth", depth.name());
        o.addProperty("head_residual", headResidual);
        o.addProperty("validation_batches", valBatches);
        o.addProperty("batch_size", batchSize);
        o.addProperty("validation_sha256", validationHash());
        o.addProperty("distillation", distill.toString());
        return sha256(o.toString());
    }

    private String retrainSettings(String settings) {
        return sha256(settings + "|topk=" + topK + "|stages=" + stages + "|tokens=" + tokensPerStage + "|lr=" + lr
                + "|seed=" + seed + "|train=" + (train == null ? "-" : train.seqLen() + "/" + train.size()));
    }

    private String validationHash() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < valBatches; i++) {
            for (long[] row : val.batch(i, batchSize)) {
                b.append(java.util.Arrays.toString(row)).append('\n');
            }
        }
        return sha256(b.toString());
    }

    private Map<String, double[]> resumeCandidates(String settings) {
        Map<String, double[]> done = new LinkedHashMap<>();
        if (out == null) {
            return done;
        }
        Path f = out.resolve(CANDIDATES_FILE);
        if (!Files.isRegularFile(f)) {
            return done;
        }
        checkSettings(f, settings);
        Table t = ArrowIo.read(f);
        for (int i = 0; i < t.rowCount(); i++) {
            double loss = t.doubleColumn("val_loss").getDouble(i);
            if (!Double.isNaN(loss)) {
                done.put(t.stringColumn("candidate").get(i), new double[] {loss, t.doubleColumn("kl_to_teacher").getDouble(i)});
            }
        }
        return done;
    }

    private Map<String, Map<Integer, double[]>> resumeRetraining(Path base, String settings) {
        Map<String, Map<Integer, double[]>> log = new LinkedHashMap<>();
        Path f = base.resolve(RETRAIN_FILE);
        if (!Files.isRegularFile(f)) {
            return log;
        }
        checkSettings(f, settings);
        Table t = ArrowIo.read(f);
        for (int i = 0; i < t.rowCount(); i++) {
            int s = t.intColumn("stage").getInt(i);
            if (s > 0) {
                log.computeIfAbsent(t.stringColumn("candidate").get(i), x -> new LinkedHashMap<>()).put(s, new double[] {
                        t.doubleColumn("val_loss").getDouble(i), t.doubleColumn("kl_to_teacher").getDouble(i)});
            }
        }
        return log;
    }

    private static void checkSettings(Path f, String settings) {
        String saved = ArrowIo.metadata(f).get(SETTINGS_KEY);
        if (!settings.equals(saved)) {
            throw new IllegalArgumentException(f + ": this directory holds a search with other settings (model, importance,"
                    + " space, budget, metric, validation or retraining differ); use a new output directory");
        }
    }

    private void writeSummary(SearchResult r, int n, String settings) {
        JsonObject o = new JsonObject();
        o.addProperty("parent_params", ParamCount.of(parent).total());
        o.addProperty("budget", budget);
        o.addProperty("tolerance", tolerance);
        o.addProperty("metric", metric.name().toLowerCase(Locale.ROOT));
        o.addProperty("depth", depth.name());
        o.addProperty("head_residual", headResidual);
        o.addProperty("importance", scores.runId());
        o.add("space", space.toJson());
        o.addProperty("candidates", n);
        o.addProperty("validation_batches", valBatches);
        o.addProperty("batch_size", batchSize);
        o.addProperty("validation_tokens", (long) valBatches * batchSize * val.seqLen());
        JsonObject rt = new JsonObject();
        rt.addProperty("top_k", Math.min(topK, n));
        rt.addProperty("stages", topK > 0 ? stages : 0);
        rt.addProperty("tokens_per_stage", topK > 0 ? stepsPerStage() * tokensPerStep() : 0);
        rt.addProperty("learning_rate", lr);
        rt.addProperty("seed", seed);
        o.add("retraining", rt);
        JsonArray rs = new JsonArray();
        for (SearchResult.Ranking k : r.rankings()) {
            JsonObject x = new JsonObject();
            x.addProperty("stage", k.stage());
            x.addProperty("tokens", k.tokens());
            JsonArray ids = new JsonArray();
            k.ids().forEach(ids::add);
            x.add("ranking", ids);
            rs.add(x);
        }
        o.add("rankings", rs);
        JsonArray tau = new JsonArray();
        for (double t : r.tau()) {
            tau.add(Double.isNaN(t) ? null : t);
        }
        o.add("kendall_tau", tau);
        JsonObject best = new JsonObject();
        Candidate b = r.best();
        best.addProperty("id", b.id());
        best.addProperty("hidden_size", b.hiddenSize());
        best.addProperty("num_attention_heads", b.numAttentionHeads());
        best.addProperty("num_key_value_heads", b.kvGroups());
        best.addProperty("intermediate_size", b.mlpSize());
        best.addProperty("num_hidden_layers", b.numLayers());
        best.addProperty("params", b.params());
        best.add("plan", new GsonBuilder().create().toJsonTree(planFor(b)));
        o.add("chosen", best);
        o.addProperty("settings_sha256", settings);
        try {
            AtomicFiles.writeString(out.resolve(SUMMARY_FILE), new GsonBuilder().setPrettyPrinting().serializeNulls()
                    .create().toJson(o) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out.resolve(SUMMARY_FILE) + ": " + e.getMessage(), e);
        }
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path p) {
        try (var s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
        } catch (IOException e) {
            // best effort: a temporary directory
        }
    }
}
