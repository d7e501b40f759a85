package ai.minitron.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.LmLoss;
import ai.minitron.model.Weights;
import java.util.function.IntConsumer;

/**
 * Token-level perplexity over fixed-length, non-overlapping windows.
 *
 * <p>Protocol (stated in every result): the token stream is cut into consecutive windows of
 * {@code seqLen + 1} tokens that overlap by one token (stride {@code seqLen}); within a window the
 * model reads tokens 0..seqLen-1 and is scored on predicting tokens 1..seqLen, so every token after
 * the first is predicted exactly once, with the context available inside its own window only (no
 * carry-over). A final partial window is scored too. PPL = exp(total NLL / tokens scored).
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
     * @param tokens the whole token stream
     * @param onWindow called after each window with the number of windows done (for progress bars)
     */
    public static Result windowed(ModelConfig c, Weights w, NDManager m, long[] tokens, int seqLen, int batchSize,
            IntConsumer onWindow) {
        if (seqLen < 1) {
            throw new IllegalArgumentException("seq-len must be >= 1, got " + seqLen);
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
        double nll = 0;
        long scored = 0;
        int done = 0;
        for (int start = 0; start < full; start += batchSize) {
            int n = Math.min(batchSize, full - start);
            long[][] in = new long[n][seqLen];
            long[][] tg = new long[n][seqLen];
            for (int i = 0; i < n; i++) {
                int off = (start + i) * seqLen;
                System.arraycopy(tokens, off, in[i], 0, seqLen);
                System.arraycopy(tokens, off + 1, tg[i], 0, seqLen);
            }
            nll += sumNll(c, w, m, in, tg);
            scored += (long) n * seqLen;
            done += n;
            if (onWindow != null) {
                onWindow.accept(done);
            }
        }
        if (rest > 0) {
            long[][] in = {new long[rest]};
            long[][] tg = {new long[rest]};
            System.arraycopy(tokens, full * seqLen, in[0], 0, rest);
            System.arraycopy(tokens, full * seqLen + 1, tg[0], 0, rest);
            nll += sumNll(c, w, m, in, tg);
            scored += rest;
            done++;
            if (onWindow != null) {
                onWindow.accept(done);
            }
        }
        return new Result(protocol(seqLen), scored, done, nll / scored);
    }

    /** Number of windows {@link #windowed} will score. */
    public static int windowCount(int tokens, int seqLen) {
        return (tokens - 1) / seqLen + ((tokens - 1) % seqLen > 0 ? 1 : 0);
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
