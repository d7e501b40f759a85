package ai.minitron.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.importance.AxisScores;
import ai.minitron.io.TensorDType;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The invariants of docs/architecture.md, "Pruning units", on random models with every feature switched on somewhere. */
class PrunerTest {
    /** 4 layers, 8 query heads over 2 KV heads (4 per group), biases everywhere, untied. */
    static final ModelConfig LLAMA = ModelConfig.builder(Architecture.LLAMA).vocabSize(50).hiddenSize(24)
            .intermediateSize(40).numHiddenLayers(4).numAttentionHeads(8).numKeyValueHeads(2).headDim(6)
            .maxPositionEmbeddings(64).normEps(1e-5).attentionBias(true).mlpBias(true).build();
    /** Nemotron: LayerNorm1p with biases, squared ReLU, partial rotary, tied. */
    static final ModelConfig NEMOTRON = ModelConfig.builder(Architecture.NEMOTRON).vocabSize(50).hiddenSize(24)
            .intermediateSize(40).numHiddenLayers(3).numAttentionHeads(4).numKeyValueHeads(2).headDim(8)
            .maxPositionEmbeddings(64).tieWordEmbeddings(true).build();

    @TempDir
    Path tmp;

    static final long[][] TOKENS = {{1, 4, 9, 16, 25, 36, 49, 3}, {2, 7, 1, 8, 2, 8, 1, 8}};

    static float[] logits(ModelConfig c, Weights w, NDManager m) {
        return DecoderLM.forward(c, w, m.create(TOKENS)).toFloatArray();
    }

    /** Random weights with norms and biases away from their init values. */
    static Weights randomish(ModelConfig c, NDManager m, long seed) {
        Weights w = Weights.random(c, m, seed, DataType.FLOAT32);
        SplittableRandom r = new SplittableRandom(seed);
        for (String n : new ArrayList<>(w.names())) {
            float[] v = w.get(n).toFloatArray();
            for (int i = 0; i < v.length; i++) {
                v[i] += (float) ((r.nextDouble() - 0.5) * (n.contains("norm") || n.endsWith("bias") ? 0.4 : 0.1));
            }
            w.put(n, m.create(v, w.get(n).getShape()));
        }
        return w;
    }

    @Test
    void keepEverythingChangesNoLogit() {
        for (ModelConfig c : List.of(LLAMA, NEMOTRON)) {
            try (NDManager m = NDManager.newBaseManager()) {
                Weights w = randomish(c, m, 1);
                KeepSet k = Pruner.select(c, PrunePlan.keepAll(), UnitScores.random(c, 3));
                Pruner.Pruned p = Pruner.apply(c, w, k);
                assertEquals(c, p.config());
                assertArrayEquals(logits(c, w, m), logits(p.config(), p.weights(), m), c.architecture().toString());
            }
        }
    }

    @Test
    void slicingEqualsMaskingTheFullModel() {
        for (ModelConfig c : List.of(LLAMA, NEMOTRON)) {
            try (NDManager m = NDManager.newBaseManager()) {
                Weights w = randomish(c, m, 2);
                PrunePlan plan = PrunePlan.keepAll().withHeadsPerGroup(c.queriesPerKvHead() / 2).withMlp(17)
                        .withKeepLayers(List.of(0, 2));
                KeepSet k = Pruner.select(c, plan, UnitScores.random(c, 5));
                Pruner.Pruned p = Pruner.apply(c, w, k);
                // Masking: zero the output projections of every pruned head, neuron and layer.
                Weights masked = Weights.empty(m);
                for (String n : w.names()) {
                    masked.put(n, w.get(n).duplicate());
                }
                for (int l = 0; l < c.numHiddenLayers(); l++) {
                    int child = java.util.Arrays.binarySearch(k.layers(), l);
                    String pre = "model.layers." + l + ".";
                    boolean[] keepHead = new boolean[c.numAttentionHeads()];
                    boolean[] keepNeuron = new boolean[c.intermediateSize()];
                    if (child >= 0) {
                        for (int h : k.heads().get(child)) {
                            keepHead[h] = true;
                        }
                        for (int i : k.mlp().get(child)) {
                            keepNeuron[i] = true;
                        }
                    }
                    zeroColumns(masked, pre + "self_attn.o_proj.weight", keepHead, c.headDim(), m);
                    zeroColumns(masked, pre + "mlp.down_proj.weight", keepNeuron, 1, m);
                    if (child < 0) {
                        zeroAll(masked, pre + "self_attn.o_proj.bias", m);
                        zeroAll(masked, pre + "mlp.down_proj.bias", m);
                    }
                }
                float[] a = logits(p.config(), p.weights(), m);
                float[] b = logits(c, masked, m);
                for (int i = 0; i < a.length; i++) {
                    assertEquals(b[i], a[i], 1e-5, c.architecture() + " logit " + i);
                }
            }
        }
    }

    private static void zeroColumns(Weights w, String name, boolean[] keepUnit, int width, NDManager m) {
        NDArray a = w.get(name);
        float[] v = a.toFloatArray();
        long cols = a.getShape().get(1);
        for (int r = 0; r < a.getShape().get(0); r++) {
            for (int u = 0; u < keepUnit.length; u++) {
                if (!keepUnit[u]) {
                    for (int j = 0; j < width; j++) {
                        v[(int) (r * cols + u * width + j)] = 0;
                    }
                }
            }
        }
        w.put(name, m.create(v, a.getShape()));
    }

    private static void zeroAll(Weights w, String name, NDManager m) {
        if (w.has(name)) {
            w.put(name, m.zeros(w.get(name).getShape()));
        }
    }

    @Test
    void parameterCountEqualsTensorSizesAndExportReloadsIdentically() throws Exception {
        for (ModelConfig c : List.of(LLAMA, NEMOTRON)) {
            try (NDManager m = NDManager.newBaseManager()) {
                Weights w = randomish(c, m, 4);
                PrunePlan plan = PrunePlan.keepAll().withHidden(16).withKvGroups(1).withMlp(20)
                        .withLayers(2, PrunePlan.Depth.CONTIGUOUS);
                KeepSet k = Pruner.select(c, plan, UnitScores.random(c, 9));
                Pruner.Pruned p = Pruner.apply(c, w, k);
                assertEquals(ParamCount.of(p.config()).total(), p.weights().numel());
                assertEquals(16, p.config().hiddenSize());
                assertEquals(1, p.config().numKeyValueHeads());
                assertEquals(c.queriesPerKvHead(), p.config().numAttentionHeads());
                Path dir = tmp.resolve(c.architecture().toString());
                new LanguageModel(p.config(), p.weights(), null, TensorDType.F32).save(dir, TensorDType.F32);
                PruningRecord.write(dir, c, p.config(), plan, k, "test-run", "parent");
                assertEquals(k, PruningRecord.read(dir));
                float[] before = logits(p.config(), p.weights(), m);
                try (LanguageModel back = LanguageModel.load(dir, m)) {
                    assertEquals(p.config(), back.config());
                    assertArrayEquals(before, logits(back.config(), back.weights(), m));
                }
            }
        }
    }

    @Test
    void gqaConstraintAlwaysHolds() {
        SplittableRandom r = new SplittableRandom(7);
        for (int trial = 0; trial < 20; trial++) {
            int kv = 1 + r.nextInt(2);
            int q = 1 + r.nextInt(4);
            KeepSet k = Pruner.select(LLAMA, PrunePlan.keepAll().withKvGroups(kv).withHeadsPerGroup(q),
                    UnitScores.random(LLAMA, trial));
            for (int j = 0; j < k.layers().length; j++) {
                int[] heads = k.heads().get(j);
                assertEquals(kv * q, heads.length);
                int[] perGroup = new int[LLAMA.numKeyValueHeads()];
                for (int h : heads) {
                    perGroup[h / LLAMA.queriesPerKvHead()]++;
                }
                for (int g : k.kvGroupsPerLayer().get(j)) {
                    assertEquals(q, perGroup[g], "every kept group keeps q heads");
                }
            }
        }
    }

    @Test
    void plantedImportanceKeepsExactlyThePlantedUnits() {
        ModelConfig c = LLAMA;
        double[] hidden = new double[c.hiddenSize()];
        int[] plantedHidden = {3, 5, 7, 11, 13, 17, 19, 23};
        for (int i : plantedHidden) {
            hidden[i] = 10 + i;
        }
        List<double[]> heads = new ArrayList<>();
        List<double[]> mlp = new ArrayList<>();
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            double[] h = new double[c.numAttentionHeads()];
            h[1] = 5; // group 0
            h[6] = 4; // group 1
            heads.add(h);
            double[] n = new double[c.intermediateSize()];
            n[l] = 1;
            n[30 + l] = 2;
            mlp.add(n);
        }
        double[] layers = {4, 1, 3, 2};
        UnitScores s = UnitScores.of(new AxisScores(hidden, heads.toArray(double[][]::new), mlp.toArray(double[][]::new),
                layers, "planted"));
        KeepSet k = Pruner.select(c, PrunePlan.keepAll().withHidden(8).withHeadsPerGroup(1).withMlp(2)
                .withLayers(2, PrunePlan.Depth.LOWEST), s);
        assertArrayEquals(plantedHidden, k.hidden());
        assertArrayEquals(new int[] {0, 2}, k.layers());
        assertArrayEquals(new int[] {1, 6}, k.heads().get(0));
        assertArrayEquals(new int[] {0, 30}, k.mlp().get(0));
        assertArrayEquals(new int[] {2, 32}, k.mlp().get(1), "child layer 1 is parent layer 2");
        KeepSet block = Pruner.select(c, PrunePlan.keepAll().withLayers(2, PrunePlan.Depth.CONTIGUOUS), s);
        assertArrayEquals(new int[] {0, 3}, block.layers(), "drops the contiguous pair (1,2) of lowest total");
    }

    @Test
    void blockDropDropsThePlantedBlockOfLowestLossIncrease() {
        AxisScores width = AxisScores.firstK(LLAMA);
        UnitScores layerScores = UnitScores.of(new AxisScores(width.hidden(), width.heads(), width.mlp(),
                new double[] {4, 1, 3, 2}, "planted"));
        PrunePlan two = PrunePlan.keepAll().withLayers(2, PrunePlan.Depth.BLOCK_DROP);
        // LOWEST would keep {0, 2}, CONTIGUOUS {0, 3}; the scan says the block (2, 3) hurts least
        UnitScores scan = layerScores.withBlockDrop(2, new double[] {0.5, 0.9, 0.2});
        assertArrayEquals(new int[] {0, 1}, Pruner.select(LLAMA, two, scan).layers());
        // ties go to the earlier block; the scan alone is enough (no per-layer scores needed)
        UnitScores tie = UnitScores.of(new AxisScores(width.hidden(), width.heads(), width.mlp(), null, "planted"))
                .withBlockDrop(2, new double[] {0.2, 0.9, 0.2});
        assertArrayEquals(new int[] {2, 3}, Pruner.select(LLAMA, two, tie).layers());
        // one layer kept: blocks of 3
        UnitScores three = layerScores.withBlockDrop(3, new double[] {0.3, 0.1});
        assertArrayEquals(new int[] {0}, Pruner.select(LLAMA, PrunePlan.keepAll().withLayers(1,
                PrunePlan.Depth.BLOCK_DROP), three).layers());
        var missing = assertThrows(IllegalArgumentException.class, () -> Pruner.select(LLAMA, two, layerScores));
        assertTrue(missing.getMessage().contains("block_drop_k2"), missing.getMessage());
        var wrongSize = assertThrows(IllegalArgumentException.class,
                () -> Pruner.select(LLAMA, two, layerScores.withBlockDrop(2, new double[] {0.1, 0.2})));
        assertTrue(wrongSize.getMessage().contains("expected 3 scores"), wrongSize.getMessage());
    }

    @Test
    void planLargerThanTheModelListsTheValidChoices() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Pruner.select(LLAMA, PrunePlan.keepAll().withHidden(300), UnitScores.firstK(LLAMA)));
        assertTrue(e.getMessage().contains("valid choices are 1..24"), e.getMessage());
        var g = assertThrows(IllegalArgumentException.class,
                () -> Pruner.select(LLAMA, PrunePlan.keepAll().withHeadsPerGroup(5), UnitScores.firstK(LLAMA)));
        assertTrue(g.getMessage().contains("1..4"), g.getMessage());
        var l = assertThrows(IllegalArgumentException.class,
                () -> Pruner.select(LLAMA, PrunePlan.keepAll().withKeepLayers(List.of(0, 9)), UnitScores.firstK(LLAMA)));
        assertTrue(l.getMessage().contains("0..3"), l.getMessage());
        var other = assertThrows(IllegalArgumentException.class,
                () -> Pruner.select(LLAMA, PrunePlan.keepAll().withMlp(3), UnitScores.firstK(NEMOTRON)));
        assertTrue(other.getMessage().contains("another model"), other.getMessage());
    }
}
