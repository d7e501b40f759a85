package ai.minitron.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.Weights;
import org.junit.jupiter.api.Test;

class PerplexityTest {
    static final ModelConfig C = ModelConfig.builder(Architecture.LLAMA).vocabSize(30).hiddenSize(16)
            .intermediateSize(24).numHiddenLayers(2).numAttentionHeads(4).numKeyValueHeads(2).headDim(4)
            .maxPositionEmbeddings(32).normEps(1e-5).build();

    @Test
    void windowedEqualsTheSumOverWindowsComputedByHand() {
        long[] tokens = new long[23];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = (i * 7 + 3) % 30;
        }
        int seqLen = 5; // 22 predicted tokens: 4 full windows + 1 partial of 2
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(C, m, 5, DataType.FLOAT32);
            Perplexity.Result r = Perplexity.windowed(C, w, m, tokens, seqLen, 3, null);
            assertEquals(22, r.tokensScored());
            assertEquals(5, r.windows());
            assertEquals(5, Perplexity.windowCount(tokens.length, seqLen));
            double sum = 0;
            for (int start = 0; start + 1 < tokens.length; start += seqLen) {
                int len = Math.min(seqLen, tokens.length - 1 - start);
                long[] in = java.util.Arrays.copyOfRange(tokens, start, start + len);
                NDArray logp = DecoderLM.forward(C, w, m.create(new long[][] {in})).logSoftmax(-1);
                float[] lp = logp.toFloatArray();
                for (int t = 0; t < len; t++) {
                    sum -= lp[t * 30 + (int) tokens[start + t + 1]];
                }
            }
            assertEquals(sum / 22, r.meanNll(), 1e-5);
            assertEquals(Math.exp(sum / 22), r.perplexity(), 1e-3);
            assertTrue(r.protocol().contains("non-overlapping windows of 5"));
        }
    }

    @Test
    void aModelWithUniformOutputHasThePerplexityOfItsVocabularyUnderEveryProtocol() {
        // a zero final-norm weight makes every hidden state, hence every logit, zero: p = 1/V at every position
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(C, m, 6, DataType.FLOAT32);
            w.get("model.norm.weight").muli(0);
            long[] tokens = new long[40];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = (i * 11 + 1) % 30;
            }
            assertEquals(30.0, Perplexity.windowed(C, w, m, tokens, 8, 2, null).perplexity(), 1e-3);
            assertEquals(30.0, Perplexity.sliding(C, w, m, tokens, 8, 3, 2, null).perplexity(), 1e-3);
            assertEquals(Math.log(30), Perplexity.windowed(C, w, m, tokens, 8, 2, null).meanNll(), 1e-5);
        }
    }

    @Test
    void seqLenBeyondContextIsRefused() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(C, m, 5, DataType.FLOAT32);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Perplexity.windowed(C, w, m, new long[100], 64, 1, null));
            assertTrue(e.getMessage().contains("max_position_embeddings"), e.getMessage());
        }
    }
}
