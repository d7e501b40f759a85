package ai.minitron.reproduce;

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
    public Outcome run(Lab lab) {
        Map<String, Run> runs = new LinkedHashMap<>();
        for (String m : METRICS) {
            runs.put(m, StandardRuns.widthDistilled(lab, m, "fkl", StandardRuns.forwardKl()));
        }
        return outcome(runs);
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
