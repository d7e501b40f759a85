package ai.minitron.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.TestConfigs;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.Weights;
import ai.minitron.tokenize.Tokenizer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** acc vs acc_norm, the pair encoding rule, and scores equal to a direct LmLoss reference, batched or not. */
class MultipleChoiceTest {
    static final ModelConfig TINY = TestConfigs.evalLlama();


    static TokenScorer.Score ll(double v) {
        return new TokenScorer.Score(v, 1, false);
    }

    @Test
    void accAndAccNormDisagreeWhenTheLongChoiceIsLikelierPerCharacter() {
        // choice 0 "No." (3 chars): ll -6 -> -2.0/char; choice 1 "The whale swam away." (20 chars): ll -9 -> -0.45/char
        MultipleChoice.ItemResult item = new MultipleChoice.ItemResult("hand", 1, List.of(ll(-6), ll(-9)),
                MultipleChoice.charLengths(List.of("No.", "The whale swam away.")));
        assertArrayEquals(new int[] {3, 20}, item.charLengths());
        assertEquals(0, item.predicted());
        assertEquals(1, item.predictedNorm());
        assertFalse(item.correct());
        assertTrue(item.correctNorm());
        // and the other way round: a short gold choice, likelier in total, unlikelier per character
        MultipleChoice.ItemResult other = new MultipleChoice.ItemResult("hand2", 0, List.of(ll(-6), ll(-9)),
                new int[] {3, 20});
        MultipleChoice.Result r = new MultipleChoice.Result("toy", List.of(item, other));
        assertEquals(0.5, r.acc().value());
        assertEquals(0.5, r.accNorm().value());
        assertEquals(Math.sqrt(0.25 / 1), r.acc().stderr(), 1e-12); // lm-eval: sample stddev / sqrt(n)
        List<EvalRecord> rows = r.records("toy.jsonl");
        assertEquals("acc", rows.get(0).metric());
        assertEquals("acc_norm", rows.get(1).metric());
        assertTrue(rows.get(1).protocol().contains("len(choice_i) in characters"));
        // characters are code points, as Python's len
        assertArrayEquals(new int[] {4, 1}, MultipleChoice.charLengths(List.of("café", "\uD83D\uDC33")));
        assertEquals(0, MultipleChoice.argmax(new double[] {-1, -1, -2}), "ties go to the first, as numpy");
    }

    @Test
    void trailingContextWhitespaceMovesToTheContinuationAndThePartsAreEncodedSeparately() {
        try (Tokenizer tok = Tokenizer.load(EvalFixtures.tokenizer())) {
            assertArrayEquals(new String[] {"Call me", "  Ishmael"}, PairEncoding.moveTrailingWhitespace("Call me ", " Ishmael"));
            long[][] pair = PairEncoding.encode(tok, "Call me ", "Ishmael", 0);
            assertArrayEquals(tok.encode("Call me"), pair[0]);
            assertArrayEquals(tok.encode(" Ishmael"), pair[1]);
            long[][] empty = PairEncoding.encode(tok, "", " Ishmael", 0);
            assertArrayEquals(new long[] {0}, empty[0], "an empty context is the end-of-text token");
        }
    }

    @Test
    void scoresAreTheLogLikelihoodsOfTheContinuationsBatchedOrNot() {
        List<MultipleChoiceItem> items = List.of(
                new MultipleChoiceItem("a", "Call me", List.of("Ishmael.", "Queequeg, the harpooneer.", "whale"), 0),
                new MultipleChoiceItem("b", "The sea was ", List.of("calm", "a great grey mystery"), 1),
                new MultipleChoiceItem("c", "", List.of("Moby-Dick", "Ahab"), 1, " "));
        try (NDManager m = NDManager.newBaseManager(); Tokenizer tok = Tokenizer.load(EvalFixtures.tokenizer())) {
            Weights w = Weights.random(TINY, m, 21, DataType.FLOAT32);
            MultipleChoice.Result one = MultipleChoice.evaluate(TINY, w, m, tok, "toy", items, 1, null);
            MultipleChoice.Result batched = MultipleChoice.evaluate(TINY, w, m, tok, "toy", items, 5, null);
            for (int i = 0; i < items.size(); i++) {
                MultipleChoiceItem item = items.get(i);
                double[] got = batched.items().get(i).logLikelihoods();
                for (int k = 0; k < item.choices().size(); k++) {
                    // reference: encode context and " " + choice separately, one forward pass, LmLoss
                    long[][] pair = PairEncoding.encode(tok, item.context(), " " + item.choices().get(k), 0);
                    long[] row = new long[pair[0].length + pair[1].length];
                    System.arraycopy(pair[0], 0, row, 0, pair[0].length);
                    System.arraycopy(pair[1], 0, row, pair[0].length, pair[1].length);
                    double ref = EvalFixtures.referenceLogLikelihood(TINY, w, m, row, pair[0].length);
                    assertEquals(ref, got[k], 1e-4, "item " + i + " choice " + k);
                    assertEquals(one.items().get(i).logLikelihoods()[k], got[k], 1e-5, "batched vs one-by-one");
                    assertEquals(pair[1].length, batched.items().get(i).scores().get(k).tokens());
                }
                assertEquals(MultipleChoice.argmax(got), batched.items().get(i).predicted());
            }
            assertEquals(one.acc(), batched.acc());
            assertEquals(one.accNorm(), batched.accNorm());
            assertEquals(7, batched.details().rowCount());
        }
    }
}
