package ai.minitron.tap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.Weights;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Taps deliver the documented activations at every site and change nothing about the forward. */
class TapsTest {
    static final ModelConfig C = ModelConfig.builder(Architecture.LLAMA).vocabSize(40).hiddenSize(24)
            .intermediateSize(36).numHiddenLayers(3).numAttentionHeads(6).numKeyValueHeads(2).headDim(8)
            .maxPositionEmbeddings(64).normEps(1e-5).build();

    @Test
    void everySiteEmitsTheDocumentedShapeAndTheForwardIsUnchanged() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(C, m, 3, DataType.FLOAT32);
            NDArray ids = m.create(new long[][] {{1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}});
            float[] plain = DecoderLM.forward(C, w, ids).toFloatArray();

            Map<Site, Shape> shapes = new EnumMap<>(Site.class);
            Map<String, float[]> values = new HashMap<>();
            Map<Site, Integer> calls = new EnumMap<>(Site.class);
            Taps taps = new Taps();
            for (Site s : Site.values()) {
                taps.on(s, (site, layer, v) -> {
                    shapes.put(site, v.getShape());
                    calls.merge(site, 1, Integer::sum);
                    values.put(site + "@" + layer, v.toFloatArray());
                });
            }
            float[] tapped = DecoderLM.forward(C, w, ids, null, null, taps).toFloatArray();
            assertArrayEquals(plain, tapped, "listening must not change the logits");

            assertEquals(new Shape(2, 5, 24), shapes.get(Site.LAYER_IN));
            assertEquals(new Shape(2, 5, 24), shapes.get(Site.INPUT_NORM_OUT));
            assertEquals(new Shape(2, 5, 6, 8), shapes.get(Site.ATTN_HEADS_OUT));
            assertEquals(new Shape(2, 5, 24), shapes.get(Site.POST_ATTN_NORM_OUT));
            assertEquals(new Shape(2, 5, 36), shapes.get(Site.MLP_ACT));
            assertEquals(new Shape(2, 5, 24), shapes.get(Site.LAYER_OUT));
            assertEquals(new Shape(2, 5, 24), shapes.get(Site.FINAL_NORM_OUT));
            for (Site s : Site.values()) {
                assertEquals(s == Site.FINAL_NORM_OUT ? 1 : C.numHiddenLayers(), calls.get(s), s.toString());
            }
            // The residual stream is continuous: layer l's output is layer l+1's input.
            for (int l = 0; l + 1 < C.numHiddenLayers(); l++) {
                assertArrayEquals(values.get("LAYER_OUT@" + l), values.get("LAYER_IN@" + (l + 1)));
            }
            // lm_head applied to the final-norm tap reproduces the logits.
            NDArray fin = m.create(values.get("FINAL_NORM_OUT@-1"), new Shape(2, 5, 24));
            float[] re = Weights.linear(fin, w.get("lm_head.weight"), null).toFloatArray();
            for (int i = 0; i < re.length; i++) {
                assertEquals(plain[i], re[i], 1e-5);
            }
        }
    }

    @Test
    void noneIsImmutableAndWantsNothing() {
        for (Site s : Site.values()) {
            assertTrue(!Taps.NONE.wants(s));
        }
        assertTrue(Taps.NONE.isEmpty());
        try {
            Taps.NONE.on(Site.MLP_ACT, (a, b, c) -> {});
            throw new AssertionError("expected IllegalStateException");
        } catch (IllegalStateException expected) {
            assertTrue(expected.getMessage().contains("immutable"));
        }
    }
}
