package ai.minitron.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.data.Corpus;
import ai.minitron.model.Weights;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The sliding and document protocols against hand-computed references (one forward pass per scored token). */
class PerplexityProtocolsTest {
    static final ModelConfig C = PerplexityTest.C; // vocab 30, context 32
    static NDManager m;
    static Weights w;

    @BeforeAll
    static void setUp() {
        m = NDManager.newBaseManager();
        w = Weights.random(C, m, 11, DataType.FLOAT32);
    }

    @AfterAll
    static void tearDown() {
        m.close();
    }

    static long[] stream(int n) {
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
            t[i] = (i * 11 + 5) % 30;
        }
        return t;
    }

    @Test
    void slidingWithStrideEqualToSeqLenIsTheTokenProtocol() {
        long[] tokens = stream(23);
        Perplexity.Result token = Perplexity.windowed(C, w, m, tokens, 5, 2, null);
        Perplexity.Result sliding = Perplexity.sliding(C, w, m, tokens, 5, 5, 2, null);
        assertEquals(token.tokensScored(), sliding.tokensScored());
        assertEquals(token.windows(), sliding.windows());
        assertEquals(token.meanNll(), sliding.meanNll(), 1e-6);
    }

    @Test
    void slidingScoresEachTokenOnceWithTheContextOfItsWindow() {
        long[] tokens = stream(23);
        int seqLen = 8;
        int stride = 3;
        // Reference, from the rule alone: token i (i >= 1) is scored by the first window k whose last
        // target min(k*stride + seqLen, n-1) reaches it, with context tokens[k*stride .. i). A causal
        // model gives every such context in one unpadded pass over tokens[k*stride ..]: one pass per k.
        double nll = 0;
        java.util.Map<Integer, float[]> passes = new java.util.HashMap<>();
        for (int i = 1; i < tokens.length; i++) {
            int k = Math.max(0, (i - seqLen + stride - 1) / stride);
            int begin = k * stride;
            float[] p = passes.computeIfAbsent(k, kk -> EvalFixtures.referenceNlls(C, w, m,
                    Arrays.copyOfRange(tokens, begin, Math.min(begin + seqLen + 1, tokens.length))));
            nll += p[i - begin - 1]; // position i - begin - 1 predicts tokens[i] from tokens[begin .. i)
        }
        assertEquals(6, passes.size());
        Perplexity.Result r = Perplexity.sliding(C, w, m, tokens, seqLen, stride, 3, null);
        assertEquals(22, r.tokensScored());
        assertEquals(6, r.windows()); // begins 0,3,6,9,12,15: the last reaches token 22
        assertEquals(6, Perplexity.slidingWindowCount(tokens.length, seqLen, stride));
        assertEquals(nll / 22, r.meanNll(), 1e-5);
        assertTrue(r.protocol().contains("sliding windows of up to 8") && r.protocol().contains("advanced by 3"), r.protocol());
        assertThrows(IllegalArgumentException.class, () -> Perplexity.sliding(C, w, m, tokens, 8, 9, 1, null));
    }

    @Test
    void rollingWindowsAreLmEvalsGetRollingTokenWindows() {
        // lm-eval: get_rolling_token_windows([1..10], prefix_token=0, max_seq_len=4, context_len=1) yields
        // ([0,1,2,3],[1,2,3,4]), ([4,5,6,7],[5,6,7,8]), ([6,7,8,9],[9,10])
        long[] doc = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        List<TokenScorer.Request> ws = Perplexity.rollingWindows(doc, 0, 4);
        assertEquals(3, ws.size());
        assertArrayEquals(new long[] {0, 1, 2, 3, 4}, ws.get(0).tokens());
        assertEquals(1, ws.get(0).from());
        assertArrayEquals(new long[] {4, 5, 6, 7, 8}, ws.get(1).tokens());
        assertEquals(1, ws.get(1).from());
        assertArrayEquals(new long[] {6, 7, 8, 9, 10}, ws.get(2).tokens());
        assertEquals(3, ws.get(2).from()); // scores 9 and 10 only
        assertEquals(1, Perplexity.rollingWindows(new long[] {7, 8}, 0, 4).size());
        assertEquals(0, Perplexity.rollingWindows(new long[0], 0, 4).size());
    }

    @Test
    void documentProtocolIsTheSumOverDocumentTokensNormalisedByWordsAndBytes() {
        int seqLen = 4;
        long prefix = 0;
        List<long[]> docs = List.of(new long[] {3, 9, 27, 1, 4, 16, 2, 8, 5, 7}, new long[] {12, 6});
        List<String> texts = List.of("The whale  swam\nfar.", "naïve café"); // 4 + 2 words; 20 + 12 bytes
        double nll = 0;
        for (long[] d : docs) {
            long[] s = new long[d.length + 1];
            s[0] = prefix;
            System.arraycopy(d, 0, s, 1, d.length);
            for (int win = 0; win * seqLen < d.length; win++) {
                // lm-eval's windows: doc tokens [win*L, end) are scored; the first window reads [prefix] + doc,
                // a later one the L tokens before its end (s[i + 1] = d[i])
                int end = Math.min((win + 1) * seqLen, d.length); // exclusive, in doc indices
                int ctxStart = win == 0 ? 0 : end - seqLen; // in s indices
                float[] p = EvalFixtures.referenceNlls(C, w, m, Arrays.copyOfRange(s, ctxStart, end + 1));
                for (int j = win * seqLen; j < end; j++) {
                    nll += p[j - ctxStart]; // predicts s[j + 1] = d[j] from s[ctxStart .. j]
                }
            }
        }
        Perplexity.DocumentResult r = Perplexity.documents(C, w, m, texts, docs, prefix, seqLen, 2, null);
        assertEquals(2, r.documents());
        assertEquals(4, r.windows());
        assertEquals(12, r.tokens());
        assertEquals(6, r.words());
        assertEquals(32, r.bytes());
        assertEquals(nll, r.nll(), 1e-4);
        assertEquals(Math.exp(nll / 6), r.wordPerplexity(), 1e-4 * r.wordPerplexity());
        assertEquals(Math.exp(nll / 32), r.bytePerplexity(), 1e-5);
        assertEquals(nll / 32 / Math.log(2), r.bitsPerByte(), 1e-5);
        assertEquals(Math.exp(nll / 12), r.tokenPerplexity(), 1e-4);
        assertTrue(r.protocol().contains("loglikelihood_rolling"), r.protocol());
    }

    @Test
    void wordsAndBytesMatchTheCorpusManifest() throws Exception {
        // the manifest counts words with Python's str.split() and bytes as UTF-8, per document
        JsonObject manifest = JsonParser.parseString(Files.readString(EvalFixtures.data().resolve("corpus/manifest.json")))
                .getAsJsonObject();
        long words = 0;
        long bytes = 0;
        for (JsonElement e : manifest.getAsJsonObject("splits").getAsJsonObject("test").getAsJsonArray("documents")) {
            JsonObject d = e.getAsJsonObject();
            if (d.get("in_slice").getAsBoolean()) {
                words += d.get("words").getAsLong();
                bytes += d.get("bytes").getAsLong();
            }
        }
        long ourWords = 0;
        long ourBytes = 0;
        for (String doc : Corpus.read(EvalFixtures.data().resolve("corpus/test.txt")).documents()) {
            ourWords += Perplexity.countWords(doc);
            ourBytes += doc.getBytes(StandardCharsets.UTF_8).length;
        }
        assertEquals(70_127, words);
        assertEquals(words, ourWords);
        assertEquals(bytes, ourBytes);
        assertEquals(3, Perplexity.countWords("  a\u00a0b\tc  "));
        assertEquals(0, Perplexity.countWords(" \n "));
    }
}
