package ai.minitron.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.TestConfigs;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.Weights;
import ai.minitron.tokenize.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The word-boundary rule, passage selection on hand-made passages, and batched greedy decoding. */
class LastWordTest {
    static final ModelConfig TINY = TestConfigs.evalLlama();


    @Test
    void aWordIsCompleteAtTheFirstNonWordCharacterAfterIt() {
        assertEquals("whale", LastWord.wordIfComplete(" whale,"));
        assertEquals("whale", LastWord.wordIfComplete(" whale and"));
        assertNull(LastWord.wordIfComplete(" whale"), "the word may go on");
        assertNull(LastWord.wordIfComplete(" wh"));
        assertNull(LastWord.wordIfComplete(""));
        assertNull(LastWord.wordIfComplete(" \n "), "only whitespace so far");
        assertEquals("", LastWord.wordIfComplete("ale "), "no leading space: the model extended the context's last word");
        assertEquals("", LastWord.wordIfComplete(" \u2014sea"), "first non-space character is not a word character");
        assertEquals("sperm-whale's", LastWord.wordIfComplete(" sperm-whale's."), "hyphens and apostrophes are word characters");
        assertEquals("Ahab\u2019s", LastWord.wordIfComplete("\nAhab\u2019s!"));
        assertNull(LastWord.wordIfComplete(" caf\uFFFD"), "an incomplete UTF-8 sequence is not a boundary");
        assertEquals("whale", LastWord.wordSoFar(" whale"));
        assertEquals("", LastWord.wordSoFar(" "));
        assertEquals("", LastWord.wordSoFar("x"));
        assertEquals("whales", LastWord.prediction(" whales"));
        assertEquals("whale", LastWord.prediction(" whale. The"));
    }

    static String words(int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : " ").append("word").append(i);
        }
        return sb.toString();
    }

    @Test
    void passagesEndingInAPlainWordBecomeItems() {
        String ctx = words(45);
        LastWordItem item = TaskBuilder.lastWordOf(ctx + " the whale.\u201D", "x");
        assertEquals("whale", item.target());
        assertEquals(ctx + " the", item.context());
        assertEquals("Ahab", TaskBuilder.lastWordOf(ctx + " said Ahab!", "x").target());
        assertNull(TaskBuilder.lastWordOf(ctx + " the whale's.", "x"), "apostrophe in the last token");
        assertNull(TaskBuilder.lastWordOf(ctx + " the sperm-whale.", "x"), "hyphen in the last token");
        assertNull(TaskBuilder.lastWordOf(ctx + " \u201CWhale!\u201D", "x"), "leading quote");
        assertNull(TaskBuilder.lastWordOf(ctx + " chapter 42.", "x"), "digits");
        assertNull(TaskBuilder.lastWordOf(ctx + " I.", "x"), "one letter");
        assertNull(TaskBuilder.lastWordOf(words(20) + " the whale.", "x"), "fewer than 40 context words");
        assertNull(TaskBuilder.lastWordOf(words(201) + " the whale.", "x"), "more than 200 context words");
        assertEquals(40, Passages.words(TaskBuilder.lastWordOf(words(39) + " the whale.", "x").context()));
    }

    @Test
    void batchedGreedyDecodingEqualsAOneRowArgmaxLoop() {
        try (NDManager m = NDManager.newBaseManager(); Tokenizer tok = Tokenizer.load(EvalFixtures.tokenizer())) {
            Weights w = Weights.random(TINY, m, 8, DataType.FLOAT32);
            List<long[]> contexts = List.of(tok.encode("Call me"), tok.encode("It was a dark and stormy night, and the"),
                    tok.encode("Whale"));
            List<String> batched = LastWord.greedyGenerate(TINY, w, m, tok, contexts, 3);
            for (int i = 0; i < contexts.size(); i++) {
                long[] row = contexts.get(i);
                List<Long> gen = new ArrayList<>();
                String text = "";
                for (int step = 0; step < LastWord.MAX_NEW_TOKENS; step++) {
                    NDArray logits = DecoderLM.forward(TINY, w, m.create(new long[][] {row}));
                    long next = logits.get(0).get(row.length - 1).argMax().toType(DataType.INT64, false).getLong();
                    row = Arrays.copyOf(row, row.length + 1);
                    row[row.length - 1] = next;
                    if (next == tok.eosTokenId()) {
                        break;
                    }
                    gen.add(next);
                    text = tok.decode(gen.stream().mapToLong(Long::longValue).toArray());
                    if (LastWord.wordIfComplete(text) != null) {
                        break;
                    }
                }
                assertEquals(text, batched.get(i), "context " + i);
            }
            List<LastWordItem> items = List.of(new LastWordItem("a", "Call me", "Ishmael"),
                    new LastWordItem("b", "It was a dark and stormy night, and the", "sea"));
            LastWord.Result r = LastWord.evaluate(TINY, w, m, tok, "toy", items, 2, null);
            assertEquals(2, r.items().size());
            assertEquals(LastWord.prediction(batched.get(0)), r.items().get(0).prediction());
            double ref = 0;
            for (LastWordItem it : items) {
                long[][] pair = PairEncoding.encode(tok, it.context(), " " + it.target(), 0);
                long[] all = new long[pair[0].length + pair[1].length];
                System.arraycopy(pair[0], 0, all, 0, pair[0].length);
                System.arraycopy(pair[1], 0, all, pair[0].length, pair[1].length);
                ref += EvalFixtures.referenceLogLikelihood(TINY, w, m, all, pair[0].length);
            }
            assertEquals(Math.exp(-ref / 2), r.perplexity(), 1e-4 * r.perplexity());
            assertEquals(3, r.records("toy.jsonl").size());
            assertTrue(r.records("toy.jsonl").get(0).protocol().contains("greedy decoding"));
        }
    }
}
