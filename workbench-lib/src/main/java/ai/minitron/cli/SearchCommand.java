package ai.minitron.cli;

import ai.djl.ndarray.NDManager;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.data.Corpus;
import ai.minitron.data.TokenDataset;
import ai.minitron.io.OutputDir;
import ai.minitron.io.OutputLock;
import ai.minitron.io.TensorDType;
import ai.minitron.model.Provenance;
import ai.minitron.model.LanguageModel;
import ai.minitron.config.Axis;
import ai.minitron.prune.KeepSet;
import ai.minitron.prune.PrunePlan;
import ai.minitron.prune.Pruner;
import ai.minitron.prune.PruningRecord;
import ai.minitron.prune.UnitScores;
import ai.minitron.search.ArchitectureSearch;
import ai.minitron.search.Candidate;
import ai.minitron.search.RankBy;
import ai.minitron.search.SearchListener;
import ai.minitron.search.SearchResult;
import ai.minitron.search.SearchSpace;
import ai.minitron.tokenize.Tokenizer;
import ai.minitron.train.DatasetBatches;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import ai.minitron.cluster.Cluster;
import ai.minitron.cluster.ModelRef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import tech.tablesaw.api.Table;

/**
 * {@code minitron search}: step (3) of Minitron. Enumerates every architecture within a parameter
 * budget, prunes each by importance, ranks them zero-shot on fixed validation tokens, optionally
 * retrains the top K with distillation stages (re-ranking after each, Kendall τ between rankings),
 * and writes candidates.arrow, retrain.arrow and search.json into OUT (resumable).
 */
@Command(name = "search", description = "Architecture search under a parameter budget: enumerate, prune, rank, retrain the top K (Minitron step 3).")
final class SearchCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Parent checkpoint directory.")
    Path model;

    @Option(names = "--importance", required = true, description = "Importance run directory of --model.")
    Path importance;

    @Option(names = "--params", required = true, description = "Parameter budget: 3800000, 3.8M or 50%% of the parent.")
    String params;

    @Option(names = "--tolerance", defaultValue = "0.05", description = "Budget tolerance as a fraction (default ${DEFAULT-VALUE}).")
    double tolerance;

    @Option(names = "--out", required = true, description = "Output directory (a crashed search resumes from it).")
    Path out;

    // ---- space
    @Option(names = "--hidden-step", description = "Hidden sizes are multiples of this (default: a power of two near hidden/8).")
    Integer hiddenStep;

    @Option(names = "--mlp-step", description = "MLP sizes are multiples of this (default: a power of two near MLP/8).")
    Integer mlpStep;

    @Option(names = "--max-prune", defaultValue = "0.5", description = "Largest fraction pruned from hidden, heads, MLP and layers (default ${DEFAULT-VALUE}).")
    double maxPrune;

    @Option(names = "--max-prune-kv", defaultValue = "0", description = "Largest fraction of KV groups pruned (default ${DEFAULT-VALUE}: keep all).")
    double maxPruneKv;

    @Option(names = "--max-prune-layers", description = "Largest fraction of layers pruned (default: --max-prune).")
    Double maxPruneLayers;

    @Option(names = "--hidden", split = ",", description = "Explicit hidden sizes (overrides step and fraction).") int[] hiddenValues;
    @Option(names = "--heads", split = ",", description = "Explicit query head counts.") int[] headValues;
    @Option(names = "--kv-groups", split = ",", description = "Explicit KV group counts.") int[] kvValues;
    @Option(names = "--mlp", split = ",", description = "Explicit MLP sizes.") int[] mlpValues;
    @Option(names = "--layers", split = ",", description = "Explicit layer counts.") int[] layerValues;

    @Option(names = "--depth", defaultValue = "LOWEST", description = "How layers are dropped: LOWEST or CONTIGUOUS (default ${DEFAULT-VALUE}).")
    PrunePlan.Depth depth;

    @Option(names = "--head-residual", description = "EXPERIMENTAL: prune heads with the pruned-head residual.")
    boolean headResidual;

    // ---- importance view (as prune)
    @Option(names = "--metric", defaultValue = "activation", description = "Width importance metric (default ${DEFAULT-VALUE}).")
    String widthMetric;
    @Option(names = "--batch-agg", defaultValue = "l2") String batchAgg;
    @Option(names = "--seq-agg", defaultValue = "mean") String seqAgg;
    @Option(names = "--depth-metric", defaultValue = "block_importance") String depthMetric;

    // ---- ranking
    @Option(names = "--rank-by", defaultValue = "loss", description = "Ranking metric: loss (zero-shot validation loss) or kl (KL to the parent) (default ${DEFAULT-VALUE}).")
    String rankBy;

    @Option(names = "--val", defaultValue = "validation", description = "Validation split (file or split name, default ${DEFAULT-VALUE}).")
    String val;

    @Option(names = "--validation-tokens", defaultValue = "8192", description = "Validation tokens every candidate is scored on (default ${DEFAULT-VALUE}).")
    long validationTokens;

    @Option(names = "--seq-len", defaultValue = "128") int seqLen;
    @Option(names = "--batch-size", defaultValue = "8") int batchSize;

    // ---- retraining
    @Option(names = "--top-k", defaultValue = "0", description = "Retrain the K best zero-shot candidates by distillation (default ${DEFAULT-VALUE}: none).")
    int topK;

    @Option(names = "--stages", defaultValue = "2", description = "Retraining stages, re-ranked after each (default ${DEFAULT-VALUE}).")
    int stages;

    @Option(names = "--retrain-tokens", defaultValue = "65536", description = "Student tokens per stage (default ${DEFAULT-VALUE}).")
    long retrainTokens;

    @Option(names = "--data", defaultValue = "train", description = "Retraining split (file or split name, default ${DEFAULT-VALUE}).")
    String data;

    @Option(names = "--lr", defaultValue = "1e-3") double lr;
    @Option(names = "--seed", defaultValue = "0") long seed;

    // ---- output
    @Option(names = "--export-best", description = "Also write the chosen candidate as a pruned checkpoint to OUT/best.")
    boolean exportBest;

    @Option(names = "--list", description = "Only list the candidates within the budget (no scoring).")
    boolean list;

    @Option(names = "--save-dtype", defaultValue = "F32") TensorDType saveDtype;

    @Mixin
    OutputOptions output;

    @Mixin
    ClusterOptions cluster;

    @Override
    public Integer call() throws Exception {
        RankBy rankedBy = switch (rankBy.toLowerCase(Locale.ROOT)) {
            case "loss", "val_loss" -> RankBy.VAL_LOSS;
            case "kl" -> RankBy.KL;
            default -> throw new IllegalArgumentException("--rank-by " + rankBy + ": valid choices are loss, kl");
        };
        try (NDManager m = NDManager.newBaseManager(); LanguageModel parent = LanguageModel.load(model, m)) {
            ModelConfig pc = parent.config();
            long parentParams = ParamCount.of(pc).total();
            long budget = ParamBudget.parse(params, parentParams, "--params");
            SearchSpace space = space(pc);
            ArchitectureSearch search = ArchitectureSearch.of(pc, parent.weights()).space(space).budget(budget, tolerance)
                    .rankBy(rankedBy).depth(depth).headResidual(headResidual).learningRate(lr).seed(seed).out(out);
            List<Candidate> cands = search.candidates();
            System.err.printf("search space: %s%n%,d candidates within %,d ± %.1f%% parameters (parent %,d)%n",
                    space.describe(), cands.size(), budget, 100 * tolerance, parentParams);
            if (list) {
                for (Candidate c : cands) {
                    System.out.printf("%-26s %,12d %6.1f%%%n", c.id(), c.params(), 100.0 * c.params() / parentParams);
                }
                return 0;
            }
            String of = "model " + Provenance.checkpointHash(model);
            try (OutputLock lock = output.lockAndOpen(out, OutputKind.SEARCH, of)) {
                search(parent, search, cands, of);
            }
        }
        return 0;
    }

    private void search(LanguageModel parent, ArchitectureSearch search, List<Candidate> cands, String of)
            throws Exception {
        ModelConfig pc = parent.config();
        boolean needsDepth = cands.stream().anyMatch(c -> c.numLayers() != pc.numHiddenLayers());
        UnitScores scores = ImportanceScores.load(importance, model, widthMetric, batchAgg, seqAgg, depthMetric,
                needsDepth);
        Path tokPath = parent.tokenizerJson();
        if (tokPath == null) {
            throw new IllegalArgumentException(model + ": no tokenizer.json to encode the validation split with");
        }
        TokenDataset.checkSeqLen(seqLen, pc.maxPositionEmbeddings());
        int rows = (int) Math.max(1, (validationTokens + seqLen - 1) / seqLen);
        int batches = Math.max(1, (rows + batchSize - 1) / batchSize);
        TokenDataset valSet;
        TokenDataset trainSet = null;
        try (Tokenizer tok = Tokenizer.load(tokPath)) {
            parent.checkVocab(tok);
            valSet = TokenDataset.pack(Corpus.read(SplitOptions.resolve("--val", val)).documents(), tok, seqLen);
            if (topK > 0) {
                trainSet = TokenDataset.pack(Corpus.read(SplitOptions.resolve("--data", data)).documents(), tok, seqLen);
            }
        }
        if (valSet.size() < batches * batchSize) {
            throw new IllegalArgumentException(String.format("--validation-tokens %d needs %d samples of %d tokens, the"
                    + " validation split has %d", validationTokens, batches * batchSize, seqLen, valSet.size()));
        }
        search.importance(scores).validation(new DatasetBatches(valSet, 0, false), batches, batchSize);
        if (topK > 0) {
            search.retrain(topK, stages, retrainTokens, new DatasetBatches(trainSet, seed, true));
        }
        Cluster cl = cluster.enabled() ? cluster.open() : null;
        if (cl != null) {
            search.zeroShotScorer(cl.zeroShot(ModelRef.of(model, Provenance.checkpointHash(model))));
        }
        SearchResult r;
        long t0 = System.nanoTime();
        try (ProgressBar pb = ProgressBars.open("search", cands.size())) {
            search.listener(new SearchListener() {
                @Override
                public void onCandidate(int index, int total, Candidate c, boolean resumed) {
                    pb.stepTo(index + 1);
                    pb.setExtraMessage(" " + c.id() + (resumed ? " (resumed)" : ""));
                }

                @Override
                public void onDiverged(Candidate c, String why) {
                    System.err.printf("%nretraining %s diverged (%s): ranked last%n", c.id(), why);
                }

                @Override
                public void onRetrainStep(Candidate c, long step, long steps) {
                    pb.setExtraMessage(String.format(" retraining %s: step %d/%d", c.id(), step, steps));
                }
            });
            r = search.run();
        } finally {
            if (cl != null) {
                cl.close();
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        Table top = r.top(Math.min(10, cands.size()));
        System.out.println(top.selectColumns("zero_shot_rank", "candidate", "params", "params_fraction", "val_loss",
                "kl_to_teacher").print());
        for (int s = 0; s < r.tau().length; s++) {
            System.out.printf(Locale.ROOT, "Kendall tau (top %d) between stage %d and stage %d: %.4f%n",
                    r.last().ids().size(), s, s + 1, r.tau()[s]);
        }
        System.out.printf(Locale.ROOT, "chosen: %s%n%d candidates in %.1f s; tables and search.json in %s%n", r.best(),
                cands.size(), secs, out);
        if (exportBest) {
            PrunePlan plan = search.planFor(r.best());
            KeepSet keep = Pruner.select(pc, plan, scores);
            Pruner.Pruned p = Pruner.apply(pc, parent.weights(), keep, plan);
            Path dir = out.resolve("best");
            String runId = scores.runId();
            OutputDir.replace(dir, OutputKind.SEARCH_EXPORT.key, of, tmp -> {
                new LanguageModel(p.config(), p.weights(), tokPath, saveDtype).save(tmp, saveDtype);
                PruningRecord.write(tmp, pc, p.config(), plan, keep, runId, model.toString());
                Cards.pruned(tmp, model, pc, p.config(), plan, runId, importance);
            });
            p.weights().close();
            System.out.println("best candidate exported to " + dir);
        }
        OutputDir.complete(out, OutputKind.SEARCH.key, of);
    }

    private SearchSpace space(ModelConfig pc) {
        SearchSpace s = SearchSpace.of(pc).withMaxPrune(maxPrune).withMaxPrune(Axis.KV_GROUPS, maxPruneKv);
        if (maxPruneLayers != null) {
            s = s.withMaxPrune(Axis.LAYERS, maxPruneLayers);
        }
        if (hiddenStep != null) {
            s = s.withStep(Axis.HIDDEN, hiddenStep);
        }
        if (mlpStep != null) {
            s = s.withStep(Axis.MLP, mlpStep);
        }
        if (hiddenValues != null) {
            s = s.withValues(Axis.HIDDEN, hiddenValues);
        }
        if (kvValues != null) {
            s = s.withValues(Axis.KV_GROUPS, kvValues);
        }
        if (headValues != null) {
            s = s.withValues(Axis.HEADS, headValues);
        }
        if (mlpValues != null) {
            s = s.withValues(Axis.MLP, mlpValues);
        }
        if (layerValues != null) {
            s = s.withValues(Axis.LAYERS, layerValues);
        }
        return s;
    }
}
