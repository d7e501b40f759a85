package ai.minitron.importance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.minitron.TestConfigs;
import ai.minitron.config.ModelConfig;
import ai.minitron.data.CalibrationSet;
import ai.minitron.model.Weights;
import ai.minitron.stats.RankAgreement;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * A random model with planted dead units: MLP neurons (zero gate/up rows and down column), the two
 * query heads of one KV group (zero v_proj rows, so their outputs vanish), and embedding channels
 * (zero weight in every norm). Every metric that can see them must rank them last.
 */
class PlantedModelTest {
    static final int[] DEAD_MLP_L0 = {3, 17};
    static final int[] DEAD_MLP_L1 = {5};
    static final int[] DEAD_HEADS_L1 = {2, 3}; // KV group 1 of layer 1
    static final int[] DEAD_HIDDEN = {2, 11};

    static Weights planted(ModelConfig c, NDManager m) {
        Weights w = Models.random(c, m, 21);
        for (int[] dead : new int[][] {DEAD_MLP_L0, DEAD_MLP_L1}) {
            String p = "model.layers." + (dead == DEAD_MLP_L0 ? 0 : 1) + ".mlp.";
            for (int i : dead) {
                zero(w, p + "gate_proj.weight", new NDIndex(i));
                zero(w, p + "up_proj.weight", new NDIndex(i));
                zero(w, p + "down_proj.weight", new NDIndex(":, {}", i));
            }
        }
        int d = c.headDim();
        zero(w, "model.layers.1.self_attn.v_proj.weight", new NDIndex("{}:{}", d, 2 * d)); // KV head 1
        for (String n : w.names()) {
            if (n.contains("norm.weight")) {
                for (int ch : DEAD_HIDDEN) zero(w, n, new NDIndex(ch));
            }
        }
        return w;
    }

    private static void zero(Weights w, String name, NDIndex idx) {
        NDArray a = w.get(name).duplicate();
        a.set(idx, 0f);
        w.put(name, a);
    }

    static void assertLast(double[] scores, int[] dead, String what) {
        int[] order = RankAgreement.rank(scores);
        Set<Integer> last = new TreeSet<>();
        for (int i = order.length - dead.length; i < order.length; i++) last.add(order[i]);
        Set<Integer> expected = new TreeSet<>();
        for (int x : dead) expected.add(x);
        assertEquals(expected, last, what + ": planted units must rank last; scores " + Arrays.toString(scores));
    }

    @Test
    void plantedUnitsRankLast() {
        ModelConfig c = TestConfigs.llama();
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = planted(c, m);
            CalibrationSet cal = Models.rows(c, 6, 12, 22);
            ActivationStats stats = new ActivationPass(c, w).run(cal, 3, null);
            for (Aggregation b : Aggregation.values()) {
                for (Aggregation s : Aggregation.values()) {
                    String what = "activation batch " + b.key() + " seq " + s.key();
                    AxisScores a = ActivationMetric.scores(c, stats, Metric.ACTIVATION, b, s, true);
                    assertLast(a.mlp()[0], DEAD_MLP_L0, what + " mlp 0");
                    assertLast(a.mlp()[1], DEAD_MLP_L1, what + " mlp 1");
                    assertLast(a.heads()[1], DEAD_HEADS_L1, what + " heads 1");
                    assertLast(a.hidden(), DEAD_HIDDEN, what + " hidden");
                    AxisScores ch = ActivationMetric.scores(c, stats, Metric.ACTIVATION_CHANNEL, b, s, true);
                    assertLast(ch.heads()[1], DEAD_HEADS_L1, "activation_channel " + what + " heads 1");
                }
            }
            AxisScores wanda = WandaMetric.scores(c, w, stats);
            assertLast(wanda.mlp()[0], DEAD_MLP_L0, "wanda mlp 0");
            assertLast(wanda.mlp()[1], DEAD_MLP_L1, "wanda mlp 1");
            assertLast(wanda.heads()[1], DEAD_HEADS_L1, "wanda heads 1");
            assertLast(wanda.hidden(), DEAD_HIDDEN, "wanda hidden");
            AxisScores mag = MagnitudeMetric.scores(c, w);
            assertLast(mag.mlp()[0], DEAD_MLP_L0, "magnitude mlp 0");
            assertLast(mag.mlp()[1], DEAD_MLP_L1, "magnitude mlp 1");
            AxisScores taylor = TaylorMetric.scores(c, w, cal, 3, null);
            assertLast(taylor.mlp()[0], DEAD_MLP_L0, "taylor mlp 0");
            assertLast(taylor.mlp()[1], DEAD_MLP_L1, "taylor mlp 1");

            // and through the estimator and the table's ranking, as the pruner will read it
            ImportanceResult r = ImportanceEstimator.run(c, w, cal, ImportanceEstimator.Options.defaults()
                    .withMetrics(EnumSet.of(Metric.ACTIVATION)).withBatchSize(3).withStabilityLevels(0), null, null);
            int[] mlp0 = r.table().ranking("mlp", 0);
            assertEquals(Set.of(3, 17), Set.of(mlp0[mlp0.length - 1], mlp0[mlp0.length - 2]));
            int[] hidden = r.table().best().ranking("hidden", -1);
            assertEquals(Set.of(2, 11), Set.of(hidden[hidden.length - 1], hidden[hidden.length - 2]));
        }
    }
}
