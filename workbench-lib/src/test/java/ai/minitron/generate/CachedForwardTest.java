package ai.minitron.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.TestConfigs;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.Weights;
import ai.minitron.tap.Taps;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The KV cache is an optimisation, not a different model: at every step of cached decoding the
 * logits equal DecoderLM.forward recomputed over the whole sequence (max |Δ| <= 1e-4), for GQA with
 * several query heads per KV head, q/k/v biases, partial rotary and LayerNorm1p, with and without
 * left padding.
 */
class CachedForwardTest {
    static final double TOL = 1e-4;

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("llama_gqa3_biased", TestConfigs.llamaGqa3Biased()),
                Arguments.of("qwen2_qkv_bias", TestConfigs.qwen2()),
                Arguments.of("nemotron_partial_rotary", TestConfigs.nemotronGqa()));
    }

    /*
     * The reference is one DecoderLM.forward over the whole final sequence: attention is causal, so its
     * logits at position i are exactly what a full recompute after step i would produce.
     */

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void cachedDecodingMatchesFullRecomputeAtEveryStep(String name, ModelConfig c) {
        try (NDManager m = NDManager.newBaseManager(); Weights w = TestModels.weights(c, m, 11)) {
            int b = 2;
            int p = 5;
            int steps = 4;
            long[][] seq = new long[b][];
            for (int r = 0; r < b; r++) {
                seq[r] = TestModels.tokens(p + steps, c.vocabSize(), 100 + r);
            }
            try (KvCache cache = new KvCache(c, m, b, p + steps, DataType.FLOAT32)) {
                NDArray full = DecoderLM.forward(c, w, m.create(seq)); // [B, P+steps, V]
                assertTrue(full.sub(full.mean()).square().mean().sqrt().getFloat() > 0.5,
                        "logits should spread (else the tolerance proves nothing)");
                // prefill: every prompt position, not only the last
                NDArray cached = CachedForward.forward(c, w, cache, m.create(columns(seq, 0, p)), positions(b, 0, p),
                        causal(m, 0, p, b), false);
                assertClose(full.get(":, :{}, :", p), cached, name + " prefill");
                for (int s = 0; s < steps; s++) {
                    NDArray step = CachedForward.forward(c, w, cache, m.create(columns(seq, p + s, p + s + 1)),
                            positions(b, p + s, 1), null, true);
                    assertClose(full.get(":, {}:{}, :", p + s, p + s + 1), step, name + " step " + s);
                }
                assertEquals(p + steps, cache.length());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void leftPaddedBatchMatchesMaskedFullRecompute(String name, ModelConfig c) {
        try (NDManager m = NDManager.newBaseManager(); Weights w = TestModels.weights(c, m, 12)) {
            int[] lens = {2, 6, 4};
            int b = lens.length;
            int p = 6;
            int steps = 4;
            long[][] seq = new long[b][p + steps];
            long[][] mask = new long[b][p + steps];
            boolean[][] valid = new boolean[b][p + steps];
            long[][] pos = new long[b][p];
            for (int r = 0; r < b; r++) {
                long[] tokens = TestModels.tokens(lens[r] + steps, c.vocabSize(), 200 + r);
                int pad = p - lens[r];
                for (int j = 0; j < p + steps; j++) {
                    seq[r][j] = j < pad ? 0 : tokens[j - pad];
                    mask[r][j] = j < pad ? 0 : 1;
                    valid[r][j] = j >= pad;
                    if (j < p) {
                        pos[r][j] = Math.max(0, j - pad);
                    }
                }
            }
            try (KvCache cache = new KvCache(c, m, b, p + steps, DataType.FLOAT32)) {
                NDArray full = DecoderLM.forward(c, w, m.create(seq), m.create(mask), null, Taps.NONE);
                NDArray cached = CachedForward.forward(c, w, cache, m.create(columns(seq, 0, p)), pos,
                        CachedForward.maskBias(m, 0, p, valid, b, DataType.FLOAT32), false);
                // the last prompt column is real in every row (left padding)
                assertClose(full.get(":, {}:{}, :", p - 1, p), cached.get(":, -1:, :"), name + " padded prefill");
                for (int s = 0; s < steps; s++) {
                    long[][] nextPos = new long[b][1];
                    for (int r = 0; r < b; r++) {
                        nextPos[r][0] = lens[r] + s;
                    }
                    NDArray step = CachedForward.forward(c, w, cache, m.create(columns(seq, p + s, p + s + 1)), nextPos,
                            CachedForward.maskBias(m, cache.length(), 1, valid, b, DataType.FLOAT32), true);
                    assertClose(full.get(":, {}:{}, :", p + s, p + s + 1), step, name + " padded step " + s);
                }
            }
        }
    }

    @Test
    void cacheRefusesToOverflowItsCapacity() {
        ModelConfig c = TestConfigs.llamaGqa3Biased();
        try (NDManager m = NDManager.newBaseManager(); Weights w = TestModels.weights(c, m, 1);
                KvCache cache = new KvCache(c, m, 1, 3, DataType.FLOAT32)) {
            CachedForward.forward(c, w, cache, m.create(new long[][] {{1, 2, 3}}), positions(1, 0, 3),
                    causal(m, 0, 3, 1), true);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> CachedForward.forward(c, w, cache,
                    m.create(new long[][] {{4}}), positions(1, 3, 1), null, true));
            assertTrue(e.getMessage().contains("capacity 3"), e.getMessage());
            assertEquals(2L * 2 * 1 * 2 * 3 * 8 * 4, cache.bytes()); // layers * {k,v} * B * nKV * cap * D * 4 bytes
        }
    }

    static long[][] positions(int b, int start, int t) {
        long[][] p = new long[b][t];
        for (int r = 0; r < b; r++) {
            for (int j = 0; j < t; j++) p[r][j] = start + j;
        }
        return p;
    }

    static NDArray causal(NDManager m, int past, int t, int b) {
        return CachedForward.maskBias(m, past, t, null, b, DataType.FLOAT32);
    }

    static long[][] columns(long[][] a, int from, int to) {
        long[][] out = new long[a.length][];
        for (int r = 0; r < a.length; r++) {
            out[r] = java.util.Arrays.copyOfRange(a[r], from, to);
        }
        return out;
    }

    static void assertClose(NDArray expected, NDArray actual, String what) {
        assertEquals(expected.getShape(), actual.getShape(), what + ": shape");
        double max = expected.sub(actual).abs().max().getFloat();
        assertTrue(max <= TOL, what + ": max |Δlogit| = " + max + " > " + TOL);
    }
}
