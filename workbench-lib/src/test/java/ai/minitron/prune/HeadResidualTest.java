package ai.minitron.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.minitron.config.ModelConfig;
import ai.minitron.importance.AxisScores;
import ai.minitron.model.Weights;
import com.google.gson.Gson;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The experimental pruned-head residual (PrunePlan#headResidual): off by default, and exactly its documented rule. */
class HeadResidualTest {
    static final ModelConfig C = PrunerTest.LLAMA; // 8 query heads over 2 KV groups of 4, head_dim 6, hidden 24
    static final int D = 6;
    static final int H = 24;
    static final int HEADS = 8;

    /** Head scores keeping {@code keep} of every layer. */
    static UnitScores keeping(int... keep) {
        AxisScores base = AxisScores.random(C, 1);
        List<double[]> heads = new ArrayList<>();
        for (int l = 0; l < C.numHiddenLayers(); l++) {
            double[] s = new double[HEADS];
            for (int h : keep) {
                s[h] = 1;
            }
            heads.add(s);
        }
        return UnitScores.of(new AxisScores(base.hidden(), heads.toArray(double[][]::new), base.mlp(), base.layers(),
                "planted"));
    }

    @Test
    void offByDefaultEverywhere() {
        assertFalse(PrunePlan.keepAll().headResidual());
        assertFalse(new PrunePlan(null, 1, null, null, null, null, PrunePlan.Depth.LOWEST).headResidual());
        assertFalse(new Gson().fromJson("{\"headsPerGroup\": 1}", PrunePlan.class).headResidual(), "plan files");
        assertTrue(PrunePlan.keepAll().withHeadResidual(true).withMlp(3).headResidual(), "withers keep the flag");
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = PrunerTest.randomish(C, m, 3);
            PrunePlan plan = PrunePlan.keepAll().withHeadsPerGroup(2);
            KeepSet k = Pruner.select(C, plan, keeping(0, 2, 5, 7));
            float[] plain = Pruner.apply(C, w, k).weights().get("model.layers.0.self_attn.o_proj.weight").toFloatArray();
            float[] viaPlan = Pruner.apply(C, w, k, plan).weights().get("model.layers.0.self_attn.o_proj.weight")
                    .toFloatArray();
            assertArrayEquals(plain, viaPlan);
            float[] parent = w.get("model.layers.0.self_attn.o_proj.weight").toFloatArray();
            int[] kept = {0, 2, 5, 7};
            for (int r = 0; r < H; r++) {
                for (int i = 0; i < kept.length; i++) {
                    for (int t = 0; t < D; t++) {
                        assertEquals(parent[r * HEADS * D + kept[i] * D + t], plain[r * kept.length * D + i * D + t]);
                    }
                }
            }
        }
    }

    @Test
    void keptHeadsGainThePrunedHeadsOutputColumnsOfTheirMostSimilarPartner() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = PrunerTest.randomish(C, m, 4);
            int[] kept = {1, 3, 4, 6}; // 2 of 4 in each group
            PrunePlan plan = PrunePlan.keepAll().withHeadsPerGroup(2).withHeadResidual(true);
            KeepSet k = Pruner.select(C, plan, keeping(kept));
            Pruner.Pruned on = Pruner.apply(C, w, k, plan);
            Pruner.Pruned off = Pruner.apply(C, w, k);
            for (int l = 0; l < C.numHiddenLayers(); l++) {
                String pre = "model.layers." + l + ".self_attn.";
                float[] q = w.get(pre + "q_proj.weight").toFloatArray(); // [8 * 6, 24]
                float[] o = w.get(pre + "o_proj.weight").toFloatArray(); // [24, 8 * 6]
                double[] expected = new double[H * kept.length * D];
                for (int i = 0; i < kept.length; i++) {
                    for (int r = 0; r < H; r++) {
                        for (int t = 0; t < D; t++) {
                            expected[r * kept.length * D + i * D + t] = o[r * HEADS * D + kept[i] * D + t];
                        }
                    }
                }
                for (int j = 0; j < HEADS; j++) {
                    if (java.util.Arrays.binarySearch(kept, j) >= 0) {
                        continue;
                    }
                    int group = j / 4;
                    int target = -1;
                    double best = -2;
                    for (int i = 0; i < kept.length; i++) {
                        if (kept[i] / 4 == group && cos(q, kept[i], j) > best) {
                            best = cos(q, kept[i], j);
                            target = i;
                        }
                    }
                    for (int r = 0; r < H; r++) {
                        for (int t = 0; t < D; t++) {
                            expected[r * kept.length * D + target * D + t] += o[r * HEADS * D + j * D + t];
                        }
                    }
                }
                float[] got = on.weights().get(pre + "o_proj.weight").toFloatArray();
                for (int i = 0; i < got.length; i++) {
                    assertEquals(expected[i], got[i], 1e-6, "layer " + l + " o_proj element " + i);
                }
                for (String n : List.of("q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.bias")) {
                    assertArrayEquals(off.weights().get(pre + n).toFloatArray(), on.weights().get(pre + n).toFloatArray(),
                            n + " is unchanged");
                }
            }
        }
    }

    private static double cos(float[] q, int a, int b) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < D * H; i++) {
            double x = q[a * D * H + i];
            double y = q[b * D * H + i];
            ab += x * y;
            aa += x * x;
            bb += y * y;
        }
        return ab / Math.sqrt(aa * bb);
    }

    @Test
    void duplicateHeadsArePrunedWithoutChangingAnyLogit() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = PrunerTest.randomish(C, m, 5);
            // Heads 1..3 duplicate head 0's queries, heads 5..7 duplicate head 4's: same contexts.
            for (int l = 0; l < C.numHiddenLayers(); l++) {
                String n = "model.layers." + l + ".self_attn.q_proj.weight";
                float[] q = w.get(n).toFloatArray();
                float[] b = w.get("model.layers." + l + ".self_attn.q_proj.bias").toFloatArray();
                for (int j : new int[] {1, 2, 3, 5, 6, 7}) {
                    int src = j < 4 ? 0 : 4;
                    System.arraycopy(q, src * D * H, q, j * D * H, D * H);
                    System.arraycopy(b, src * D, b, j * D, D);
                }
                w.put(n, m.create(q, w.get(n).getShape()));
                w.put("model.layers." + l + ".self_attn.q_proj.bias", m.create(b, new ai.djl.ndarray.types.Shape(b.length)));
            }
            PrunePlan plan = PrunePlan.keepAll().withHeadsPerGroup(1).withHeadResidual(true);
            KeepSet k = Pruner.select(C, plan, keeping(0, 4));
            Pruner.Pruned merged = Pruner.apply(C, w, k, plan);
            float[] full = PrunerTest.logits(C, w, m);
            float[] a = PrunerTest.logits(merged.config(), merged.weights(), m);
            for (int i = 0; i < full.length; i++) {
                assertEquals(full[i], a[i], 1e-4, "logit " + i);
            }
            float[] plain = PrunerTest.logits(merged.config(), Pruner.apply(C, w, k).weights(), m);
            double diff = 0;
            for (int i = 0; i < full.length; i++) {
                diff = Math.max(diff, Math.abs(full[i] - plain[i]));
            }
            assertTrue(diff > 1e-2, "without the residual the logits change: " + diff);
        }
    }

    @Test
    void headCountsThatDoNotSplitListTheValidOnes() {
        assertEquals(3, PrunePlan.headsPerGroup(C, 6, 2));
        var e = assertThrows(IllegalArgumentException.class, () -> PrunePlan.headsPerGroup(C, 5, 2));
        assertTrue(e.getMessage().contains("valid head counts are 2, 4, 6, 8"), e.getMessage());
        var big = assertThrows(IllegalArgumentException.class, () -> PrunePlan.headsPerGroup(C, 8, 1));
        assertTrue(big.getMessage().contains("valid head counts are 1, 2, 3, 4"), big.getMessage());
        var kv = assertThrows(IllegalArgumentException.class, () -> PrunePlan.headsPerGroup(C, 8, 3));
        assertTrue(kv.getMessage().contains("valid choices are 1..2"), kv.getMessage());
    }
}
