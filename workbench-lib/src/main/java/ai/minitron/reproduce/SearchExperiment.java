package ai.minitron.reproduce;

import ai.minitron.config.ModelConfig;
import ai.minitron.importance.ImportanceTable;
import ai.minitron.importance.Metric;
import ai.minitron.importance.RankAgreement;
import ai.minitron.prune.PrunePlan;
import ai.minitron.prune.Pruner;
import ai.minitron.prune.UnitScores;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Experiment 6 (2407.14679 §3 and Fig. 9): candidate architectures of (nearly) equal parameter count —
 * narrower, fewer heads, fewer layers — are pruned from the teacher, ranked zero-shot, then each is
 * distilled lightly with the same tokens and re-ranked at every validation stage; Kendall τ between
 * each stage's ranking and the final one shows when rankings stabilise. The candidate list is built here
 * from {@link Shapes} and sliced by {@link Pruner} directly.
 */
public final class SearchExperiment implements Experiment {
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

    /** A candidate: its name and plan. */
    record Candidate(String id, PrunePlan plan) {}

    /** Candidates at the width target's parameter count: the width target, wider-with-smaller-MLP, fewer heads, 3/4 and 1/2 depth. */
    static List<Candidate> candidates(ModelConfig t, Shapes shapes) {
        long budget = shapes.depthTargetParams();
        int n = t.numHiddenLayers();
        int g = t.queriesPerKvHead();
        int kv = t.numKeyValueHeads();
        List<Candidate> out = new ArrayList<>();
        PrunePlan w = shapes.widthTarget();
        out.add(new Candidate(id(shapes.config(w)), w));
        int h78 = t.hiddenSize() * 7 / 8;
        out.add(plan(shapes, h78, g, kv, n, budget, PrunePlan.keepAll().withHidden(h78)));
        if (g > 1) {
            int q = Math.max(1, g / 2);
            out.add(plan(shapes, t.hiddenSize(), q, kv, n, budget, PrunePlan.keepAll().withHeadsPerGroup(q)));
        }
        int l34 = Math.max(1, n * 3 / 4);
        if (l34 != n && l34 != shapes.depthTargetLayers()) {
            out.add(plan(shapes, t.hiddenSize(), g, kv, l34, budget,
                    PrunePlan.keepAll().withLayers(l34, PrunePlan.Depth.CONTIGUOUS)));
        }
        PrunePlan depth = PrunePlan.keepAll().withLayers(shapes.depthTargetLayers(), PrunePlan.Depth.CONTIGUOUS);
        out.add(new Candidate(id(shapes.config(depth)), depth));
        return out;
    }

    private static Candidate plan(Shapes shapes, int hidden, int q, int kv, int layers, long budget, PrunePlan base) {
        int m = shapes.solveMlp(hidden, q * kv, kv, layers, budget);
        PrunePlan p = base.withMlp(m);
        return new Candidate(id(shapes.config(p)), p);
    }

    static String id(ModelConfig c) {
        return "L" + c.numHiddenLayers() + "-h" + c.hiddenSize() + "-a" + c.numAttentionHeads() + "-m"
                + c.intermediateSize();
    }

    @Override
    public Outcome run(Lab lab) {
        ImportanceTable imp = lab.importance();
        Shapes shapes = new Shapes(lab.teacherConfig());
        UnitScores s = UnitScores.of(imp.where(Metric.ACTIVATION.key(), "l2", "mean"),
                Depth.layerScores(imp, Metric.BLOCK_IMPORTANCE.key()));
        Map<String, Run> runs = new LinkedHashMap<>();
        Map<String, Long> params = new LinkedHashMap<>();
        for (Candidate c : candidates(lab.teacherConfig(), shapes)) {
            Pruner.Pruned p = lab.prune(c.plan(), s);
            params.put(c.id(), Shapes.params(p.config()));
            try (var w = p.weights()) {
                runs.put(c.id(), lab.distill("search-" + c.id(), p, lab.budget().searchTokens(),
                        StandardRuns.forwardKl(), lab.budget().searchStages(), false));
            }
        }
        return outcome(runs, params);
    }

    static Outcome outcome(Map<String, Run> runs, Map<String, Long> params) {
        List<String> ids = new ArrayList<>(runs.keySet());
        int stages = runs.values().stream().mapToInt(r -> r.curve().size()).min().orElse(0);
        double[][] loss = new double[stages][ids.size()];
        for (int j = 0; j < ids.size(); j++) {
            List<Run.Point> curve = runs.get(ids.get(j)).curve();
            for (int s = 0; s < stages; s++) {
                loss[s][j] = curve.get(s).valLoss();
            }
        }
        double[] last = loss[stages - 1];
        double[] tau = new double[stages];
        for (int s = 0; s < stages; s++) {
            tau[s] = RankAgreement.kendallTauB(loss[s], last);
        }
        double tauZero = tau[0];
        double tauBeforeLast = stages >= 3 ? tau[stages - 2] : tau[0];
        boolean holds = stages >= 3 && tauBeforeLast > tauZero;
        Outcome.Rows rows = new Outcome.Rows();
        for (String id : ids) {
            Run r = runs.get(id);
            rows.add(id, "params", params.get(id)).add(id, "zero_shot_val_loss", r.zeroShot())
                    .add(id, "distilled_val_loss", r.finalLoss());
        }
        Run any = runs.get(ids.get(0));
        for (int s = 0; s < stages; s++) {
            rows.add("stage " + s + " (" + any.curve().get(s).tokens() + " tokens)", "kendall_tau_to_final", tau[s]);
        }
        StringColumn cand = StringColumn.create("candidate");
        IntColumn stage = IntColumn.create("stage");
        LongColumn tokens = LongColumn.create("tokens");
        DoubleColumn vl = DoubleColumn.create("val_loss");
        IntColumn rank = IntColumn.create("rank");
        DoubleColumn tauCol = DoubleColumn.create("kendall_tau_to_final");
        for (int s = 0; s < stages; s++) {
            int[] order = ImportanceTable.rank(negate(loss[s]));
            for (int j = 0; j < ids.size(); j++) {
                cand.append(ids.get(j));
                stage.append(s);
                tokens.append(runs.get(ids.get(j)).curve().get(s).tokens());
                vl.append(loss[s][j]);
                rank.append(indexOf(order, j) + 1);
                tauCol.append(tau[s]);
            }
        }
        String best0 = ids.get(ImportanceTable.rank(negate(loss[0]))[0]);
        String bestN = ids.get(ImportanceTable.rank(negate(last))[0]);
        StringBuilder taus = new StringBuilder();
        for (double t : tau) {
            taus.append(String.format("%.2f ", t));
        }
        String m = String.format("%d candidates; Kendall tau to the final ranking by stage: %s; best zero-shot %s,"
                + " best after distillation %s", ids.size(), taus.toString().trim(), best0, bestN);
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
