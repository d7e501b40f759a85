package ai.minitron.reproduce;

import ai.minitron.stats.Bootstrap;
import ai.minitron.stats.Interval;
import ai.minitron.stats.Verdict;
import ai.minitron.prune.UnitScores;

import ai.minitron.importance.Aggregation;
import ai.minitron.importance.ImportanceTable;
import ai.minitron.importance.Metric;
import ai.minitron.prune.PrunePlan;
import ai.minitron.prune.Pruner;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Experiment 1 (2407.14679, Table 13): the teacher is pruned to one fixed shape (hidden, heads and MLP
 * all cut) ranking units by activation importance under each of the 9 (batch, sequence) aggregations,
 * and each child's zero-shot validation loss is measured. The paper finds (L2, mean) and (mean, mean)
 * best and the variance-based aggregations worst.
 */
public final class AggregationExperiment implements Experiment {
    @Override
    public int number() {
        return 1;
    }

    @Override
    public String name() {
        return "aggregation";
    }

    @Override
    public String finding() {
        return "Importance aggregation";
    }

    @Override
    public String paperClaim() {
        return "(batch L2, seq mean) and (mean, mean) aggregations prune best zero-shot; variance-based worst"
                + " (2407.14679 Table 13)";
    }

    /** One aggregation's result. */
    record Result(String batch, String seq, double loss) {
        String label() {
            return "(" + batch + ", " + seq + ")";
        }
    }

    @Override
    public String statistic() {
        return "d = mean zero-shot loss of (L2, mean) and (mean, mean) - mean zero-shot loss of the variance-based"
                + " aggregations";
    }

    @Override
    public Trial trial(Lab lab) {
        ImportanceTable imp = lab.importance();
        PrunePlan plan = new Shapes(lab.teacherConfig()).aggregationTarget();
        List<Result> results = new ArrayList<>();
        int done = 0;
        for (Aggregation b : Aggregation.values()) {
            for (Aggregation s : Aggregation.values()) {
                Pruner.Pruned p = lab.prune(plan, UnitScores.of(imp.where(Metric.ACTIVATION.key(), b.key(), s.key())));
                try (var w = p.weights()) {
                    results.add(new Result(b.key(), s.key(), lab.validationLoss(p.config(), w)));
                }
                lab.progress().update("aggregations", ++done, 9);
            }
        }
        return Trial.of(outcome(results, Shapes.params(new Shapes(lab.teacherConfig()).config(plan))),
                "paper's two - variance-based", paperMinusVariance(results));
    }

    /** Mean loss of {(L2, mean), (mean, mean)} minus the mean loss of the aggregations with a variance. */
    static double paperMinusVariance(List<Result> results) {
        double paper = 0;
        double variance = 0;
        int np = 0;
        int nv = 0;
        for (Result r : results) {
            if ((r.batch().equals("l2") || r.batch().equals("mean")) && r.seq().equals("mean")) {
                paper += r.loss();
                np++;
            }
            if (r.batch().equals("var") || r.seq().equals("var")) {
                variance += r.loss();
                nv++;
            }
        }
        return paper / np - variance / nv;
    }

    @Override
    public ZeroShot zeroShot() {
        return new ZeroShot() {
            @Override
            public String claim() {
                return "(L2, mean) and (mean, mean) prune better zero-shot than the variance-based aggregations"
                        + " (2407.14679 Table 13)";
            }

            @Override
            public Outcome run(Lab lab) {
                ImportanceTable imp = lab.importance();
                PrunePlan plan = new Shapes(lab.teacherConfig()).aggregationTarget();
                List<Result> results = new ArrayList<>();
                List<double[]> windows = new ArrayList<>();
                int done = 0;
                for (Aggregation b : Aggregation.values()) {
                    for (Aggregation s : Aggregation.values()) {
                        Pruner.Pruned p = lab.prune(plan, UnitScores.of(imp.where(Metric.ACTIVATION.key(), b.key(), s.key())));
                        try (var w = p.weights()) {
                            double[] l = lab.validationLosses(p.config(), w);
                            windows.add(l);
                            results.add(new Result(b.key(), s.key(), Bootstrap.mean(l)));
                        }
                        lab.progress().update("aggregations", ++done, 9);
                    }
                }
                return zeroShotOutcome(results, windows, lab.seed(), Shapes.params(new Shapes(lab.teacherConfig()).config(plan)));
            }
        };
    }

    /**
     * The zero-shot verdict: per validation window, d = mean loss of {(L2, mean), (mean, mean)} − mean loss
     * of the five aggregations with a variance; the claim holds when the interval of mean(d) lies below −tie.
     */
    static Outcome zeroShotOutcome(List<Result> results, List<double[]> windows, long seed, long params) {
        int n = windows.get(0).length;
        double[] paper = new double[n];
        double[] variance = new double[n];
        int np = 0;
        int nv = 0;
        for (int k = 0; k < results.size(); k++) {
            Result r = results.get(k);
            boolean best = (r.batch().equals("l2") || r.batch().equals("mean")) && r.seq().equals("mean");
            boolean var = r.batch().equals("var") || r.seq().equals("var");
            double[] l = windows.get(k);
            for (int i = 0; i < n; i++) {
                if (best) paper[i] += l[i];
                if (var) variance[i] += l[i];
            }
            np += best ? 1 : 0;
            nv += var ? 1 : 0;
        }
        for (int i = 0; i < n; i++) {
            paper[i] /= np;
            variance[i] /= nv;
        }
        Interval d = Outcome.paired(paper, variance, seed);
        Outcome single = outcome(results, params);
        String m = String.format("zero-shot val loss, mean of (L2, mean) and (mean, mean) minus mean of the %d variance"
                + " aggregations: %s nats over %d windows; %s", nv, d.format(4), n, single.measurement());
        return Outcome.decided(single.rows(), single.detail(),
                "d = loss of the paper's two aggregations - loss of the variance-based ones, per validation window",
                m, d, Verdict.Claim.BEATS);
    }

    /** The verdict: (l2, mean) and (mean, mean) in the top 3 (lowest loss) of 9, and the worst uses a variance. */
    static Outcome outcome(List<Result> results, long params) {
        List<Result> sorted = new ArrayList<>(results);
        sorted.sort(Comparator.comparingDouble(Result::loss));
        int rankL2Mean = rankOf(sorted, "l2", "mean");
        int rankMeanMean = rankOf(sorted, "mean", "mean");
        Result worst = sorted.get(sorted.size() - 1);
        boolean varianceLast = worst.batch().equals("var") || worst.seq().equals("var");
        boolean holds = rankL2Mean <= 3 && rankMeanMean <= 3 && varianceLast;
        Outcome.Rows rows = new Outcome.Rows();
        StringColumn batch = StringColumn.create("batch_agg");
        StringColumn seq = StringColumn.create("seq_agg");
        DoubleColumn loss = DoubleColumn.create("zero_shot_val_loss");
        IntColumn rank = IntColumn.create("rank");
        for (Result r : results) {
            rows.add("aggregation " + r.label(), "zero_shot_val_loss", r.loss());
            batch.append(r.batch());
            seq.append(r.seq());
            loss.append(r.loss());
            rank.append(sorted.indexOf(r) + 1);
        }
        rows.add("(l2, mean)", "rank_of_9", rankL2Mean).add("(mean, mean)", "rank_of_9", rankMeanMean)
                .add("pruned model", "params", params);
        String measurement = String.format("ranks of 9: (L2, mean) %d, (mean, mean) %d; best %s %.3f, worst %s %.3f",
                rankL2Mean, rankMeanMean, sorted.get(0).label(), sorted.get(0).loss(), worst.label(), worst.loss());
        return new Outcome(rows.list(), Table.create("aggregation", batch, seq, loss, rank), holds,
                "(L2, mean) and (mean, mean) both in the top 3 of 9 by zero-shot loss, and the worst of 9 uses a"
                        + " variance aggregation",
                measurement);
    }

    private static int rankOf(List<Result> sorted, String b, String s) {
        for (int i = 0; i < sorted.size(); i++) {
            if (sorted.get(i).batch().equals(b) && sorted.get(i).seq().equals(s)) {
                return i + 1;
            }
        }
        throw new IllegalStateException("no result for (" + b + ", " + s + ")");
    }
}
