package ai.minitron.reproduce;

import ai.minitron.importance.Metric;
import ai.minitron.stats.Bootstrap;
import ai.minitron.stats.Interval;
import ai.minitron.stats.Verdict;
import ai.minitron.importance.ImportanceTable;
import ai.minitron.prune.PrunePlan;
import ai.minitron.prune.Pruner;
import ai.minitron.prune.UnitScores;
import java.util.List;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Experiment 5 (2407.14679, Table 10): at equal parameter count, width pruning (3/4 of the embedding
 * channels and a smaller MLP, all layers) against depth pruning (half the layers, the contiguous block
 * whose removal hurts least), zero-shot and after the same distillation (D tokens, forward KL).
 */
public final class WidthDepthExperiment implements Experiment {
    @Override
    public int number() {
        return 5;
    }

    @Override
    public String name() {
        return "width-vs-depth";
    }

    @Override
    public String finding() {
        return "Width vs depth";
    }

    @Override
    public String paperClaim() {
        return "at equal size, depth pruning may win zero-shot but width pruning wins after retraining"
                + " (2407.14679 Table 10)";
    }

    @Override
    public String statistic() {
        return "d = val loss(width) - val loss(depth) after equal distillation (zero-shot losses reported, not decided)";
    }

    @Override
    public Trial trial(Lab lab) {
        ImportanceTable imp = lab.importance();
        Shapes shapes = new Shapes(lab.teacherConfig());
        Run width = StandardRuns.minitron(lab);
        long widthParams = Shapes.params(shapes.config(shapes.widthTarget()));
        List<Integer> keep = Depth.contiguousBlock(imp, lab.teacherConfig(), lab.halfDepth());
        UnitScores s = StandardRuns.activation(lab);
        Pruner.Pruned p = lab.prune(PrunePlan.keepAll().withKeepLayers(keep), s);
        long depthParams = Shapes.params(p.config());
        Run depth;
        try (var w = p.weights()) {
            depth = lab.distill("depth-block-fkl", p, lab.budget().distillTokens(), StandardRuns.forwardKl(), 1, false);
        }
        return Trial.of(outcome(width, widthParams, depth, depthParams, keep), "width - depth (distilled)",
                width.finalLoss() - depth.finalLoss());
    }

    @Override
    public ZeroShot zeroShot() {
        return new ZeroShot() {
            @Override
            public String claim() {
                return "width pruning is preferred to depth pruning at equal size (2407.14679 best practice 2; Table 10"
                        + " compares both, zero-shot part)";
            }

            @Override
            public Outcome run(Lab lab) {
                ImportanceTable imp = lab.importance();
                Shapes shapes = new Shapes(lab.teacherConfig());
                double[] width;
                long widthParams;
                var wp = StandardRuns.widthStudent(lab, Metric.ACTIVATION.key());
                try (var w = wp.weights()) {
                    width = lab.validationLosses(wp.config(), w);
                    widthParams = Shapes.params(wp.config());
                }
                List<Integer> keep = Depth.contiguousBlock(imp, lab.teacherConfig(), lab.halfDepth());
                Pruner.Pruned p = lab.prune(PrunePlan.keepAll().withKeepLayers(keep), StandardRuns.activation(lab));
                double[] depth;
                long depthParams = Shapes.params(p.config());
                try (var w = p.weights()) {
                    depth = lab.validationLosses(p.config(), w);
                }
                Interval d = Outcome.paired(width, depth, lab.seed());
                double wm = Bootstrap.mean(width);
                double dm = Bootstrap.mean(depth);
                Outcome.Rows rows = new Outcome.Rows().add("width", "params", widthParams).add("depth", "params", depthParams)
                        .add("width", "zero_shot_val_loss", wm).add("depth", "zero_shot_val_loss", dm);
                Table detail = Table.create("width_vs_depth_zero_shot",
                        StringColumn.create("pruning", "width", "depth"),
                        LongColumn.create("params", widthParams, depthParams),
                        DoubleColumn.create("zero_shot_val_loss", wm, dm),
                        StringColumn.create("shape", "all layers, " + shapes.config(shapes.widthTarget()).hiddenSize()
                                + " hidden", "kept layers " + keep));
                String m = String.format("zero-shot val loss: width %.3f, depth %.3f (params %,d vs %,d); width - depth: %s"
                        + " nats over %d windows", wm, dm, widthParams, depthParams, d.format(4), width.length);
                return Outcome.decided(rows.list(), detail, "d = loss(width) - loss(depth), per validation window", m, d,
                        Verdict.Claim.BEATS);
            }
        };
    }

    static Outcome outcome(Run width, long widthParams, Run depth, long depthParams, List<Integer> keptLayers) {
        boolean holds = Outcome.beats(width.finalLoss(), depth.finalLoss());
        Outcome.Rows rows = new Outcome.Rows()
                .add("width", "params", widthParams).add("depth", "params", depthParams)
                .add("width", "zero_shot_val_loss", width.zeroShot()).add("depth", "zero_shot_val_loss", depth.zeroShot())
                .add("width", "distilled_val_loss", width.finalLoss()).add("depth", "distilled_val_loss", depth.finalLoss());
        StringColumn name = StringColumn.create("pruning");
        LongColumn params = LongColumn.create("params");
        DoubleColumn zs = DoubleColumn.create("zero_shot_val_loss");
        DoubleColumn fin = DoubleColumn.create("distilled_val_loss");
        StringColumn detail = StringColumn.create("shape");
        name.append("width").append("depth");
        params.append(widthParams).append(depthParams);
        zs.append(width.zeroShot()).append(depth.zeroShot());
        fin.append(width.finalLoss()).append(depth.finalLoss());
        detail.append("all layers, narrower").append("kept layers " + keptLayers);
        String m = String.format("zero-shot: width %.3f, depth %.3f (%s wins); distilled: width %.3f, depth %.3f"
                + " (params %,d vs %,d)", width.zeroShot(), depth.zeroShot(),
                width.zeroShot() < depth.zeroShot() ? "width" : "depth", width.finalLoss(), depth.finalLoss(),
                widthParams, depthParams);
        return new Outcome(rows.list(), Table.create("width_vs_depth", name, params, zs, fin, detail), holds,
                "after equal distillation the width-pruned model's validation loss is below the depth-pruned one's"
                        + " (zero-shot order reported, not required)",
                m);
    }
}
