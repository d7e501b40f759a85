package ai.minitron.reproduce;

import ai.minitron.config.ModelConfig;
import ai.minitron.importance.Metric;
import ai.minitron.prune.Pruner;
import java.util.LinkedHashMap;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Experiment 4 (2407.14679, Fig. 1 and §4): the Minitron width student (pruned with activation
 * importance, distilled with S tokens) against the same architecture trained from random initialisation
 * with S tokens, and with S x 40 tokens (the "40x fewer training tokens" claim).
 */
public final class ScratchExperiment implements Experiment {
    @Override
    public int number() {
        return 4;
    }

    @Override
    public String name() {
        return "scratch";
    }

    @Override
    public String finding() {
        return "Prune + distill vs from scratch";
    }

    @Override
    public String paperClaim() {
        return "pruning + distillation beats training the same architecture from scratch, even when the scratch"
                + " model sees 40x more tokens (2407.14679 Fig. 1)";
    }

    @Override
    public String statistic() {
        return "d = val loss(prune + distill) - val loss(from scratch), for the 1x and the Nx-token scratch runs";
    }

    @Override
    public Trial trial(Lab lab) {
        long s = lab.budget().scratchTokens();
        int factor = lab.budget().scratchFactor();
        Pruner.Pruned p = StandardRuns.widthStudent(lab, Metric.ACTIVATION.key());
        ModelConfig arch = p.config();
        Run distilled;
        try (var w = p.weights()) {
            distilled = lab.distill("width-activation-fkl-s", p, s, StandardRuns.forwardKl(), 1, false);
        }
        Run scratch1 = lab.scratch("scratch-1x", arch, s, 1);
        Run scratchN = lab.scratch("scratch-" + factor + "x", arch, s * factor, 4);
        Map<String, Double> parts = new LinkedHashMap<>();
        parts.put("distilled - scratch 1x", distilled.finalLoss() - scratch1.finalLoss());
        parts.put("distilled - scratch " + factor + "x", distilled.finalLoss() - scratchN.finalLoss());
        return new Trial(outcome(distilled, scratch1, scratchN, factor), parts);
    }

    static Outcome outcome(Run distilled, Run scratch1, Run scratchN, int factor) {
        boolean beats1 = Outcome.beats(distilled.finalLoss(), scratch1.finalLoss());
        boolean beatsN = Outcome.beats(distilled.finalLoss(), scratchN.finalLoss());
        Outcome.Rows rows = new Outcome.Rows()
                .add("prune + distill", "val_loss", distilled.finalLoss())
                .add("prune + distill", "tokens", distilled.tokens())
                .add("scratch 1x", "val_loss", scratch1.finalLoss())
                .add("scratch 1x", "tokens", scratch1.tokens())
                .add("scratch " + factor + "x", "val_loss", scratchN.finalLoss())
                .add("scratch " + factor + "x", "tokens", scratchN.tokens());
        StringColumn run = StringColumn.create("run");
        LongColumn tokens = LongColumn.create("tokens");
        DoubleColumn loss = DoubleColumn.create("val_loss");
        for (Run r : new Run[] {distilled, scratch1, scratchN}) {
            for (Run.Point pt : r.curve()) {
                run.append(r.key());
                tokens.append(pt.tokens());
                loss.append(pt.valLoss());
            }
        }
        String m = String.format("val loss: prune + distill %.3f (%,d tokens); scratch %.3f (%,d tokens); scratch %.3f"
                + " (%,d tokens, %dx)", distilled.finalLoss(), distilled.tokens(), scratch1.finalLoss(),
                scratch1.tokens(), scratchN.finalLoss(), scratchN.tokens(), factor);
        return new Outcome(rows.list(), Table.create("scratch", run, tokens, loss), beats1 && beatsN,
                "the pruned + distilled student's validation loss is below both from-scratch models' (1x and "
                        + factor + "x tokens)",
                m);
    }
}
