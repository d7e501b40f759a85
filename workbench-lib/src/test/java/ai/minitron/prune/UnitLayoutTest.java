package ai.minitron.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.Architecture;
import ai.minitron.config.Axis;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.config.TensorSchema;
import ai.minitron.config.UnitLayout;
import ai.minitron.model.Weights;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The unit layout is complete: removing one unit of each axis through it changes the parameter count
 * by exactly what the table says the unit owns, and the pruned checkpoint has exactly the child's
 * schema, for random configs of every architecture (biases, tied or untied, gated or not).
 */
class UnitLayoutTest {

    /** A random small config of {@code a}: GQA groups, head_dim, biases and tying drawn from {@code r}. */
    static ModelConfig randomConfig(Architecture a, SplittableRandom r) {
        int kv = 1 + r.nextInt(3);
        int perGroup = 1 + r.nextInt(3);
        int headDim = 4 * (1 + r.nextInt(3));
        boolean nemotron = a == Architecture.NEMOTRON;
        return ModelConfig.builder(a).vocabSize(11 + r.nextInt(30)).hiddenSize(4 + r.nextInt(20))
                .intermediateSize(3 + r.nextInt(20)).numHiddenLayers(2 + r.nextInt(3))
                .numAttentionHeads(kv * perGroup).numKeyValueHeads(kv).headDim(headDim).maxPositionEmbeddings(64)
                .ropeTheta(10000.0).partialRotaryFactor(nemotron ? 0.5 : 1.0).normEps(1e-5)
                .hiddenAct(nemotron ? "relu2" : "silu").tieWordEmbeddings(r.nextBoolean())
                .attentionBias(r.nextBoolean()).mlpBias(r.nextBoolean()).torchDtype("float32").build();
    }

    /** One unit of an axis removed (from every layer for per-layer axes, as HF configs need). */
    record Removal(Axis axis, PrunePlan plan, ModelConfig child, long units) {}

    static List<Removal> removals(ModelConfig c) {
        int h = c.hiddenSize();
        int i = c.intermediateSize();
        int l = c.numHiddenLayers();
        int a = c.numAttentionHeads();
        int g = c.numKeyValueHeads();
        int q = c.queriesPerKvHead();
        List<Removal> out = new ArrayList<>();
        out.add(new Removal(Axis.MLP, PrunePlan.keepAll().withMlp(i - 1), c.withShape(h, i - 1, l, a, g), l));
        out.add(new Removal(Axis.HIDDEN, PrunePlan.keepAll().withHidden(h - 1), c.withShape(h - 1, i, l, a, g), 1));
        out.add(new Removal(Axis.LAYERS, PrunePlan.keepAll().withLayers(l - 1, PrunePlan.Depth.LOWEST),
                c.withShape(h, i, l - 1, a, g), 1));
        if (q > 1) { // one query head per KV group
            out.add(new Removal(Axis.HEADS, PrunePlan.keepAll().withHeadsPerGroup(q - 1),
                    c.withShape(h, i, l, a - g, g), (long) l * g));
        }
        if (g > 1) { // one KV group with its query heads
            out.add(new Removal(Axis.KV_GROUPS, PrunePlan.keepAll().withKvGroups(g - 1),
                    c.withShape(h, i, l, a - q, g - 1), l));
        }
        return out;
    }

    @Test
    void removingOneUnitChangesTheParameterCountByWhatTheTableSaysItOwns() {
        SplittableRandom r = new SplittableRandom(15);
        int checked = 0;
        for (Architecture arch : Architecture.values()) {
            for (int trial = 0; trial < 4; trial++) {
                ModelConfig c = randomConfig(arch, r);
                try (NDManager m = NDManager.newBaseManager()) {
                    Weights w = Weights.random(c, m, trial, DataType.FLOAT32);
                    for (Removal rm : removals(c)) {
                        String what = arch + " trial " + trial + " " + c + ", one " + rm.axis() + " unit";
                        long owned = UnitLayout.paramsPerUnit(c, rm.axis());
                        assertTrue(owned > 0, what);
                        assertEquals(rm.units() * owned, ParamCount.of(c).total() - ParamCount.of(rm.child()).total(),
                                what);
                        Pruner.Pruned p = Pruner.apply(c, w, Pruner.select(c, rm.plan(), UnitScores.random(c, trial)));
                        assertEquals(rm.child(), p.config(), what);
                        Map<String, long[]> schema = TensorSchema.expectedShapes(rm.child());
                        assertEquals(List.copyOf(schema.keySet()), List.copyOf(p.weights().names()), what);
                        for (var e : schema.entrySet()) {
                            assertArrayEquals(e.getValue(), p.weights().get(e.getKey()).getShape().getShape(),
                                    what + ": " + e.getKey());
                        }
                        assertEquals(ParamCount.of(rm.child()).total(), p.weights().numel(), what);
                        p.weights().close();
                        checked++;
                    }
                }
            }
        }
        assertTrue(checked >= 4 * 4 * 3, "removals checked: " + checked);
    }

    @Test
    void theTableListsEverySchemaTensorAndAKvGroupOwnsItsQueryHeads() {
        ModelConfig qwen = ModelConfig.builder(Architecture.QWEN2).vocabSize(50).hiddenSize(24).intermediateSize(40)
                .numHiddenLayers(2).numAttentionHeads(8).numKeyValueHeads(2).headDim(6).maxPositionEmbeddings(64)
                .ropeTheta(10000.0).partialRotaryFactor(1.0).normEps(1e-5).hiddenAct("silu").tieWordEmbeddings(false)
                .attentionBias(false).mlpBias(false).torchDtype("float32").build();
        long layerOwned = 0;
        for (UnitLayout.Part p : UnitLayout.owned(qwen, Axis.LAYERS, 1)) {
            assertTrue(p.tensor().startsWith("model.layers.1."), p.tensor());
            layerOwned += p.params();
        }
        long global = ParamCount.of(qwen).embedding() + ParamCount.of(qwen).lmHead() + 24; // + model.norm
        assertEquals(ParamCount.of(qwen).total(), 2 * layerOwned + global);
        // a head: 6 rows of q_proj [48, 24] and of its bias, 6 columns of o_proj [24, 48]
        assertEquals(6 * 24 + 6 + 24 * 6, UnitLayout.paramsPerUnit(qwen, Axis.HEADS));
        // a KV group: 6 rows of k_proj and v_proj (+ biases) and its 4 query heads
        assertEquals(2 * (6 * 24 + 6) + 4 * UnitLayout.paramsPerUnit(qwen, Axis.HEADS),
                UnitLayout.paramsPerUnit(qwen, Axis.KV_GROUPS));
        for (String name : TensorSchema.expectedShapes(qwen).keySet()) {
            assertTrue(!UnitLayout.cuts(qwen, name).isEmpty(), name + " has no cut");
        }
    }
}
