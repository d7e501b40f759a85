package ai.minitron.data;

import ai.minitron.io.Sha256;
import ai.minitron.tokenize.Tokenizer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * Documents tokenized and packed into fixed-length language-modelling samples.
 *
 * <p><b>Packing, not padding.</b> Every document is encoded and followed by the end-of-sequence id,
 * and the documents are concatenated in order into one token stream {@code t[0..N)}. Sample
 * {@code i} is the window {@code t[i*L .. i*L + L]} of {@code L+1 = seqLen+1} tokens: its first
 * {@code L} tokens are the inputs and its last {@code L} the targets (inputs shifted by one).
 * Consecutive samples share one boundary token, so every stream token is an input exactly once and
 * (except {@code t[0]}) a target exactly once; windows cross document boundaries (the EOS marks
 * them). The incomplete tail ({@link #droppedTokens()}) is not used.
 *
 * <p><b>Sample ids</b> are window indices {@code i} in the packed stream; they survive
 * {@link #shuffled} and {@link #head}, so a run can record exactly which samples it saw.
 * {@link #contentHash()} fingerprints the samples' token ids in stream order (independent of the
 * shuffle) for provenance.
 *
 * <p>Instances are immutable; {@link #shuffled} and {@link #head} return views sharing the stream.
 */
public final class TokenDataset {

    private final int[] stream;
    private final int seqLen;
    private final int numSamples; // windows in the stream
    private final int[] order; // sample ids, in iteration order
    private final int documents;

    private TokenDataset(int[] stream, int seqLen, int numSamples, int[] order, int documents) {
        this.stream = stream;
        this.seqLen = seqLen;
        this.numSamples = numSamples;
        this.order = order;
        this.documents = documents;
    }

    /**
     * Tokenizes and packs documents with the tokenizer's end-of-sequence token.
     *
     * @throws DataException if the tokenizer has no EOS token or the text gives no full sample
     */
    public static TokenDataset pack(List<String> documents, Tokenizer tokenizer, int seqLen) {
        Integer eos = tokenizer.eosTokenId();
        if (eos == null) {
            throw new DataException("tokenizer " + tokenizer.path() + " has no end-of-sequence "
                    + "token; pass one with pack(documents, encoder, eosId, seqLen)");
        }
        return pack(documents, tokenizer::encode, eos, seqLen);
    }

    /** Tokenizes (with any encoder) and packs documents, appending {@code eosId} after each. */
    public static TokenDataset pack(List<String> documents, Function<String, long[]> encoder,
            long eosId, int seqLen) {
        checkSeqLen(seqLen);
        checkId(eosId, "end-of-sequence id");
        long[][] encoded = new long[documents.size()][];
        long total = 0;
        for (int d = 0; d < documents.size(); d++) {
            encoded[d] = encoder.apply(documents.get(d));
            total += encoded[d].length + 1;
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw new DataException("packed stream of " + total + " tokens is too large for one "
                    + "dataset; split the corpus");
        }
        int[] stream = new int[(int) total];
        int p = 0;
        for (long[] ids : encoded) {
            for (long id : ids) stream[p++] = checkId(id, "token id");
            stream[p++] = (int) eosId;
        }
        return fromStream(stream, seqLen, documents.size());
    }

    /** Packs an already-tokenized stream (EOS ids included by the caller). */
    public static TokenDataset fromTokens(long[] tokens, int seqLen) {
        checkSeqLen(seqLen);
        int[] stream = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) stream[i] = checkId(tokens[i], "token id");
        return fromStream(stream, seqLen, -1);
    }

    private static TokenDataset fromStream(int[] stream, int seqLen, int documents) {
        int n = stream.length >= seqLen + 1 ? (stream.length - 1) / seqLen : 0;
        if (n == 0) {
            throw new DataException("the corpus gives no sample: " + stream.length + " tokens (EOS "
                    + "included) but one sample needs seqLen + 1 = " + (seqLen + 1));
        }
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        return new TokenDataset(stream, seqLen, n, order, documents);
    }

    private static void checkSeqLen(int seqLen) {
        if (seqLen < 1) throw new DataException("seqLen must be >= 1, got " + seqLen);
    }

    private static int checkId(long id, String what) {
        if (id < 0 || id > Integer.MAX_VALUE) {
            throw new DataException(what + " " + id + " is not a valid token id");
        }
        return (int) id;
    }

    // ------------------------------------------------------------------------------------------
    // context check

    /**
     * Fails unless a model with context length {@code modelContext} (e.g. the config's
     * {@code max_position_embeddings}) can take samples of this dataset: the model sees
     * {@code seqLen} input positions.
     *
     * @return this, for chaining
     */
    public TokenDataset checkContext(int modelContext) {
        checkSeqLen(seqLen, modelContext);
        return this;
    }

    /** Fails with a clear message if {@code seqLen} input positions exceed the model context. */
    public static void checkSeqLen(int seqLen, int modelContext) {
        if (modelContext < 1) {
            throw new DataException("model context must be >= 1, got " + modelContext);
        }
        if (seqLen > modelContext) {
            throw new DataException("sequence length " + seqLen + " exceeds the model context of "
                    + modelContext + " positions (max_position_embeddings); use seqLen <= "
                    + modelContext);
        }
    }

    // ------------------------------------------------------------------------------------------
    // shape

    /** Input length L; samples hold L + 1 tokens. */
    public int seqLen() {
        return seqLen;
    }

    /** Tokens per sample: {@code seqLen + 1}. */
    public int sampleLength() {
        return seqLen + 1;
    }

    /** Number of samples in this view. */
    public int size() {
        return order.length;
    }

    /** Number of full batches of {@code batchSize} (a partial last batch is not counted). */
    public int numBatches(int batchSize) {
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be >= 1");
        return order.length / batchSize;
    }

    /** Length of the packed stream (all document tokens plus one EOS per document). */
    public int streamLength() {
        return stream.length;
    }

    /** Stream tokens after the last full sample, which no sample covers. */
    public int droppedTokens() {
        return stream.length - 1 - numSamples * seqLen;
    }

    /** Number of packed documents, or -1 if built from a raw token stream. */
    public int documents() {
        return documents;
    }

    /** A copy of the packed token stream. */
    public long[] streamTokens() {
        long[] out = new long[stream.length];
        for (int i = 0; i < stream.length; i++) out[i] = stream[i];
        return out;
    }

    // ------------------------------------------------------------------------------------------
    // access

    /** The stream window index of the {@code i}-th sample of this view. */
    public int sampleId(int i) {
        return order[i];
    }

    /** Sample ids of this view, in order. */
    public int[] sampleIds() {
        return order.clone();
    }

    /** The {@code i}-th sample: {@code seqLen + 1} token ids. */
    public long[] sample(int i) {
        long[] out = new long[seqLen + 1];
        int off = order[i] * seqLen;
        for (int j = 0; j <= seqLen; j++) out[j] = stream[off + j];
        return out;
    }

    /** The {@code i}-th sample as ints. */
    public int[] sampleInt(int i) {
        int off = order[i] * seqLen;
        return Arrays.copyOfRange(stream, off, off + seqLen + 1);
    }

    /** Samples {@code first .. first+count-1} of this view, {@code [count][seqLen + 1]}. */
    public long[][] batch(int first, int count) {
        checkRange(first, count);
        long[][] out = new long[count][];
        for (int b = 0; b < count; b++) out[b] = sample(first + b);
        return out;
    }

    /** Samples {@code first .. first+count-1} of this view as ints. */
    public int[][] batchInt(int first, int count) {
        checkRange(first, count);
        int[][] out = new int[count][];
        for (int b = 0; b < count; b++) out[b] = sampleInt(first + b);
        return out;
    }

    /** Sample ids of {@code batch(first, count)}. */
    public int[] batchIds(int first, int count) {
        checkRange(first, count);
        return Arrays.copyOfRange(order, first, first + count);
    }

    private void checkRange(int first, int count) {
        if (first < 0 || count < 0 || first + count > order.length) {
            throw new IndexOutOfBoundsException("samples [" + first + ", " + (first + count)
                    + ") outside a dataset of " + order.length);
        }
    }

    /** The inputs of a batch: the first {@code seqLen} tokens of each row. */
    public static long[][] inputs(long[][] batch) {
        long[][] out = new long[batch.length][];
        for (int i = 0; i < batch.length; i++) {
            out[i] = Arrays.copyOf(batch[i], batch[i].length - 1);
        }
        return out;
    }

    /** The targets of a batch: the last {@code seqLen} tokens of each row (inputs shifted by 1). */
    public static long[][] targets(long[][] batch) {
        long[][] out = new long[batch.length][];
        for (int i = 0; i < batch.length; i++) {
            out[i] = Arrays.copyOfRange(batch[i], 1, batch[i].length);
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------
    // views

    /**
     * This view's samples in a deterministic pseudo-random order: a Fisher-Yates shuffle driven by
     * {@code java.util.Random(seed)} (whose algorithm the JDK specifies, so the order is the same
     * on every JVM).
     */
    public TokenDataset shuffled(long seed) {
        int[] o = order.clone();
        Random rnd = new Random(seed);
        for (int i = o.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = o[i];
            o[i] = o[j];
            o[j] = t;
        }
        return new TokenDataset(stream, seqLen, numSamples, o, documents);
    }

    /** The first {@code n} samples of this view (e.g. a calibration set). */
    public TokenDataset head(int n) {
        if (n < 0) throw new IllegalArgumentException("n must be >= 0");
        return new TokenDataset(stream, seqLen, numSamples,
                Arrays.copyOf(order, Math.min(n, order.length)), documents);
    }

    /**
     * SHA-256 (hex) of all samples' token ids, in stream (sample id) order, each id as a 4-byte
     * little-endian int, each sample's {@code seqLen + 1} ids in turn. It depends on the tokens and
     * on seqLen, not on the shuffle or on which view you ask.
     */
    public String contentHash() {
        MessageDigest md = Sha256.digest();
        ByteBuffer buf = ByteBuffer.allocate(4 * (seqLen + 1)).order(ByteOrder.LITTLE_ENDIAN);
        for (int s = 0; s < numSamples; s++) {
            buf.clear();
            int off = s * seqLen;
            for (int j = 0; j <= seqLen; j++) buf.putInt(stream[off + j]);
            md.update(buf.array(), 0, buf.position());
        }
        return Sha256.hex(md);
    }

    @Override
    public String toString() {
        return "TokenDataset[" + order.length + " samples of " + seqLen + "+1 tokens, stream "
                + stream.length + " tokens" + (documents >= 0 ? ", " + documents + " documents"
                : "") + "]";
    }
}
