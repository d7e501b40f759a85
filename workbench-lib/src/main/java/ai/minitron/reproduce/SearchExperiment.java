package ai.minitron.reproduce;

import ai.minitron.config.ModelConfig;
import ai.minitron.importance.ImportanceTable;
import ai.minitron.importance.Metric;
import ai.minitron.progress.Progress;
import ai.minitron.stats.RankAgreement;
import ai.minitron.prune.UnitScores;
import ai.minitron.search.ArchitectureSearch;
import ai.minitron.search.Candidate;
import ai.minitron.search.SearchListener;
import ai.minitron.search.SearchResult;
import ai.minitron.search.SearchSpace;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Experiment 6 (2407.14679 §2.3 and Fig. 9): the library's {@link ArchitectureSearch} enumerates every
 * shape of the default {@link SearchSpace} (each axis pruned by at most half, GQA-valid heads) whose exact
 * parameter count is within {@value #TOLERANCE} of the depth target's, prunes each from the teacher by
 * activation importance and ranks them zero-shot; the best {@link ComputeBudget#searchTopK()} are distilled
 * lightly with the same tokens and re-ranked at every validation stage. Kendall τ between each stage's
 * ranking and the final one shows when rankings stabilise. The search's own tables (candidates.arrow,
 * retrain.arrow, search.json) are kept under the seed's runs/search ({@link Lab#runDir}), and a crashed run resumes there.
 */
public final class SearchExperiment implements Experiment {
    static final double TOLERANCE = 0.05;
    /**
     * The tie margin on a difference of Kendall τ: 0.1, half of what one swapped pair changes τ by among the
     * full budget's 5 retrained candidates (2 / C(5, 2) = 0.2). A smaller difference is not a change of ranking.
     */
    static final double TIE_TAU = 0.1;

    @Override
    public int number() {
        return 6;
    }

    @Override
    public String name() {
        return "search";
    }

    @Override
    public String finding() {
        return "Architecture search needs retraining";
    }

    @Override
    public String paperClaim() {
        return "zero-shot rankings of candidates are unreliable; after light distillation the ranking stabilises"
                + " (Kendall tau to the final ranking rises) (2407.14679 Fig. 9)";
    }

    @Override
    public String statistic() {
        return "d = Kendall tau(zero-shot ranking, final ranking) - Kendall tau(ranking one stage before the end,"
                + " final ranking) of the distilled candidates (negative: the zero-shot ranking agrees less with the"
                + " final one than the late ranking does)";
    }

    @Override
    public double tie() {
        return TIE_TAU;
    }

    @Override
    public String unit() {
        return "(Kendall tau)";
    }

    @Override
    public Trial trial(Lab lab) {
        ImportanceTable imp = lab.importance();
        UnitScores s = UnitScores.of(imp.where(Metric.ACTIVATION.key(), "l2", "mean"),
                Depth.layerScores(imp, Metric.BLOCK_IMPORTANCE.key()));
        ComputeBudget b = lab.budget();
        ModelConfig t = lab.teacherConfig();
        Progress bar = lab.progress();
        SearchResult r = ArchitectureSearch.of(t, lab.teacherWeights()).importance(s).space(SearchSpace.of(t))
                .budget(new Shapes(t).depthTargetParams(), TOLERANCE)
                .validation(lab.validationBatches(), lab.validationBatchCount(), b.batchSize())
                .retrain(b.searchTopK(), b.searchStages(), Math.max(1, b.searchTokens() / b.searchStages()),
                        lab.trainBatches())
                .learningRate(b.lr()).distillation(StandardRuns.forwardKl()).seed(lab.seed())
                .out(lab.runDir("search"))
                .listener(new SearchListener() {
                    @Override
                    public void onCandidate(int index, int total, Candidate c, boolean resumed) {
                        bar.update("search: zero-shot", index + 1, total);
                    }

                    @Override
                    public void onRetrainStep(Candidate c, long step, long steps) {
                        bar.update("search: distil " + c.id(), step, steps);
                    }
                }).run();
        Map<String, Long> params = new LinkedHashMap<>();
        Table cands = r.candidates();
        for (int i = 0; i < cands.rowCount(); i++) {
            params.put(cands.stringColumn("candidate").get(i), cands.longColumn("params").get(i));
        }
        double[] tau = taus(r.retraining());
        Map<String, Double> reported = new LinkedHashMap<>();
        reported.put("tau(zero-shot, final)", tau[0]);
        if (tau.length >= 3) {
            reported.put("tau(stage " + (tau.length - 2) + ", final)", tau[tau.length - 2]);
        }
        // With fewer than 3 stages there is no ranking between zero-shot and final to compare: undecided.
        double d = tau.length >= 3 ? tau[0] - tau[tau.length - 2] : Double.NaN;
        return new Trial(outcome(r.retraining(), params), Map.of("tau(zero-shot) - tau(late stage)", d), reported);
    }

    /** Kendall τ-b of each stage's ranking (stage 0 = zero-shot) against the final one, from a retraining table. */
    static double[] taus(Table retraining) {
        List<String> ids = new ArrayList<>(new LinkedHashSet<>(retraining.stringColumn("candidate").asList()));
        int stages = 1 + retraining.intColumn("stage").asList().stream().mapToInt(Integer::intValue).max().orElse(0);
        double[][] loss = new double[stages][ids.size()];
        for (int i = 0; i < retraining.rowCount(); i++) {
            loss[retraining.intColumn("stage").get(i)][ids.indexOf(retraining.stringColumn("candidate").get(i))] =
                    retraining.doubleColumn("val_loss").get(i);
        }
        double[] tau = new double[stages];
        for (int st = 0; st < stages; st++) {
            tau[st] = RankAgreement.kendallTauB(loss[st], loss[stages - 1]);
        }
        return tau;
    }

    /**
     * The verdict from the search's retraining table (candidate, stage 0 = zero-shot .. S, tokens,
     * val_loss): Kendall τ-b of every stage's ranking of the retrained candidates against the final one.
     *
     * @param params every scored candidate's exact parameter count (the retrained ones among them)
     */
    static Outcome outcome(Table retraining, Map<String, Long> params) {
        List<String> ids = new ArrayList<>(new LinkedHashSet<>(retraining.stringColumn("candidate").asList()));
        int stages = 1 + retraining.intColumn("stage").asList().stream().mapToInt(Integer::intValue).max().orElse(0);
        double[][] loss = new double[stages][ids.size()];
        long[] tokensAt = new long[stages];
        for (int i = 0; i < retraining.rowCount(); i++) {
            int st = retraining.intColumn("stage").get(i);
            int j = ids.indexOf(retraining.stringColumn("candidate").get(i));
            loss[st][j] = retraining.doubleColumn("val_loss").get(i);
            tokensAt[st] = retraining.longColumn("tokens").get(i);
        }
        double[] last = loss[stages - 1];
        double[] tau = new double[stages];
        for (int st = 0; st < stages; st++) {
            tau[st] = RankAgreement.kendallTauB(loss[st], last);
        }
        double tauZero = tau[0];
        double tauBeforeLast = stages >= 3 ? tau[stages - 2] : tau[0];
        boolean holds = stages >= 3 && tauBeforeLast > tauZero;
        Outcome.Rows rows = new Outcome.Rows();
        for (int j = 0; j < ids.size(); j++) {
            String id = ids.get(j);
            rows.add(id, "params", params.get(id)).add(id, "zero_shot_val_loss", loss[0][j])
                    .add(id, "distilled_val_loss", last[j]);
        }
        for (int st = 0; st < stages; st++) {
            rows.add("stage " + st + " (" + tokensAt[st] + " tokens)", "kendall_tau_to_final", tau[st]);
        }
        StringColumn cand = StringColumn.create("candidate");
        IntColumn stage = IntColumn.create("stage");
        LongColumn tokens = LongColumn.create("tokens");
        DoubleColumn vl = DoubleColumn.create("val_loss");
        IntColumn rank = IntColumn.create("rank");
        DoubleColumn tauCol = DoubleColumn.create("kendall_tau_to_final");
        for (int st = 0; st < stages; st++) {
            int[] order = RankAgreement.rank(negate(loss[st]));
            for (int j = 0; j < ids.size(); j++) {
                cand.append(ids.get(j));
                stage.append(st);
                tokens.append(tokensAt[st]);
                vl.append(loss[st][j]);
                rank.append(indexOf(order, j) + 1);
                tauCol.append(tau[st]);
            }
        }
        String best0 = ids.get(RankAgreement.rank(negate(loss[0]))[0]);
        String bestN = ids.get(RankAgreement.rank(negate(last))[0]);
        StringBuilder taus = new StringBuilder();
        for (double t : tau) {
            taus.append(String.format(Locale.ROOT, "%.2f ", t));
        }
        String m = String.format(Locale.ROOT, "%d candidates within %.0f%% of the budget, top %d distilled; Kendall tau"
                + " to the final ranking by stage: %s; best zero-shot %s, best after distillation %s", params.size(),
                100 * TOLERANCE, ids.size(), taus.toString().trim(), best0, bestN);
        return new Outcome(rows.list(), Table.create("search", cand, stage, tokens, vl, rank, tauCol), holds,
                "Kendall tau between the ranking one stage before the end and the final ranking is higher than"
                        + " between the zero-shot and the final ranking",
                m);
    }

    private static double[] negate(double[] v) {
        double[] o = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            o[i] = -v[i];
        }
        return o;
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        return -1;
    }
}
