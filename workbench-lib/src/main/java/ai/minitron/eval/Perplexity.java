package ai.minitron.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.LmLoss;
import ai.minitron.model.Weights;
import ai.minitron.tokenize.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Perplexity under three protocols, each stated in every result it produces, so a number can be
 * compared with the literature it claims to follow:
 *
 * <ul>
 *   <li><b>token</b> ({@link #windowed}): the token stream is cut into consecutive windows of
 *       {@code seqLen + 1} tokens that overlap by one token (stride {@code seqLen}); within a window
 *       the model reads tokens 0..seqLen-1 and is scored on predicting tokens 1..seqLen, so every
 *       token after the first is predicted exactly once, with the context available inside its own
 *       window only (no carry-over). A final partial window is scored too.
 *       PPL = exp(total NLL / tokens scored).
 *   <li><b>sliding</b> ({@link #sliding}): Hugging Face's "perplexity of fixed-length models"
 *       (transformers docs, {@code perplexity.md}): windows of up to {@code seqLen} input tokens
 *       start every {@code stride} tokens; each window scores only the tokens no earlier window
 *       scored, so every token after the first is scored once, with up to {@code seqLen} tokens of
 *       context (at least {@code seqLen - stride + 1} outside the first window). With
 *       {@code stride = seqLen} it is exactly the token protocol. Unlike the HF snippet (which
 *       weights each window's mean loss by its target count), we sum exact per-token NLLs.
 *   <li><b>document</b> ({@link #documents}): lm-evaluation-harness's {@code loglikelihood_rolling}
 *       (as in its wikitext task): each document is scored on its own, prefixed by the end-of-text
 *       token so that its first token is predicted too, in disjoint windows of {@code seqLen}
 *       predicted tokens, the last window taking a full {@code seqLen} tokens of left context
 *       ({@code get_rolling_token_windows} with {@code context_len = 1}). Reported as
 *       word_perplexity = exp(total NLL / words), byte_perplexity = exp(total NLL / UTF-8 bytes),
 *       bits_per_byte = total NLL / bytes / ln 2, with words = whitespace-separated tokens of the
 *       document text (Python's {@code str.split()}, as the corpus manifest counts them), which
 *       makes numbers comparable across tokenizers.
 * </ul>
 *
 * The token protocol batches its equal-length windows directly; sliding and document windows go
 * through {@link TokenScorer} (right-padded, attention-masked). Every forward pass runs in its own
 * {@code NDScope}.
 */
public final class Perplexity {
    private Perplexity() {}

    /** The outcome with the protocol that produced it. */
    public record Result(String protocol, long tokensScored, int windows, double meanNll) {
        public double perplexity() {
            return Math.exp(meanNll);
        }

        /** Bits per token. */
        public double bitsPerToken() {
            return meanNll / Math.log(2);
        }
    }

    public static String protocol(int seqLen) {
        return "token-level, non-overlapping windows of " + seqLen + " predicted tokens (stride " + seqLen
                + ", no context carried across windows), PPL = exp(mean NLL over all predicted tokens)";
    }

    /**
     * The forward passes of the token protocol: consecutive windows of {@code seqLen} inputs and their
     * {@code seqLen} next-token targets, {@code batchSize} full windows per batch, then the final partial window
     * (if any) alone.
     *
     * @param inputs [n][len] input ids
     * @param targets [n][len] next-token ids
     */
    public record WindowBatch(long[][] inputs, long[][] targets) implements java.io.Serializable {
        /** Tokens scored: every target. */
        public long scored() {
            return (long) inputs.length * inputs[0].length;
        }
    }

    /** Total NLL (float64, nats) of each batch, in batch order: how {@link #windowed} computes. */
    @FunctionalInterface
    public interface BatchNll {
        double[] nll(List<WindowBatch> batches);
    }

    /** {@link BatchNll} in this process. */
    public static BatchNll local(ModelConfig c, Weights w, NDManager m, IntConsumer onWindow) {
        return batches -> {
            double[] out = new double[batches.size()];
            int done = 0;
            for (int i = 0; i < out.length; i++) {
                out[i] = batchNll(c, w, m, batches.get(i));
                done += batches.get(i).inputs().length;
                if (onWindow != null) {
                    onWindow.accept(done);
                }
            }
            return out;
        };
    }

    /** One forward pass of the token protocol: Σ NLL of every target of the batch. */
    public static double batchNll(ModelConfig c, Weights w, NDManager m, WindowBatch b) {
        return sumNll(c, w, m, b.inputs(), b.targets());
    }

    /** The token protocol's batches of a stream (see {@link WindowBatch}). */
    public static List<WindowBatch> windowBatches(ModelConfig c, long[] tokens, int seqLen, int batchSize) {
        if (seqLen < 1) {
            throw new IllegalArgumentException("seq-len must be >= 1, got " + seqLen);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        if (seqLen > c.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("seq-len " + seqLen + " exceeds the model's context (max_position_embeddings = "
                    + c.maxPositionEmbeddings() + ")");
        }
        if (tokens.length < 2) {
            throw new IllegalArgumentException("need at least 2 tokens to measure perplexity, got " + tokens.length);
        }
        int full = (tokens.length - 1) / seqLen;
        int rest = (tokens.length - 1) % seqLen;
        List<WindowBatch> out = new ArrayList<>();
        for (int start = 0; start < full; start += batchSize) {
            int n = Math.min(batchSize, full - start);
            long[][] in = new long[n][seqLen];
            long[][] tg = new long[n][seqLen];
            for (int i = 0; i < n; i++) {
                int off = (start + i) * seqLen;
                System.arraycopy(tokens, off, in[i], 0, seqLen);
                System.arraycopy(tokens, off + 1, tg[i], 0, seqLen);
            }
            out.add(new WindowBatch(in, tg));
        }
        if (rest > 0) {
            long[][] in = {new long[rest]};
            long[][] tg = {new long[rest]};
            System.arraycopy(tokens, full * seqLen, in[0], 0, rest);
            System.arraycopy(tokens, full * seqLen + 1, tg[0], 0, rest);
            out.add(new WindowBatch(in, tg));
        }
        return out;
    }

    /**
     * @param tokens the whole token stream
     * @param onWindow called after each window with the number of windows done (for progress bars)
     */
    public static Result windowed(ModelConfig c, Weights w, NDManager m, long[] tokens, int seqLen, int batchSize,
            IntConsumer onWindow) {
        return windowed(c, tokens, seqLen, batchSize, local(c, w, m, onWindow));
    }

    /** The token protocol with the batches' NLL computed by {@code nll} (summed here in batch order). */
    public static Result windowed(ModelConfig c, long[] tokens, int seqLen, int batchSize, BatchNll nll) {
        List<WindowBatch> batches = windowBatches(c, tokens, seqLen, batchSize);
        double[] sums = nll.nll(batches);
        double total = 0;
        long scored = 0;
        int windows = 0;
        for (int i = 0; i < batches.size(); i++) {
            total += sums[i];
            scored += batches.get(i).scored();
            windows += batches.get(i).inputs().length;
        }
        return new Result(protocol(seqLen), scored, windows, total / scored);
    }

    /** Number of windows {@link #windowed} will score. */
    public static int windowCount(int tokens, int seqLen) {
        return (tokens - 1) / seqLen + ((tokens - 1) % seqLen > 0 ? 1 : 0);
    }

    // ---------------------------------------------------------------------------------------------
    // sliding windows (Hugging Face convention)

    public static String slidingProtocol(int seqLen, int stride) {
        return "token-level, sliding windows of up to " + seqLen + " context tokens advanced by " + stride
                + " (HF 'perplexity of fixed-length models'; each token scored once, with >= " + (seqLen - stride + 1)
                + " tokens of context outside the first window), PPL = exp(mean NLL over all predicted tokens)";
    }

    /** Number of windows {@link #sliding} will score. */
    public static int slidingWindowCount(int tokens, int seqLen, int stride) {
        checkSliding(seqLen, stride);
        int last = tokens - 1; // index of the last token
        if (last <= seqLen) {
            return 1;
        }
        return (last - seqLen + stride - 1) / stride + 1;
    }

    /**
     * The windows of the sliding protocol as scoring requests: window k reads
     * {@code tokens[k*stride .. k*stride + seqLen)} and scores its targets that lie beyond the
     * previous window's last target.
     */
    public static List<TokenScorer.Request> slidingWindows(long[] tokens, int seqLen, int stride) {
        checkSliding(seqLen, stride);
        if (tokens.length < 2) {
            throw new IllegalArgumentException("need at least 2 tokens to measure perplexity, got " + tokens.length);
        }
        List<TokenScorer.Request> out = new ArrayList<>();
        int prevEnd = 0; // index of the last token scored so far (token 0 is never scored)
        for (int begin = 0; ; begin += stride) {
            int end = Math.min(begin + seqLen, tokens.length - 1); // last target index of this window
            long[] x = Arrays.copyOfRange(tokens, begin, end + 1); // reads x[0..len-1), predicts x[1..len)
            out.add(new TokenScorer.Request(x, prevEnd + 1 - begin));
            prevEnd = end;
            if (end == tokens.length - 1) {
                return out;
            }
        }
    }

    /**
     * Token-level perplexity with sliding windows (see the class comment).
     *
     * @param stride 1 <= stride <= seqLen; stride = seqLen gives {@link #windowed}'s numbers
     * @param onWindow called after each batch with the number of windows done, or null
     */
    public static Result sliding(ModelConfig c, Weights w, NDManager m, long[] tokens, int seqLen, int stride,
            int batchSize, IntConsumer onWindow) {
        return sliding(c, tokens, seqLen, stride, TokenScorer.local(c, w, m, batchSize, onWindow));
    }

    /** The sliding protocol with the windows scored by {@code scorer}. */
    public static Result sliding(ModelConfig c, long[] tokens, int seqLen, int stride, TokenScorer.Scorer scorer) {
        checkContext(c, seqLen);
        List<TokenScorer.Request> windows = slidingWindows(tokens, seqLen, stride);
        List<TokenScorer.Score> scores = scorer.score(windows);
        double nll = 0;
        long scored = 0;
        for (TokenScorer.Score s : scores) {
            nll += s.nll();
            scored += s.tokens();
        }
        return new Result(slidingProtocol(seqLen, stride), scored, windows.size(), nll / scored);
    }

    private static void checkSliding(int seqLen, int stride) {
        if (seqLen < 1) {
            throw new IllegalArgumentException("seq-len must be >= 1, got " + seqLen);
        }
        if (stride < 1 || stride > seqLen) {
            throw new IllegalArgumentException("stride must be in [1, seq-len = " + seqLen + "], got " + stride);
        }
    }

    private static void checkContext(ModelConfig c, int seqLen) {
        if (seqLen < 1) {
            throw new IllegalArgumentException("seq-len must be >= 1, got " + seqLen);
        }
        if (seqLen > c.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("seq-len " + seqLen + " exceeds the model's context (max_position_embeddings = "
                    + c.maxPositionEmbeddings() + ")");
        }
    }

    // ---------------------------------------------------------------------------------------------
    // whole documents (lm-evaluation-harness loglikelihood_rolling)

    /**
     * Whole-document results: total NLL over every token of every document, and the word and byte
     * counts it is normalised by.
     */
    public record DocumentResult(String protocol, int documents, int windows, long tokens, long words, long bytes,
            double nll) {
        /** exp(total NLL / words): lm-eval's {@code word_perplexity}. */
        public double wordPerplexity() {
            return Math.exp(nll / words);
        }

        /** exp(total NLL / UTF-8 bytes): lm-eval's {@code byte_perplexity}. */
        public double bytePerplexity() {
            return Math.exp(nll / bytes);
        }

        /** total NLL / bytes / ln 2: lm-eval's {@code bits_per_byte}. */
        public double bitsPerByte() {
            return nll / bytes / Math.log(2);
        }

        /** exp(total NLL / tokens): depends on the tokenizer, unlike the three above. */
        public double tokenPerplexity() {
            return Math.exp(nll / tokens);
        }
    }

    public static String documentProtocol(int seqLen) {
        return "document-level (lm-eval loglikelihood_rolling): each document scored whole, prefixed by end-of-text,"
                + " disjoint windows of " + seqLen + " predicted tokens (last window with full left context);"
                + " word_perplexity = exp(NLL/words), byte_perplexity = exp(NLL/UTF-8 bytes),"
                + " bits_per_byte = NLL/bytes/ln 2, words = whitespace-separated";
    }

    /**
     * lm-eval's rolling windows of one document ({@code get_rolling_token_windows(doc, prefix,
     * seqLen, context_len = 1)}): the stream is {@code [prefix] + doc}; every document token is
     * scored exactly once.
     */
    public static List<TokenScorer.Request> rollingWindows(long[] doc, long prefixToken, int seqLen) {
        if (seqLen < 1) {
            throw new IllegalArgumentException("seq-len must be >= 1, got " + seqLen);
        }
        List<TokenScorer.Request> out = new ArrayList<>();
        if (doc.length == 0) {
            return out;
        }
        long[] s = new long[doc.length + 1]; // s[i + 1] = doc[i]
        s[0] = prefixToken;
        System.arraycopy(doc, 0, s, 1, doc.length);
        int first = Math.min(seqLen, doc.length);
        out.add(new TokenScorer.Request(Arrays.copyOfRange(s, 0, first + 1), 1));
        int predicted = first;
        while (predicted < doc.length) {
            int pred = Math.min(doc.length - predicted, seqLen);
            int end = predicted + pred; // doc[predicted..end) scored, i.e. s[predicted+1..end+1)
            // reads s[end-seqLen .. end), i.e. the seqLen tokens before the last target
            out.add(new TokenScorer.Request(Arrays.copyOfRange(s, end - seqLen, end + 1), seqLen - pred + 1));
            predicted = end;
        }
        return out;
    }

    /**
     * Document-level perplexity (see the class comment).
     *
     * @param texts the documents' text (for word and byte counts)
     * @param tokens the same documents encoded without special tokens
     * @param prefixToken the end-of-text (or beginning-of-sequence) token that conditions each document's first token
     */
    public static DocumentResult documents(ModelConfig c, Weights w, NDManager m, List<String> texts, List<long[]> tokens,
            long prefixToken, int seqLen, int batchSize, IntConsumer onWindow) {
        return documents(c, texts, tokens, prefixToken, seqLen, TokenScorer.local(c, w, m, batchSize, onWindow));
    }

    /** The document protocol with the windows scored by {@code scorer}. */
    public static DocumentResult documents(ModelConfig c, List<String> texts, List<long[]> tokens, long prefixToken,
            int seqLen, TokenScorer.Scorer scorer) {
        checkContext(c, seqLen);
        if (texts.size() != tokens.size()) {
            throw new IllegalArgumentException(texts.size() + " document texts but " + tokens.size() + " token rows");
        }
        List<TokenScorer.Request> windows = new ArrayList<>();
        long words = 0;
        long bytes = 0;
        for (int d = 0; d < texts.size(); d++) {
            windows.addAll(rollingWindows(tokens.get(d), prefixToken, seqLen));
            words += countWords(texts.get(d));
            bytes += texts.get(d).getBytes(StandardCharsets.UTF_8).length;
        }
        if (windows.isEmpty() || words == 0) {
            throw new IllegalArgumentException("no text to score: all documents are empty");
        }
        double nll = 0;
        long scored = 0;
        for (TokenScorer.Score s : scorer.score(windows)) {
            nll += s.nll();
            scored += s.tokens();
        }
        return new DocumentResult(documentProtocol(seqLen), texts.size(), windows.size(), scored, words, bytes, nll);
    }

    /**
     * Document-level perplexity of texts encoded with {@code tok}; the prefix is the tokenizer's
     * end-of-text token, else its beginning-of-sequence token.
     */
    public static DocumentResult documents(ModelConfig c, Weights w, NDManager m, List<String> texts, Tokenizer tok,
            int seqLen, int batchSize, IntConsumer onWindow) {
        List<long[]> tokens = new ArrayList<>(texts.size());
        for (String t : texts) {
            tokens.add(tok.encode(t));
        }
        return documents(c, w, m, texts, tokens, prefixToken(tok), seqLen, batchSize, onWindow);
    }

    /** Number of windows {@link #documents} will score for these token rows. */
    public static int documentWindowCount(List<long[]> tokens, int seqLen) {
        int n = 0;
        for (long[] t : tokens) {
            n += (t.length + seqLen - 1) / seqLen;
        }
        return n;
    }

    /** The token lm-eval prefixes a document with: end-of-text, else beginning-of-sequence. */
    public static long prefixToken(Tokenizer tok) {
        Integer id = tok.eosTokenId() != null ? tok.eosTokenId() : tok.bosTokenId();
        if (id == null) {
            throw new IllegalArgumentException(tok.path() + ": the tokenizer has no end-of-text or beginning-of-sequence"
                    + " token to prefix documents with (document protocol)");
        }
        return id;
    }

    /** Words as Python's {@code str.split()} counts them: maximal runs of non-whitespace characters. */
    public static int countWords(String text) {
        int words = 0;
        boolean inWord = false;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            boolean space = Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
            if (!space && !inWord) {
                words++;
            }
            inWord = !space;
            i += Character.charCount(cp);
        }
        return words;
    }

    private static double sumNll(ModelConfig c, Weights w, NDManager m, long[][] in, long[][] tg) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray ids = m.create(in);
            NDArray targets = m.create(tg);
            NDArray logits = DecoderLM.forward(c, w, ids);
            return LmLoss.tokenNll(logits, targets).toType(DataType.FLOAT64, false).sum().getDouble();
        }
    }
}
