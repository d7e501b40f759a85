package ai.minitron.reproduce;

import ai.minitron.distill.Distiller;
import ai.minitron.importance.Metric;
import java.util.LinkedHashMap;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Experiment 3 (2407.14679, Table 15): the Minitron width student retrained with the same D tokens under
 * four losses — logit forward KL alone, cross-entropy + forward KL, cross-entropy alone (no teacher), and
 * reverse KL — and compared on validation loss (cross-entropy on held-out text, which CE alone optimises
 * directly).
 */
public final class RetrainingLossExperiment implements Experiment {
    @Override
    public int number() {
        return 3;
    }

    @Override
    public String name() {
        return "retraining-loss";
    }

    @Override
    public String finding() {
        return "Retraining loss";
    }

    @Override
    public String paperClaim() {
        return "logit forward KL alone retrains better than CE + KL and than CE alone at equal tokens, and forward"
                + " KL beats reverse KL (2407.14679 Table 15)";
    }

    @Override
    public String statistic() {
        return "d = val loss(forward KL) - val loss(other loss) after equal tokens, for CE + KL, CE and reverse KL";
    }

    @Override
    public Trial trial(Lab lab) {
        Map<String, Run> runs = new LinkedHashMap<>();
        Map<String, Distiller.Options> losses = new LinkedHashMap<>();
        losses.put("fkl", StandardRuns.forwardKl());
        losses.put("ce_fkl", StandardRuns.ceAndKl());
        losses.put("ce", StandardRuns.ceOnly());
        losses.put("rkl", StandardRuns.reverseKl());
        for (var e : losses.entrySet()) {
            runs.put(e.getKey(), StandardRuns.widthDistilled(lab, Metric.ACTIVATION.key(), e.getKey(), e.getValue()));
        }
        double kl = runs.get("fkl").finalLoss();
        Map<String, Double> parts = new LinkedHashMap<>();
        for (String k : new String[] {"ce_fkl", "ce", "rkl"}) {
            parts.put("forward KL - " + label(k), kl - runs.get(k).finalLoss());
        }
        return new Trial(outcome(runs), parts);
    }

    static Outcome outcome(Map<String, Run> runs) {
        double kl = runs.get("fkl").finalLoss();
        boolean klBeatsCe = Outcome.beats(kl, runs.get("ce_fkl").finalLoss()) && Outcome.beats(kl, runs.get("ce").finalLoss());
        boolean forwardBeatsReverse = Outcome.beats(kl, runs.get("rkl").finalLoss());
        Outcome.Rows rows = new Outcome.Rows();
        StringColumn loss = StringColumn.create("loss");
        DoubleColumn zs = DoubleColumn.create("zero_shot_val_loss");
        DoubleColumn fin = DoubleColumn.create("val_loss");
        DoubleColumn k = DoubleColumn.create("kl_to_teacher");
        StringBuilder m = new StringBuilder("val loss after equal tokens:");
        for (var e : runs.entrySet()) {
            Run r = e.getValue();
            rows.add(e.getKey(), "val_loss", r.finalLoss()).add(e.getKey(), "kl_to_teacher", r.finalKl());
            loss.append(e.getKey());
            zs.append(r.zeroShot());
            fin.append(r.finalLoss());
            k.append(r.finalKl());
            m.append(String.format(" %s %.3f,", label(e.getKey()), r.finalLoss()));
        }
        rows.add("KL alone beats CE + KL and CE", "holds", klBeatsCe ? 1 : 0)
                .add("forward KL beats reverse KL", "holds", forwardBeatsReverse ? 1 : 0);
        m.setLength(m.length() - 1);
        m.append(String.format("; KL-alone claim %s, forward-vs-reverse claim %s", klBeatsCe ? "holds" : "fails",
                forwardBeatsReverse ? "holds" : "fails"));
        return new Outcome(rows.list(), Table.create("retraining_loss", loss, zs, fin, k), klBeatsCe && forwardBeatsReverse,
                "forward KL alone has the lowest validation loss of {KL, CE + KL, CE} and a lower one than reverse KL",
                m.toString());
    }

    static String label(String key) {
        return switch (key) {
            case "fkl" -> "forward KL";
            case "ce_fkl" -> "CE + KL";
            case "ce" -> "CE";
            case "rkl" -> "reverse KL";
            default -> key;
        };
    }
}
