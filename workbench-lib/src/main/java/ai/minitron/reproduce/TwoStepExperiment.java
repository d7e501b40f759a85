package ai.minitron.reproduce;

import ai.minitron.prune.PrunePlan;
import ai.minitron.prune.Pruner;
import ai.minitron.prune.UnitScores;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Experiment 7 (2407.14679, Table 11): reaching the width target in two steps — teacher to a midpoint
 * model, distilled with D/2 tokens, whose own activation importance then prunes it to the target, which
 * is distilled with the remaining D/2 tokens — against pruning the teacher to the target in one shot and
 * distilling with all D tokens. Both students learn from the original teacher.
 */
public final class TwoStepExperiment implements Experiment {
    @Override
    public int number() {
        return 7;
    }

    @Override
    public String name() {
        return "two-step";
    }

    @Override
    public String finding() {
        return "Two-step vs one-shot pruning";
    }

    @Override
    public String paperClaim() {
        return "pruning and distilling in steps (15B -> 8B -> 4B) beats pruning to the small model in one shot"
                + " (2407.14679 Table 11)";
    }

    @Override
    public String statistic() {
        return "d = val loss(two-step) - val loss(one-shot) at equal total distillation tokens";
    }

    @Override
    public Trial trial(Lab lab) {
        Shapes shapes = new Shapes(lab.teacherConfig());
        Run oneShot = StandardRuns.minitron(lab);
        long half = Math.max(1, lab.budget().distillTokens() / 2);
        PrunePlan midPlan = shapes.midTarget();
        Pruner.Pruned mid = lab.prune(midPlan, StandardRuns.activation(lab));
        Run midRun;
        Run second;
        try (var midWeights = mid.weights()) {
            midRun = lab.distill("two-step-mid-fkl", mid, half, StandardRuns.forwardKl(), 1, true);
            UnitScores midScores = lab.activationScores(mid.config(), midWeights);
            Pruner.Pruned small = lab.prune(mid.config(), midWeights, shapes.widthTarget(), midScores);
            try (var w = small.weights()) {
                second = lab.distill("two-step-small-fkl", small, lab.budget().distillTokens() - half,
                        StandardRuns.forwardKl(), 1, false);
            }
        }
        return Trial.of(outcome(oneShot, midRun, second, Shapes.params(mid.config())), "two-step - one-shot",
                second.finalLoss() - oneShot.finalLoss());
    }

    static Outcome outcome(Run oneShot, Run mid, Run second, long midParams) {
        boolean holds = Outcome.beats(second.finalLoss(), oneShot.finalLoss());
        long twoStepTokens = mid.tokens() + second.tokens();
        Outcome.Rows rows = new Outcome.Rows()
                .add("one-shot", "val_loss", oneShot.finalLoss()).add("one-shot", "tokens", oneShot.tokens())
                .add("two-step", "val_loss", second.finalLoss()).add("two-step", "tokens", twoStepTokens)
                .add("two-step mid", "val_loss", mid.finalLoss()).add("two-step mid", "params", midParams)
                .add("two-step", "zero_shot_val_loss", second.zeroShot()).add("one-shot", "zero_shot_val_loss", oneShot.zeroShot());
        StringColumn run = StringColumn.create("run");
        LongColumn tokens = LongColumn.create("tokens");
        DoubleColumn zs = DoubleColumn.create("zero_shot_val_loss");
        DoubleColumn fin = DoubleColumn.create("val_loss");
        for (Run r : new Run[] {oneShot, mid, second}) {
            run.append(r.key());
            tokens.append(r.tokens());
            zs.append(r.zeroShot());
            fin.append(r.finalLoss());
        }
        String m = String.format("val loss: two-step %.3f (zero-shot %.3f) vs one-shot %.3f (zero-shot %.3f) at"
                + " %,d vs %,d tokens; mid model %.3f", second.finalLoss(), second.zeroShot(), oneShot.finalLoss(),
                oneShot.zeroShot(), twoStepTokens, oneShot.tokens(), mid.finalLoss());
        return new Outcome(rows.list(), Table.create("two_step", run, tokens, zs, fin), holds,
                "the two-step student's validation loss is below the one-shot student's at equal total tokens", m);
    }
}
