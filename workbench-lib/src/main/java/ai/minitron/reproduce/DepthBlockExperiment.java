package ai.minitron.reproduce;

import ai.minitron.stats.Bootstrap;
import ai.minitron.stats.Interval;
import ai.minitron.stats.Verdict;
import ai.minitron.importance.ImportanceTable;
import ai.minitron.importance.Metric;
import ai.minitron.prune.PrunePlan;
import ai.minitron.prune.Pruner;
import ai.minitron.prune.UnitScores;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Experiment 8 (2408.11796, Fig. 9): half the layers dropped either as the contiguous block whose
 * removal raises the loss least (block-drop scan) or as the individually least important layers
 * (layer-drop loss); zero-shot validation loss. Block Importance chosen both ways is reported beside.
 */
public final class DepthBlockExperiment implements Experiment {
    @Override
    public int number() {
        return 8;
    }

    @Override
    public String name() {
        return "depth-block";
    }

    @Override
    public String finding() {
        return "Contiguous block vs least-important layers";
    }

    @Override
    public String paperClaim() {
        return "dropping a contiguous block of layers beats dropping the individually least important layers"
                + " (2408.11796 Fig. 9)";
    }

    @Override
    public String statistic() {
        return "d = zero-shot loss(contiguous block by block-drop loss) - zero-shot loss(individually least important"
                + " layers by layer-drop loss)";
    }

    @Override
    public Trial trial(Lab lab) {
        ImportanceTable imp = lab.importance();
        int n = lab.teacherConfig().numHiddenLayers();
        int k = lab.halfDepth();
        UnitScores width = StandardRuns.activation(lab);
        Map<String, List<Integer>> choices = new LinkedHashMap<>();
        choices.put("contiguous (block-drop loss)", Depth.contiguousBlock(imp, lab.teacherConfig(), k));
        choices.put("individual (layer-drop loss)", kept(lab, Metric.LAYER_DROP.key(), n - k, PrunePlan.Depth.LOWEST));
        choices.put("contiguous (Block Importance)",
                kept(lab, Metric.BLOCK_IMPORTANCE.key(), n - k, PrunePlan.Depth.CONTIGUOUS));
        choices.put("individual (Block Importance)",
                kept(lab, Metric.BLOCK_IMPORTANCE.key(), n - k, PrunePlan.Depth.LOWEST));
        Map<String, Double> losses = new LinkedHashMap<>();
        for (var e : choices.entrySet()) {
            Pruner.Pruned p = lab.prune(PrunePlan.keepAll().withKeepLayers(e.getValue()), width);
            try (var w = p.weights()) {
                losses.put(e.getKey(), lab.validationLoss(p.config(), w));
            }
        }
        return Trial.of(outcome(choices, losses), "block - individual",
                losses.get("contiguous (block-drop loss)") - losses.get("individual (layer-drop loss)"));
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
                ImportanceTable imp = lab.importance();
                int n = lab.teacherConfig().numHiddenLayers();
                int k = lab.halfDepth();
                UnitScores width = StandardRuns.activation(lab);
                List<Integer> block = Depth.contiguousBlock(imp, lab.teacherConfig(), k);
                List<Integer> individual = kept(lab, Metric.LAYER_DROP.key(), n - k, PrunePlan.Depth.LOWEST);
                double[][] l = new double[2][];
                int i = 0;
                for (List<Integer> keep : List.of(block, individual)) {
                    Pruner.Pruned p = lab.prune(PrunePlan.keepAll().withKeepLayers(keep), width);
                    try (var w = p.weights()) {
                        l[i++] = lab.validationLosses(p.config(), w);
                    }
                }
                Map<String, List<Integer>> choices = new LinkedHashMap<>();
                choices.put("contiguous (block-drop loss)", block);
                choices.put("individual (layer-drop loss)", individual);
                Map<String, Double> losses = new LinkedHashMap<>();
                losses.put("contiguous (block-drop loss)", Bootstrap.mean(l[0]));
                losses.put("individual (layer-drop loss)", Bootstrap.mean(l[1]));
                Interval d = Outcome.paired(l[0], l[1], lab.seed());
                Outcome.Rows rows = new Outcome.Rows();
                losses.forEach((name, v) -> rows.add(name, "zero_shot_val_loss", v));
                Table detail = Table.create("depth_block_zero_shot",
                        StringColumn.create("choice", choices.keySet().toArray(new String[0])),
                        StringColumn.create("kept_layers", block.toString(), individual.toString()),
                        DoubleColumn.create("zero_shot_val_loss", losses.values().stream().mapToDouble(x -> x).toArray()));
                String m = String.format("zero-shot val loss: contiguous block %s %.3f vs individual %s %.3f; block -"
                        + " individual: %s nats over %d windows", block, losses.get("contiguous (block-drop loss)"),
                        individual, losses.get("individual (layer-drop loss)"), d.format(4), l[0].length);
                return Outcome.decided(rows.list(), detail,
                        "d = loss(contiguous block) - loss(individually least important layers), per validation window",
                        m, d, Verdict.Claim.BEATS);
            }
        };
    }

    private static List<Integer> kept(Lab lab, String metric, int keep, PrunePlan.Depth how) {
        double[] layers = Depth.layerScores(lab.importance(), metric);
        UnitScores s = UnitScores.of(lab.importance().where(Metric.ACTIVATION.key(), "l2", "mean"), layers);
        int[] idx = Pruner.select(lab.teacherConfig(), PrunePlan.keepAll().withLayers(keep, how), s).layers();
        return Arrays.stream(idx).boxed().toList();
    }

    static Outcome outcome(Map<String, List<Integer>> choices, Map<String, Double> losses) {
        double block = losses.get("contiguous (block-drop loss)");
        double individual = losses.get("individual (layer-drop loss)");
        boolean holds = Outcome.beats(block, individual);
        Outcome.Rows rows = new Outcome.Rows();
        StringColumn name = StringColumn.create("choice");
        StringColumn kept = StringColumn.create("kept_layers");
        DoubleColumn loss = DoubleColumn.create("zero_shot_val_loss");
        for (var e : losses.entrySet()) {
            rows.add(e.getKey(), "zero_shot_val_loss", e.getValue());
            name.append(e.getKey());
            kept.append(choices.get(e.getKey()).toString());
            loss.append(e.getValue());
        }
        String m = String.format("zero-shot val loss: contiguous block %s %.3f vs individual %s %.3f (BI: %.3f vs %.3f)",
                choices.get("contiguous (block-drop loss)"), block, choices.get("individual (layer-drop loss)"),
                individual, losses.get("contiguous (Block Importance)"), losses.get("individual (Block Importance)"));
        return new Outcome(rows.list(), Table.create("depth_block", name, kept, loss), holds,
                "the contiguous block chosen by block-drop loss has a lower zero-shot validation loss than the"
                        + " individually least important layers by layer-drop loss",
                m);
    }
}
