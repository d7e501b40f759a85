package ai.minitron.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.Weights;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Batched, right-padded scoring equals one-by-one scoring and a direct LmLoss reference. */
class TokenScorerTest {
    static final ModelConfig C = PerplexityTest.C; // vocab 30, context 32

    @Test
    void batchedScoringEqualsOneByOneAndTheReference() {
        SplittableRandom rng = new SplittableRandom(7);
        List<TokenScorer.Request> rows = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            long[] t = new long[2 + rng.nextInt(25)]; // 2..26 tokens: lots of padding in every batch
            for (int j = 0; j < t.length; j++) {
                t[j] = rng.nextInt(30);
            }
            rows.add(new TokenScorer.Request(t, 1 + rng.nextInt(t.length - 1)));
        }
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(C, m, 3, DataType.FLOAT32);
            List<TokenScorer.Score> one = TokenScorer.scoreEach(C, w, m, rows);
            List<TokenScorer.Score> batched = TokenScorer.score(C, w, m, rows, 4, null);
            List<TokenScorer.Score> all = TokenScorer.score(C, w, m, rows, 64, null);
            for (int i = 0; i < rows.size(); i++) {
                double ref = EvalFixtures.referenceLogLikelihood(C, w, m, rows.get(i).tokens(), rows.get(i).from());
                assertEquals(ref, one.get(i).logLikelihood(), 1e-5, "row " + i);
                assertEquals(one.get(i).logLikelihood(), batched.get(i).logLikelihood(), 1e-5, "row " + i);
                assertEquals(one.get(i).logLikelihood(), all.get(i).logLikelihood(), 1e-5, "row " + i);
                assertEquals(one.get(i).greedy(), batched.get(i).greedy(), "row " + i);
                assertEquals(rows.get(i).scored(), batched.get(i).tokens());
            }
        }
    }

    @Test
    void tokenDetailsAddUpToTheScoresAndRankTheAlternatives() {
        SplittableRandom rng = new SplittableRandom(11);
        List<long[]> seqs = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            long[] t = new long[1 + rng.nextInt(26)]; // 1..26 tokens, right-padded together
            for (int j = 0; j < t.length; j++) {
                t[j] = rng.nextInt(30);
            }
            seqs.add(t);
        }
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(C, m, 5, DataType.FLOAT32);
            List<TokenScorer.TokenDetail> d = TokenScorer.tokenDetails(C, w, m, seqs, 4);
            for (int i = 0; i < seqs.size(); i++) {
                long[] x = seqs.get(i);
                TokenScorer.TokenDetail di = d.get(i);
                assertEquals(x.length - 1, di.tokenLogprobs().length);
                assertEquals(x.length, di.topIds().length);
                if (x.length > 1) {
                    double sum = 0;
                    for (float f : di.tokenLogprobs()) {
                        sum += f;
                    }
                    double ref = EvalFixtures.referenceLogLikelihood(C, w, m, x, 1);
                    assertEquals(ref, sum, 1e-4, "row " + i);
                }
                for (int j = 0; j < x.length; j++) {
                    for (int q = 1; q < 4; q++) {
                        assertTrue(di.topLogprobs()[j][q - 1] >= di.topLogprobs()[j][q], "alternatives most likely first");
                    }
                    if (j + 1 < x.length) {
                        assertTrue(di.tokenLogprobs()[j] <= di.topLogprobs()[j][0], "nothing beats the top-1");
                    }
                }
                // the top-1 after the whole sequence is the greedy next token
                assertEquals(TokenScorer.greedyNext(C, w, m, List.of(x))[0], di.topIds()[x.length - 1][0], "row " + i);
            }
        }
    }

    @Test
    void greedyNextIsTheArgmaxAtEachRowsLastPosition() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(C, m, 4, DataType.FLOAT32);
            List<long[]> prefixes = List.of(new long[] {1, 2, 3}, new long[] {4}, new long[] {5, 6, 7, 8, 9, 10});
            long[] batched = TokenScorer.greedyNext(C, w, m, prefixes);
            for (int i = 0; i < prefixes.size(); i++) {
                long[] one = TokenScorer.greedyNext(C, w, m, List.of(prefixes.get(i)));
                assertEquals(one[0], batched[i]);
                // the argmax really is the most likely token of an unpadded forward pass
                long[] p = prefixes.get(i);
                float[] logits = DecoderLM.forward(C, w, m.create(new long[][] {p})).get(0).get(p.length - 1).toFloatArray();
                long arg = 0;
                for (int v = 1; v < logits.length; v++) {
                    if (logits[v] > logits[(int) arg]) {
                        arg = v;
                    }
                }
                assertEquals(arg, batched[i]);
            }
        }
    }

    @Test
    void contextIsCutFromTheLeftWhenThePairDoesNotFit() {
        TokenScorer.Request r = TokenScorer.Request.of(new long[] {1, 2, 3, 4, 5}, new long[] {6, 7}, 4);
        assertArrayEquals(new long[] {3, 4, 5, 6, 7}, r.tokens()); // reads 4 tokens, scores 6 and 7
        assertEquals(3, r.from());
        TokenScorer.Request fits = TokenScorer.Request.of(new long[] {1, 2}, new long[] {6, 7}, 4);
        assertArrayEquals(new long[] {1, 2, 6, 7}, fits.tokens());
        assertEquals(2, fits.from());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TokenScorer.Request.of(new long[] {1}, new long[] {1, 2, 3, 4, 5}, 4));
        assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
    }
}
