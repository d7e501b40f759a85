package ai.minitron.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.minitron.TestConfigs;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.Weights;
import ai.minitron.tokenize.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.Table;

/**
 * Generation end to end on random-weight models: batching with left padding changes nothing,
 * greedy is deterministic, seeds reproduce, top-k = 1 is greedy, each stop condition stops where it
 * should, and streamed deltas add up to the final text without ever showing a stop string.
 */
class GeneratorTest {
    static NDManager manager;
    static Tokenizer tokenizer;
    static ModelConfig textConfig;
    static Weights textWeights;
    static Generator text;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
        tokenizer = Tokenizer.load(TestModels.TOKENIZER);
        textConfig = TestConfigs.textLlama(64);
        textWeights = TestModels.weights(textConfig, manager, 5);
        text = new Generator(textConfig, textWeights, tokenizer);
    }

    @AfterAll
    static void tearDown() {
        textWeights.close();
        tokenizer.close();
        manager.close();
    }

    static GenerationConfig noEos(int maxNew) {
        return GenerationConfig.defaults().withMaxNewTokens(maxNew).withEosTokenIds();
    }

    @Test
    void batchedLeftPaddedGenerationEqualsOneByOne() {
        ModelConfig c = TestConfigs.llamaGqa3Biased();
        try (Weights w = TestModels.weights(c, manager, 3)) {
            Generator g = new Generator(c, w, null);
            List<long[]> prompts = List.of(TestModels.tokens(3, c.vocabSize(), 1), TestModels.tokens(9, c.vocabSize(), 2),
                    TestModels.tokens(5, c.vocabSize(), 3));
            for (GenerationConfig cfg : List.of(noEos(5), noEos(5).withTemperature(1).withSeed(4))) {
                List<Generation> batched = g.generateTokens(prompts, cfg.withBatchSize(3), TokenListener.NONE);
                for (int r = 0; r < prompts.size(); r++) {
                    Generation alone = g.generateTokens(List.of(prompts.get(r)), cfg, TokenListener.NONE).get(0);
                    assertArrayEquals(alone.tokens(), batched.get(r).tokens(), cfg.sampling().describe() + ", row " + r);
                    assertArrayEquals(prompts.get(r), batched.get(r).promptTokens());
                }
            }
        }
    }

    @Test
    void aStopConditionOnTheTextStopsARowAtTheFirstTokenThatMeetsIt() {
        long[] prompt = tokenizer.encode("Once upon a time");
        Generation free = text.generateTokens(List.of(prompt), noEos(12), TokenListener.NONE).get(0);
        // stop once the text reaches 3 characters: the first prefix of the free run's tokens whose text does
        int expected = -1;
        for (int n = 1; n <= free.tokens().length && expected < 0; n++) {
            if (tokenizer.decode(Arrays.copyOf(free.tokens(), n)).length() >= 3) {
                expected = n;
            }
        }
        assertTrue(expected > 0 && expected < free.tokens().length, "the free run passes 3 characters early: " + free.text());
        Generation stopped = text.generateTokens(List.of(prompt), noEos(12), TokenListener.NONE, t -> t.length() >= 3).get(0);
        assertEquals(StopReason.STOP_CONDITION, stopped.stopReason());
        assertArrayEquals(Arrays.copyOf(free.tokens(), expected), stopped.tokens());
        assertEquals(tokenizer.decode(stopped.tokens()), stopped.text(), "the text is kept whole");
        Generator noTokenizer = new Generator(textConfig, textWeights, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> noTokenizer.generateTokens(List.of(prompt), noEos(4), null, t -> true));
        assertTrue(e.getMessage().contains("needs a tokenizer"), e.getMessage());
    }

    @Test
    void greedyIsDeterministicAndSeedsReproduce() {
        GenerationConfig greedy = noEos(6);
        long[] g = text.generate("Once upon a time", greedy).tokens();
        assertArrayEquals(g, text.generate("Once upon a time", greedy).tokens());
        GenerationConfig sample = noEos(6).withTemperature(1.0).withTopP(0.95);
        long[] s1 = text.generate("Once upon a time", sample.withSeed(1)).tokens();
        assertArrayEquals(s1, text.generate("Once upon a time", sample.withSeed(1)).tokens(), "same seed");
        assertFalse(Arrays.equals(s1, text.generate("Once upon a time", sample.withSeed(2)).tokens()), "other seed");
        long[] topK1 = text.generate("Once upon a time", noEos(6).withTemperature(0.7).withTopK(1).withSeed(9)).tokens();
        assertArrayEquals(g, topK1, "top-k = 1 is greedy");
    }

    @Test
    void stopsOnEosIdKeepingItAsTheLastTokenButNotInTheText() {
        long[] free = text.generate("The cat", noEos(10)).tokens();
        long eos = free[5];
        int first = indexOf(free, eos);
        Generation g = text.generate("The cat", noEos(10).withEosTokenIds(eos, 8191));
        assertEquals(StopReason.EOS, g.stopReason());
        assertArrayEquals(Arrays.copyOf(free, first + 1), g.tokens());
        assertEquals(tokenizer.decode(Arrays.copyOf(free, first)), g.text());
        // by default the tokenizer's EOS id stops generation
        assertEquals(List.of(), GenerationConfig.defaults().withEosTokenIds().eosTokenIds());
        assertEquals(null, GenerationConfig.defaults().eosTokenIds());
    }

    @Test
    void stopsOnMaxNewTokensAndAtTheContextLength() {
        Generation g = text.generate("A", noEos(7));
        assertEquals(StopReason.MAX_NEW_TOKENS, g.stopReason());
        assertEquals(7, g.newTokens());
        long[] longPrompt = TestModels.tokens(60, textConfig.vocabSize(), 8); // context is 64
        Generation full = text.generateTokens(List.of(longPrompt), noEos(20), TokenListener.NONE).get(0);
        assertEquals(StopReason.CONTEXT_FULL, full.stopReason());
        assertEquals(4, full.newTokens());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> text.generateTokens(
                List.of(TestModels.tokens(64, textConfig.vocabSize(), 8)), noEos(2), TokenListener.NONE));
        assertTrue(e.getMessage().contains("max_position_embeddings = 64"), e.getMessage());
    }

    @Test
    void stopsOnAStopStringAndNeverStreamsIt() {
        Generation free = text.generate("In the morning", noEos(24));
        String full = free.text();
        String stop = null;
        for (int at = full.length() / 2; at < full.length() - 3 && stop == null; at++) {
            String cand = full.substring(at, at + 3);
            if (full.indexOf(cand) > 0 && !cand.contains("\uFFFD")) {
                stop = cand;
            }
        }
        assertTrue(stop != null, "need a stop string inside: " + full);
        int cut = full.indexOf(stop);
        StringBuilder streamed = new StringBuilder();
        Generation g = text.generate("In the morning", noEos(24).withStopStrings(stop, "never appears \u2603"),
                streamed::append);
        assertEquals(StopReason.STOP_STRING, g.stopReason());
        assertEquals(full.substring(0, cut), g.text());
        assertEquals(g.text(), streamed.toString(), "streamed deltas add up to the text, stop string excluded");
        assertTrue(g.newTokens() < free.newTokens());
        assertArrayEquals(Arrays.copyOf(free.tokens(), g.newTokens()), g.tokens());
        assertTrue(tokenizer.decode(g.tokens()).contains(stop), "the last token completed the stop string");
        assertFalse(tokenizer.decode(Arrays.copyOf(g.tokens(), g.newTokens() - 1)).contains(stop));
    }

    @Test
    void streamingDeliversEveryTokenPerRowAndDeltasAddUpToEachText() {
        List<String> prompts = List.of("Hello", "It was a dark and stormy night", "Why");
        StringBuilder[] sb = {new StringBuilder(), new StringBuilder(), new StringBuilder()};
        List<List<Long>> seen = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        List<Generation> finished = Arrays.asList(new Generation[3]);
        List<Generation> out = text.generate(prompts, noEos(6).withTemperature(0.9).withSeed(3).withBatchSize(2),
                new TokenListener() {
                    @Override
                    public void onToken(int row, long token, String delta) {
                        sb[row].append(delta);
                        seen.get(row).add(token);
                    }

                    @Override
                    public void onFinish(int row, Generation result) {
                        finished.set(row, result);
                    }
                });
        for (int r = 0; r < 3; r++) {
            assertEquals(out.get(r).text(), sb[r].toString(), "row " + r);
            assertEquals(out.get(r).text(), tokenizer.decode(out.get(r).tokens()));
            assertArrayEquals(out.get(r).tokens(), seen.get(r).stream().mapToLong(Long::longValue).toArray());
            assertEquals(out.get(r), finished.get(r));
            assertEquals(prompts.get(r), out.get(r).prompt());
            assertTrue(out.get(r).tokensPerSecond() > 0);
        }
    }

    @Test
    void sideBySideTableHasOneRowPerPrompt() {
        ModelConfig sc = textConfig.withShape(textConfig.hiddenSize(), 32, 1, 2, 1);
        try (Weights sw = TestModels.weights(sc, manager, 6)) {
            Generator student = new Generator(sc, sw, tokenizer);
            List<String> prompts = List.of("Hello there", "Why is the sky blue?");
            GenerationConfig cfg = noEos(3);
            Table t = Comparison.sideBySide("teacher", text, "student", student, prompts, cfg);
            assertEquals(List.of("prompt", "teacher text", "student text", "teacher tokens", "student tokens",
                    "teacher tokens/s", "student tokens/s"), t.columnNames());
            assertEquals(2, t.rowCount());
            assertEquals("Why is the sky blue?", t.stringColumn("prompt").get(1));
            assertEquals(student.generate("Hello there", cfg).text(), t.stringColumn("student text").get(0));
            assertEquals(text.generate("Why is the sky blue?", cfg).text(), t.stringColumn("teacher text").get(1));
            assertEquals(3, t.intColumn("teacher tokens").get(0));
            assertTrue(t.doubleColumn("student tokens/s").get(1) > 0);
        }
    }

    @Test
    void badRequestsAreClearErrors() {
        Generator noTok = new Generator(textConfig, textWeights, null);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> noTok.generateTokens(List.of(new long[] {1}),
                noEos(2).withStopStrings("x"), null)).getMessage().contains("stop strings need a tokenizer"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> text.generateTokens(List.of(new long[0]),
                noEos(2), null)).getMessage().contains("prompt 0 is empty"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> text.generateTokens(List.of(new long[] {9000}),
                noEos(2), null)).getMessage().contains("vocab_size = 8192"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> noEos(0)).getMessage().contains("max new tokens"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> noEos(1).withStopStrings("")).getMessage()
                .contains("stop string"));
    }

    static int indexOf(long[] a, long x) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == x) return i;
        }
        return -1;
    }
}
