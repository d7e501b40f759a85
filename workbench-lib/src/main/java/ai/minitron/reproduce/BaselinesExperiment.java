package ai.minitron.reproduce;

import ai.minitron.stats.Bootstrap;
import ai.minitron.stats.Interval;
import ai.minitron.stats.Verdict;
import ai.minitron.importance.Metric;
import java.util.LinkedHashMap;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Experiment 2 (2408.11796, Fig. 6; 2407.14679 §2.1): the same width target reached by ranking units by
 * activation importance, by weight magnitude and at random, each scored zero-shot and after the same
 * short distillation (D tokens, forward KL).
 */
public final class BaselinesExperiment implements Experiment {
    static final String[] METRICS = {Metric.ACTIVATION.key(), Metric.MAGNITUDE.key(), Metric.RANDOM.key()};

    @Override
    public int number() {
        return 2;
    }

    @Override
    public String name() {
        return "baselines";
    }

    @Override
    public String finding() {
        return "Activation importance vs baselines";
    }

    @Override
    public String paperClaim() {
        return "activation-based importance beats magnitude and random pruning, zero-shot and after equal"
                + " distillation (2408.11796 Fig. 6)";
    }

    @Override
    public String statistic() {
        return "d = loss(activation) - loss(baseline), zero-shot and after equal distillation, for magnitude and random";
    }

    @Override
    public Trial trial(Lab lab) {
        Map<String, Run> runs = new LinkedHashMap<>();
        for (String m : METRICS) {
            runs.put(m, StandardRuns.widthDistilled(lab, m, "fkl", StandardRuns.forwardKl()));
        }
        return new Trial(outcome(runs), parts(runs));
    }

    /** activation - each baseline, zero-shot and distilled. */
    static Map<String, Double> parts(Map<String, Run> runs) {
        Run act = runs.get(Metric.ACTIVATION.key());
        Map<String, Double> p = new LinkedHashMap<>();
        for (var e : runs.entrySet()) {
            if (e.getValue() != act) {
                p.put("activation - " + e.getKey() + " (zero-shot)", act.zeroShot() - e.getValue().zeroShot());
            }
        }
        for (var e : runs.entrySet()) {
            if (e.getValue() != act) {
                p.put("activation - " + e.getKey() + " (distilled)", act.finalLoss() - e.getValue().finalLoss());
            }
        }
        return p;
    }

    /** The zero-shot comparison adds the gradient (Taylor) and weight × activation (Wanda) baselines. */
    static final String[] ZERO_SHOT_METRICS = {Metric.ACTIVATION.key(), Metric.MAGNITUDE.key(), Metric.WANDA.key(),
            Metric.TAYLOR.key(), Metric.RANDOM.key()};

    @Override
    public ZeroShot zeroShot() {
        return new ZeroShot() {
            @Override
            public String claim() {
                return "activation-based importance prunes better zero-shot than magnitude, Wanda, Taylor and random"
                        + " (2408.11796 Fig. 6, zero-shot part)";
            }

            @Override
            public Outcome run(Lab lab) {
                Map<String, double[]> windows = new LinkedHashMap<>();
                int done = 0;
                for (String m : ZERO_SHOT_METRICS) {
                    var p = StandardRuns.widthStudent(lab, m);
                    try (var w = p.weights()) {
                        windows.put(m, lab.validationLosses(p.config(), w));
                    }
                    lab.progress().update("baselines (zero-shot)", ++done, ZERO_SHOT_METRICS.length);
                }
                return zeroShotOutcome(windows, lab.seed());
            }
        };
    }

    /**
     * The zero-shot verdict against the strongest baseline (lowest mean loss): d = loss(activation) −
     * loss(best baseline) per validation window; holds when its interval lies below −tie.
     */
    static Outcome zeroShotOutcome(Map<String, double[]> windows, long seed) {
        double[] act = windows.get(Metric.ACTIVATION.key());
        String best = null;
        for (var e : windows.entrySet()) {
            if (!e.getKey().equals(Metric.ACTIVATION.key())
                    && (best == null || Bootstrap.mean(e.getValue())
                            < Bootstrap.mean(windows.get(best)))) {
                best = e.getKey();
            }
        }
        Interval d = Outcome.paired(act, windows.get(best), seed);
        Outcome.Rows rows = new Outcome.Rows();
        StringColumn metric = StringColumn.create("metric");
        DoubleColumn zs = DoubleColumn.create("zero_shot_val_loss");
        DoubleColumn lo = DoubleColumn.create("diff_vs_activation_lo");
        DoubleColumn hi = DoubleColumn.create("diff_vs_activation_hi");
        StringBuilder m = new StringBuilder("zero-shot val loss:");
        for (var e : windows.entrySet()) {
            double mean = Bootstrap.mean(e.getValue());
            rows.add(e.getKey(), "zero_shot_val_loss", mean);
            metric.append(e.getKey());
            zs.append(mean);
            Interval di = Outcome.paired(e.getValue(), act, seed);
            lo.append(di.lo());
            hi.append(di.hi());
            m.append(String.format(" %s %.3f;", e.getKey(), mean));
        }
        m.append(String.format(" activation - %s (strongest baseline): %s nats over %d windows", best, d.format(4),
                act.length));
        return Outcome.decided(rows.list(), Table.create("baselines_zero_shot", metric, zs, lo, hi),
                "d = loss(activation) - loss(strongest baseline by mean loss), per validation window", m.toString(), d,
                Verdict.Claim.BEATS);
    }

    static Outcome outcome(Map<String, Run> runs) {
        Run act = runs.get(Metric.ACTIVATION.key());
        boolean holds = true;
        Outcome.Rows rows = new Outcome.Rows();
        StringColumn metric = StringColumn.create("metric");
        DoubleColumn zs = DoubleColumn.create("zero_shot_val_loss");
        DoubleColumn fin = DoubleColumn.create("distilled_val_loss");
        DoubleColumn kl = DoubleColumn.create("distilled_kl");
        for (var e : runs.entrySet()) {
            Run r = e.getValue();
            rows.add(e.getKey(), "zero_shot_val_loss", r.zeroShot()).add(e.getKey(), "distilled_val_loss", r.finalLoss());
            metric.append(e.getKey());
            zs.append(r.zeroShot());
            fin.append(r.finalLoss());
            kl.append(r.finalKl());
            if (r != act) {
                holds &= Outcome.beats(act.zeroShot(), r.zeroShot()) && Outcome.beats(act.finalLoss(), r.finalLoss());
            }
        }
        StringBuilder m = new StringBuilder("zero-shot / distilled val loss:");
        runs.forEach((k, r) -> m.append(String.format(" %s %.3f / %.3f;", k, r.zeroShot(), r.finalLoss())));
        m.append(String.format(" (%,d tokens)", act.tokens()));
        return new Outcome(rows.list(), Table.create("baselines", metric, zs, fin, kl), holds,
                "activation's validation loss is lower than magnitude's and random's, both zero-shot and after"
                        + " distillation",
                m.toString().replace(";  (", " (").replace("; (", " ("));
    }
}
