package ai.minitron.reproduce;

import ai.minitron.stats.Bootstrap;
import ai.minitron.stats.Interval;
import ai.minitron.stats.Verdict;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.Weights;
import ai.minitron.prune.PrunePlan;
import ai.minitron.prune.Pruner;
import java.util.ArrayDeque;
import java.util.Deque;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Experiment 9 (2407.14679, Table 14): the aggregation target (hidden, heads and MLP cut) reached with
 * one importance estimate on the teacher (single-shot) or in K steps, re-estimating activation
 * importance on each intermediate pruned model before the next cut (iterative, no retraining between);
 * zero-shot validation loss.
 */
public final class IterativeImportanceExperiment implements Experiment {
    @Override
    public int number() {
        return 9;
    }

    @Override
    public String name() {
        return "iterative-importance";
    }

    @Override
    public String finding() {
        return "Single-shot vs iterative importance";
    }

    @Override
    public String paperClaim() {
        return "iterative importance estimation brings no benefit over single-shot (2407.14679 Table 14)";
    }

    @Override
    public ZeroShot zeroShot() {
        return new ZeroShot() {
            @Override
            public String claim() {
                return paperClaim();
            }

            @Override
            public Outcome run(Lab lab) {
                double[][] windows = new double[2][];
                Outcome o = measure(lab, windows);
                Interval d = Outcome.paired(windows[1], windows[0], lab.seed());
                String m = o.measurement() + "; iterative - single-shot: " + d.format(4) + " nats over "
                        + windows[0].length + " windows";
                return Outcome.decided(o.rows(), o.detail(),
                        "d = loss(iterative) - loss(single-shot), per validation window; the claim is that d shows"
                                + " no gain", m, d, Verdict.Claim.NO_GAIN);
            }
        };
    }

    @Override
    public String statistic() {
        return "d = zero-shot loss(iterative) - zero-shot loss(single-shot); the claim is that d shows no gain";
    }

    @Override
    public Verdict.Claim claim() {
        return Verdict.Claim.NO_GAIN;
    }

    @Override
    public Trial trial(Lab lab) {
        Outcome o = measure(lab, null);
        double single = o.detail().doubleColumn("zero_shot_val_loss").get(0);
        DoubleColumn loss = o.detail().doubleColumn("zero_shot_val_loss");
        return Trial.of(o, "iterative - single-shot", loss.get(loss.size() - 1) - single);
    }

    /** Single-shot and iterative pruning, scored; {@code windows} (if given) receives {single, iterative} per window. */
    private Outcome measure(Lab lab, double[][] windows) {
        ModelConfig t = lab.teacherConfig();
        PrunePlan target = new Shapes(lab.teacherConfig()).aggregationTarget();
        double single;
        Pruner.Pruned once = lab.prune(target, StandardRuns.activation(lab));
        try (var w = once.weights()) {
            if (windows != null) {
                windows[0] = lab.validationLosses(once.config(), w);
                single = Bootstrap.mean(windows[0]);
            } else {
                single = lab.validationLoss(once.config(), w);
            }
        }
        int k = lab.budget().iterativeSteps();
        StringColumn path = StringColumn.create("path");
        IntColumn step = IntColumn.create("step");
        IntColumn hidden = IntColumn.create("hidden");
        IntColumn heads = IntColumn.create("heads");
        IntColumn mlp = IntColumn.create("mlp");
        DoubleColumn loss = DoubleColumn.create("zero_shot_val_loss");
        path.append("single-shot");
        step.append(1);
        hidden.append(once.config().hiddenSize());
        heads.append(once.config().numAttentionHeads());
        mlp.append(once.config().intermediateSize());
        loss.append(single);
        ModelConfig c = t;
        Weights w = lab.teacherWeights();
        // Each pruned model's arrays live in a sub-manager of its parent's: close them newest first.
        Deque<Weights> chain = new ArrayDeque<>();
        double iterative = Double.NaN;
        try {
            for (int i = 1; i <= k; i++) {
                PrunePlan p = PrunePlan.keepAll()
                        .withHidden(between(t.hiddenSize(), target.hiddenSize(), i, k))
                        .withMlp(between(t.intermediateSize(), target.mlpSize(), i, k))
                        .withHeadsPerGroup(Math.min(c.queriesPerKvHead(), between(t.queriesPerKvHead(),
                                target.headsPerGroup() == null ? t.queriesPerKvHead() : target.headsPerGroup(), i, k)));
                Pruner.Pruned next = lab.prune(c, w, p, lab.activationScores(c, w));
                chain.push(next.weights());
                c = next.config();
                w = next.weights();
                if (windows != null && i == k) {
                    windows[1] = lab.validationLosses(c, w);
                    iterative = Bootstrap.mean(windows[1]);
                } else {
                    iterative = lab.validationLoss(c, w);
                }
                path.append("iterative");
                step.append(i);
                hidden.append(c.hiddenSize());
                heads.append(c.numAttentionHeads());
                mlp.append(c.intermediateSize());
                loss.append(iterative);
                lab.progress().update("iterative pruning", i, k);
            }
        } finally {
            while (!chain.isEmpty()) {
                chain.pop().close();
            }
        }
        return outcome(single, iterative, k, Table.create("iterative_importance", path, step, hidden, heads, mlp, loss));
    }

    /** from + (to - from) * i / k, rounded (i = k gives exactly {@code to}). */
    static int between(int from, int to, int i, int k) {
        return (int) Math.round(from + (to - from) * (double) i / k);
    }

    static Outcome outcome(double single, double iterative, int steps, Table detail) {
        double gain = (single - iterative) / single;
        boolean holds = gain <= 0.01;
        Outcome.Rows rows = new Outcome.Rows().add("single-shot", "zero_shot_val_loss", single)
                .add("iterative (" + steps + " steps)", "zero_shot_val_loss", iterative)
                .add("iterative vs single-shot", "relative_loss_reduction", gain);
        String m = String.format("zero-shot val loss: single-shot %.3f, iterative (%d steps) %.3f (%+.1f%% loss)",
                single, steps, iterative, 100 * (iterative - single) / single);
        return new Outcome(rows.list(), detail, holds,
                "iterative importance lowers the zero-shot loss by no more than 1% relative to single-shot", m);
    }
}
