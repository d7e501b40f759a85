package ai.minitron.reproduce;

import ai.minitron.distill.Distiller;
import ai.minitron.distill.KdLoss;
import ai.minitron.importance.Metric;
import ai.minitron.prune.Pruner;
import ai.minitron.prune.UnitScores;

/**
 * The runs several experiments share, under one key each so the {@link Lab} computes them once: the
 * width-pruned teacher (Minitron's recipe: activation importance, batch L2 / sequence mean) distilled
 * with D tokens under a named loss, and its baselines.
 */
final class StandardRuns {
    private StandardRuns() {}

    /** Minitron's default importance view: activation, (L2, mean). */
    static UnitScores activation(Lab lab) {
        return UnitScores.of(lab.importance().where(Metric.ACTIVATION.key(), "l2", "mean"));
    }

    /** Width scores of a metric: activation uses (L2, mean); magnitude and random have no aggregation. */
    static UnitScores width(Lab lab, String metric) {
        return metric.equals(Metric.ACTIVATION.key()) ? activation(lab) : UnitScores.of(lab.importance().where(metric));
    }

    /** The teacher pruned to the width target by a metric. */
    static Pruner.Pruned widthStudent(Lab lab, String metric) {
        return lab.prune(new Shapes(lab.teacherConfig()).widthTarget(), width(lab, metric));
    }

    /** Pure logit distillation: forward KL at τ = 1, no cross-entropy (Minitron's best, 2407.14679 Table 15). */
    static Distiller.Options forwardKl() {
        return Distiller.Options.forwardKl();
    }

    static Distiller.Options reverseKl() {
        return new Distiller.Options(new KdLoss.Config(KdLoss.Kind.REVERSE_KL, 1.0, 0.5, 0), 1.0, 0.0, false);
    }

    static Distiller.Options ceAndKl() {
        return new Distiller.Options(KdLoss.Config.forwardKl(1.0), 1.0, 1.0, false);
    }

    static Distiller.Options ceOnly() {
        return new Distiller.Options(KdLoss.Config.forwardKl(1.0), 0.0, 1.0, false);
    }

    /** The width student of {@code metric}, distilled with D tokens under {@code options} (key names the loss). */
    static Run widthDistilled(Lab lab, String metric, String lossKey, Distiller.Options options) {
        Pruner.Pruned p = widthStudent(lab, metric);
        try (var w = p.weights()) {
            return lab.distill("width-" + metric + "-" + lossKey, p, lab.budget().distillTokens(), options, 1, false);
        }
    }

    /** Minitron's recipe at the width target: activation importance, forward KL, D tokens. */
    static Run minitron(Lab lab) {
        return widthDistilled(lab, Metric.ACTIVATION.key(), "fkl", forwardKl());
    }
}
