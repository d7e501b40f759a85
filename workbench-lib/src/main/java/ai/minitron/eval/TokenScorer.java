package ai.minitron.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.LmLoss;
import ai.minitron.model.Weights;
import ai.minitron.tap.Taps;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Batched log-likelihood scoring, the one primitive every evaluation protocol here is built on
 * (lm-evaluation-harness calls it {@code loglikelihood}).
 *
 * <p>A {@link Request} is a token sequence {@code x[0..n)} and the index {@code from} of the first
 * token to score: the model reads {@code x[0..n-1)} and we sum {@code log p(x[i] | x[0..i))} for
 * {@code i} in {@code [from, n)}. Rows of different lengths share a forward pass: they are sorted by
 * length (longest first, as lm-eval does, so a batch wastes little padding), right-padded to the
 * longest row of the batch with an attention mask, and results are returned in request order.
 * Right padding cannot change a real token's logits (attention is causal and padding keys are
 * masked; positions are {@code 0..len-1} for every row), so batched results equal one-by-one
 * scoring up to float32 summation order (tests: within 1e-5). The output layer runs only at the
 * positions that are scored. One {@code NDScope} per forward pass.
 */
public final class TokenScorer {
    private TokenScorer() {}

    /**
     * @param tokens the whole sequence, context then continuation
     * @param from index in {@code tokens} of the first scored token, 1 <= from < tokens.length
     */
    public record Request(long[] tokens, int from) implements java.io.Serializable {
        public Request {
            if (tokens.length < 2) {
                throw new IllegalArgumentException("a scoring request needs at least 2 tokens, got " + tokens.length);
            }
            if (from < 1 || from >= tokens.length) {
                throw new IllegalArgumentException("first scored token " + from + " outside [1, " + tokens.length + ")");
            }
        }

        /** Tokens the model reads: {@code tokens.length - 1}. */
        public int inputLength() {
            return tokens.length - 1;
        }

        /** Number of scored tokens. */
        public int scored() {
            return tokens.length - from;
        }

        /**
         * Context then continuation, both already encoded, scoring the continuation; when the two
         * do not fit the model's window of {@code maxInput} tokens the context is cut from the left
         * (lm-eval: {@code (context + continuation)[-(max_length + 1):][:-1]}).
         */
        public static Request of(long[] context, long[] continuation, int maxInput) {
            if (context.length == 0) {
                throw new IllegalArgumentException("empty context: prefix it with the end-of-text token (as lm-eval does)");
            }
            if (continuation.length == 0) {
                throw new IllegalArgumentException("empty continuation: nothing to score");
            }
            if (continuation.length > maxInput) {
                throw new IllegalArgumentException("continuation of " + continuation.length
                        + " tokens does not fit the model's context of " + maxInput + " tokens");
            }
            int keepCtx = Math.min(context.length, maxInput + 1 - continuation.length);
            long[] all = new long[keepCtx + continuation.length]; // [ctx tail | continuation]
            System.arraycopy(context, context.length - keepCtx, all, 0, keepCtx);
            System.arraycopy(continuation, 0, all, keepCtx, continuation.length);
            return new Request(all, keepCtx);
        }
    }

    /**
     * @param logLikelihood sum of log-probabilities of the scored tokens (nats, <= 0)
     * @param tokens number of scored tokens
     * @param greedy true when every scored token is the argmax of its distribution (lm-eval's {@code is_greedy})
     */
    public record Score(double logLikelihood, int tokens, boolean greedy) implements java.io.Serializable {
        public double nll() {
            return -logLikelihood;
        }
    }

    /**
     * Scoring as a function: one score per request, in request order. {@link #score} is the one in this
     * process; another may score elsewhere (e.g. on a cluster, module {@code spark}) batch by batch of
     * {@link #order}, which gives the same forward passes and so the same bits.
     */
    @FunctionalInterface
    public interface Scorer {
        List<Score> score(List<Request> requests);
    }

    /** The scorer of this process: {@link #score} with {@code batchSize} rows per forward pass. */
    public static Scorer local(ModelConfig c, Weights w, NDManager m, int batchSize, IntConsumer onRows) {
        return requests -> score(c, w, m, requests, batchSize, onRows);
    }

    /**
     * The order requests are batched in: longest first, ties in request order (so the batching is
     * deterministic); batch k holds {@code order[k * batchSize ..]}.
     */
    public static int[] order(List<Request> requests) {
        Integer[] order = new Integer[requests.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -requests.get(i).inputLength()));
        return Arrays.stream(order).mapToInt(Integer::intValue).toArray();
    }

    /** One-by-one scoring (batch size 1): the reference the batched path is tested against. */
    public static List<Score> scoreEach(ModelConfig c, Weights w, NDManager m, List<Request> requests) {
        return score(c, w, m, requests, 1, null);
    }

    /**
     * Scores every request, {@code batchSize} rows per forward pass.
     *
     * @param onRows called after each batch with the number of rows done so far (progress), or null
     * @return one score per request, in request order
     */
    public static List<Score> score(ModelConfig c, Weights w, NDManager m, List<Request> requests, int batchSize,
            IntConsumer onRows) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        for (Request r : requests) {
            if (r.inputLength() > c.maxPositionEmbeddings()) {
                throw new IllegalArgumentException("a scoring row reads " + r.inputLength()
                        + " tokens, beyond the model's context (max_position_embeddings = " + c.maxPositionEmbeddings() + ")");
            }
        }
        int[] order = order(requests);
        Score[] out = new Score[requests.size()];
        int done = 0;
        for (int start = 0; start < order.length; start += batchSize) {
            int n = Math.min(batchSize, order.length - start);
            List<Request> batch = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                batch.add(requests.get(order[start + i]));
            }
            Score[] s = scoreBatch(c, w, m, batch);
            for (int i = 0; i < n; i++) {
                out[order[start + i]] = s[i];
            }
            done += n;
            if (onRows != null) {
                onRows.accept(done);
            }
        }
        return Arrays.asList(out);
    }

    /** One forward pass over right-padded rows. */
    private static Score[] scoreBatch(ModelConfig c, Weights w, NDManager m, List<Request> batch) {
        int b = batch.size();
        int t = 0;
        for (Request r : batch) {
            t = Math.max(t, r.inputLength());
        }
        long[][] in = new long[b][t];  // [B, T] right-padded with token 0 (masked)
        long[][] tg = new long[b][t];  // [B, T] next tokens (0 under padding, never read)
        long[][] mask = new long[b][t];
        for (int i = 0; i < b; i++) {
            long[] x = batch.get(i).tokens();
            int len = x.length - 1;
            System.arraycopy(x, 0, in[i], 0, len);
            System.arraycopy(x, 1, tg[i], 0, len);
            Arrays.fill(mask[i], 0, len, 1L);
        }
        // the positions whose prediction is scored: row i, input positions from-1 .. len-1
        int n = 0;
        for (Request r : batch) {
            n += r.scored();
        }
        long[] rows = new long[n];   // flat index i * t + j into [B*T]
        long[] picked = new long[n]; // the scored token at each
        int k = 0;
        for (int i = 0; i < b; i++) {
            Request r = batch.get(i);
            for (int j = r.from() - 1; j < r.inputLength(); j++) {
                rows[k] = (long) i * t + j;
                picked[k++] = tg[i][j];
            }
        }
        float[] logp;
        boolean[] argmaxHit;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray attn = b == 1 ? null : m.create(mask); // a single row has no padding
            NDArray logits = logitsAt(c, w, m.create(in), attn, m.create(rows)); // [N, V]
            NDArray targets = m.create(picked).reshape(1, n); // [1, N]
            logp = LmLoss.tokenNll(logits.expandDims(0), targets).neg().toType(DataType.FLOAT32, false).toFloatArray(); // [N]
            argmaxHit = logits.argMax(-1).eq(targets.reshape(n)).toBooleanArray(); // [N]
        }
        Score[] out = new Score[b];
        int at = 0;
        for (int i = 0; i < b; i++) {
            Request r = batch.get(i);
            double ll = 0;
            boolean greedy = true;
            for (int j = 0; j < r.scored(); j++, at++) {
                ll += logp[at];
                greedy &= argmaxHit[at];
            }
            out[i] = new Score(ll, r.scored(), greedy);
        }
        return out;
    }

    /**
     * The greedy next token after each prefix: argmax of the model's distribution at the prefix's
     * last position, all prefixes in one right-padded forward pass.
     *
     * @param prefixes rows of 1..max_position_embeddings tokens
     * @return [rows] argmax token ids
     */
    public static long[] greedyNext(ModelConfig c, Weights w, NDManager m, List<long[]> prefixes) {
        int b = prefixes.size();
        int t = 0;
        for (long[] p : prefixes) {
            if (p.length < 1 || p.length > c.maxPositionEmbeddings()) {
                throw new IllegalArgumentException("prefix of " + p.length + " tokens outside [1, max_position_embeddings = "
                        + c.maxPositionEmbeddings() + "]");
            }
            t = Math.max(t, p.length);
        }
        long[][] in = new long[b][t];
        long[][] mask = new long[b][t];
        for (int i = 0; i < b; i++) {
            System.arraycopy(prefixes.get(i), 0, in[i], 0, prefixes.get(i).length);
            Arrays.fill(mask[i], 0, prefixes.get(i).length, 1L);
        }
        long[] last = new long[b];
        for (int i = 0; i < b; i++) {
            last[i] = (long) i * t + prefixes.get(i).length - 1;
        }
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray attn = b == 1 ? null : m.create(mask);
            NDArray logits = logitsAt(c, w, m.create(in), attn, m.create(last)); // [B, V]
            return logits.argMax(-1).toType(DataType.INT64, false).toLongArray();
        }
    }

    /**
     * Per-token detail of one sequence {@code x[0..n)} (what an OpenAI-style {@code logprobs} answer needs).
     *
     * @param tokenLogprobs [n - 1]: {@code log p(x[i + 1] | x[0..i])}, i.e. entry {@code i} belongs to token {@code i + 1}
     * @param topIds [n][k]: the k most likely tokens after {@code x[0..i]}, most likely first; row {@code n - 1} is the
     *     distribution of the token that would follow the sequence
     * @param topLogprobs [n][k]: their log-probabilities (the same log-softmax as {@code tokenLogprobs}, so a token
     *     that is the argmax has exactly the top-1 value)
     */
    public record TokenDetail(float[] tokenLogprobs, long[][] topIds, float[][] topLogprobs) {}

    /**
     * Log-probability of every token of every sequence given the ones before it, and the top {@code k}
     * alternatives at every position (the last position included: the distribution of the next token);
     * sequences are right-padded into one forward pass, as {@link #score}.
     *
     * @param sequences rows of 1..max_position_embeddings tokens
     * @param k alternatives per position, 0..vocab
     */
    public static List<TokenDetail> tokenDetails(ModelConfig c, Weights w, NDManager m, List<long[]> sequences, int k) {
        int b = sequences.size();
        int t = 0;
        for (long[] x : sequences) {
            if (x.length < 1 || x.length > c.maxPositionEmbeddings()) {
                throw new IllegalArgumentException("sequence of " + x.length + " tokens outside [1, max_position_embeddings = "
                        + c.maxPositionEmbeddings() + "]");
            }
            t = Math.max(t, x.length);
        }
        if (k < 0 || k > c.vocabSize()) {
            throw new IllegalArgumentException("top-k " + k + " outside [0, vocab_size = " + c.vocabSize() + "]");
        }
        long[][] in = new long[b][t];  // [B, T] right-padded with token 0 (masked)
        long[][] mask = new long[b][t];
        int n = 0;
        for (int i = 0; i < b; i++) {
            long[] x = sequences.get(i);
            System.arraycopy(x, 0, in[i], 0, x.length);
            Arrays.fill(mask[i], 0, x.length, 1L);
            n += x.length;
        }
        long[] flat = new long[n];   // every real position, row by row
        long[] next = new long[n];   // the token that follows it (0 after a row's last token: not read)
        int at = 0;
        for (int i = 0; i < b; i++) {
            long[] x = sequences.get(i);
            for (int j = 0; j < x.length; j++) {
                flat[at] = (long) i * t + j;
                next[at++] = j + 1 < x.length ? x[j + 1] : 0;
            }
        }
        float[] picked;
        float[] topV = new float[0];
        long[] topI = new long[0];
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray attn = b == 1 ? null : m.create(mask);
            NDArray logits = logitsAt(c, w, m.create(in), attn, m.create(flat)); // [N, V]
            NDArray logp = logits.toType(DataType.FLOAT32, false).logSoftmax(-1); // [N, V]
            picked = logp.gather(m.create(next).reshape(n, 1), -1).reshape(n).toFloatArray(); // [N]
            if (k > 0) {
                var top = logp.topK(k, -1, true, true); // values [N, k], indices [N, k]
                topV = top.get(0).toFloatArray();
                topI = top.get(1).toType(DataType.INT64, false).toLongArray();
            }
        }
        List<TokenDetail> out = new ArrayList<>(b);
        at = 0;
        for (long[] x : sequences) {
            float[] tl = new float[x.length - 1];
            long[][] ids = new long[x.length][k];
            float[][] lp = new float[x.length][k];
            for (int j = 0; j < x.length; j++, at++) {
                if (j + 1 < x.length) {
                    tl[j] = picked[at];
                }
                for (int q = 0; q < k; q++) {
                    ids[j][q] = topI[at * k + q];
                    lp[j][q] = topV[at * k + q];
                }
            }
            out.add(new TokenDetail(tl, ids, lp));
        }
        return out;
    }

    /**
     * Logits [N, V] at N flat positions ({@code row * T + position}) of a [B, T] batch: the decoder
     * runs on every position, the output layer only on those we read (it is a large part of a small
     * model's cost). Same numbers as {@link DecoderLM#forward} at those positions.
     */
    static NDArray logitsAt(ModelConfig c, Weights w, NDArray ids, NDArray attentionMask, NDArray flatPositions) {
        NDArray x = DecoderLM.hiddenStates(c, w, ids, attentionMask, null, Taps.NONE); // [B,T,H]
        long h = x.getShape().get(2);
        NDArray idx = flatPositions.reshape(-1, 1).repeat(1, h); // [N,H]
        NDArray rows = x.reshape(-1, h).gather(idx, 0); // [N,H]
        return DecoderLM.head(c, w, rows); // [N,V]
    }
}
