package ai.minitron.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.io.Sha256;
import ai.minitron.tokenize.Tokenizer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * The calibration set of activation-based importance estimation: the N samples whose forward passes
 * the importance statistics are computed from (Minitron uses 1024 samples, arXiv 2407.14679 §2.1 and
 * §4.1; {@link #DEFAULT_SAMPLES}).
 *
 * <p><b>Packed</b> (the default, {@link #packed}): N windows of exactly L + 1 tokens of a
 * {@link TokenDataset} (documents concatenated with EOS), chosen by a seeded shuffle. No padding, so
 * every position is a real token. <b>Documents</b> ({@link #documents}): one document per sample,
 * its first L + 1 tokens, for comparison; samples then have different lengths and batches are
 * right-padded, with an attention mask that every statistic uses to exclude the padding.
 *
 * <p>A row holds len + 1 tokens: inputs {@code row[0..len)} and next-token targets
 * {@code row[1..len]}. Sample ids (TokenDataset window ids, or document indices) and a content hash
 * (SHA-256 of the rows in calibration order) identify the set for provenance. Immutable.
 */
public final class CalibrationSet {
    /** The paper's calibration-set size. */
    public static final int DEFAULT_SAMPLES = 1024;

    /** How rows were formed. */
    public enum Mode {
        /** Fixed-length windows of a packed token stream; never padded. */
        PACKED,
        /** One (truncated) document per row; batches padded to their longest row. */
        DOCUMENTS,
        /** Rows given by the caller. */
        ROWS
    }

    private final long[][] rows; // [N][len_i + 1]
    private final int[] sampleIds;
    private final Mode mode;
    private final int seqLen; // the longest row's input length
    private final long seed;
    private final String source;
    private final String sourceHash;

    private CalibrationSet(long[][] rows, int[] sampleIds, Mode mode, long seed, String source, String sourceHash) {
        if (rows.length == 0) {
            throw new DataException("a calibration set needs at least one sample (" + source + ")");
        }
        int max = 0;
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].length < 2) {
                throw new DataException("calibration sample " + sampleIds[i] + " of " + source + " has "
                        + rows[i].length + " tokens; a sample needs at least 2 (one input, one target)");
            }
            max = Math.max(max, rows[i].length - 1);
        }
        this.rows = rows;
        this.sampleIds = sampleIds;
        this.mode = mode;
        this.seqLen = max;
        this.seed = seed;
        this.source = source;
        this.sourceHash = sourceHash;
    }

    // ---- construction ----

    /**
     * N packed samples of a dataset, chosen by a seeded shuffle ({@link TokenDataset#shuffled}).
     *
     * @throws DataException if the dataset holds fewer than n samples, or n < 1
     */
    public static CalibrationSet packed(TokenDataset ds, int n, long seed, String source) {
        checkN(n);
        if (n > ds.size()) {
            throw new DataException(source + " gives only " + ds.size() + " packed samples of " + ds.seqLen()
                    + "+1 tokens, but " + n + " calibration samples were asked for: use fewer samples, a shorter"
                    + " sequence length, or a larger split");
        }
        TokenDataset chosen = ds.shuffled(seed).head(n);
        return new CalibrationSet(chosen.batch(0, n), chosen.sampleIds(), Mode.PACKED, seed, source,
                ds.contentHash());
    }

    /**
     * N packed samples of L tokens from a corpus split file, tokenized with {@code tok}.
     *
     * @param modelContext the model's context (max_position_embeddings): L must not exceed it
     * @throws DataException naming the file or the numbers at fault (missing or empty file, L beyond
     *     the context, fewer samples than asked)
     */
    public static CalibrationSet fromSplit(Path splitFile, Tokenizer tok, int n, int seqLen, long seed,
            int modelContext) {
        TokenDataset.checkSeqLen(seqLen, modelContext);
        checkN(n);
        Corpus corpus = Corpus.read(splitFile);
        TokenDataset ds;
        try {
            ds = TokenDataset.pack(corpus.documents(), tok, seqLen);
        } catch (DataException e) {
            throw new DataException(splitFile + ": " + e.getMessage(), e);
        }
        return packed(ds, n, seed, splitFile.toString());
    }

    /**
     * One document per sample (its first L + 1 tokens), N documents chosen by a seeded shuffle;
     * documents shorter than 2 tokens are skipped. Rows differ in length, so batches are padded.
     *
     * @throws DataException if fewer than n usable documents exist
     */
    public static CalibrationSet documents(List<String> documents, Function<String, long[]> encoder, int n,
            int seqLen, long seed, String source) {
        checkN(n);
        if (seqLen < 1) {
            throw new DataException("sequence length must be >= 1, got " + seqLen);
        }
        Integer[] order = new Integer[documents.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        List<Integer> shuffled = new ArrayList<>(Arrays.asList(order));
        java.util.Collections.shuffle(shuffled, new Random(seed));
        List<long[]> rows = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        for (int d : shuffled) {
            if (rows.size() == n) break;
            long[] t = encoder.apply(documents.get(d));
            if (t.length < 2) continue;
            rows.add(Arrays.copyOf(t, Math.min(t.length, seqLen + 1)));
            ids.add(d);
        }
        if (rows.size() < n) {
            throw new DataException(source + " has only " + rows.size() + " documents of at least 2 tokens, but "
                    + n + " calibration samples were asked for");
        }
        return new CalibrationSet(rows.toArray(long[][]::new), ids.stream().mapToInt(Integer::intValue).toArray(),
                Mode.DOCUMENTS, seed, source, null);
    }

    /** Rows given directly (each len + 1 tokens, lengths may differ); ids 0..N-1. */
    public static CalibrationSet ofRows(long[][] rows, String source) {
        int[] ids = new int[rows.length];
        for (int i = 0; i < ids.length; i++) ids[i] = i;
        long[][] copy = new long[rows.length][];
        for (int i = 0; i < rows.length; i++) copy[i] = rows[i].clone();
        return new CalibrationSet(copy, ids, Mode.ROWS, 0, source, null);
    }

    private static void checkN(int n) {
        if (n < 1) {
            throw new DataException("the number of calibration samples must be >= 1, got " + n);
        }
    }

    // ---- views ----

    /** Samples [from, to) as a calibration set of their own (a shard). */
    public CalibrationSet slice(int from, int to) {
        if (from < 0 || to > rows.length || from >= to) {
            throw new IndexOutOfBoundsException("slice [" + from + ", " + to + ") of a calibration set of "
                    + rows.length + " samples");
        }
        return new CalibrationSet(Arrays.copyOfRange(rows, from, to), Arrays.copyOfRange(sampleIds, from, to), mode,
                seed, source, sourceHash);
    }

    /** The first n samples (e.g. half the set, for stability). */
    public CalibrationSet head(int n) {
        return slice(0, Math.min(n, rows.length));
    }

    /** Fails with a clear message if rows are longer than the model context. */
    public CalibrationSet checkContext(int modelContext) {
        TokenDataset.checkSeqLen(seqLen, modelContext);
        return this;
    }

    /** Fails with a clear message if a token id is outside the model's vocabulary. */
    public CalibrationSet checkVocab(int vocabSize) {
        for (int i = 0; i < rows.length; i++) {
            for (long id : rows[i]) {
                if (id < 0 || id >= vocabSize) {
                    throw new DataException("calibration sample " + sampleIds[i] + " of " + source + " holds token id "
                            + id + " outside the model's vocabulary [0, " + vocabSize + ")");
                }
            }
        }
        return this;
    }

    // ---- batches ----

    /**
     * A batch of rows, right-padded to its longest row (pad id 0, masked).
     *
     * @param inputs [B][T] input ids
     * @param targets [B][T] next-token ids
     * @param lengths valid tokens of each row (the rest is padding)
     */
    public record Batch(long[][] inputs, long[][] targets, int[] lengths, int[] sampleIds) {
        public int size() {
            return inputs.length;
        }

        /** T: the padded length. */
        public int width() {
            return inputs[0].length;
        }

        public boolean padded() {
            for (int len : lengths) {
                if (len != width()) return true;
            }
            return false;
        }

        public long validTokens() {
            long n = 0;
            for (int len : lengths) n += len;
            return n;
        }

        /** Input ids [B, T] int64. */
        public NDArray inputs(NDManager m) {
            return m.create(inputs);
        }

        /** Targets [B, T] int64. */
        public NDArray targets(NDManager m) {
            return m.create(targets);
        }

        /** Attention mask [B, T] (1 = token, 0 = padding) in {@code dtype}, or null if nothing is padded. */
        public NDArray mask(NDManager m, DataType dtype) {
            if (!padded()) {
                return null;
            }
            float[] v = new float[size() * width()];
            for (int b = 0; b < size(); b++) {
                Arrays.fill(v, b * width(), b * width() + lengths[b], 1f);
            }
            NDArray a = m.create(v, new ai.djl.ndarray.types.Shape(size(), width()));
            return dtype == DataType.FLOAT32 ? a : a.toType(dtype, false);
        }
    }

    /** The samples in order, in batches of {@code batchSize} (the last may be smaller). */
    public List<Batch> batches(int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        List<Batch> out = new ArrayList<>();
        for (int start = 0; start < rows.length; start += batchSize) {
            int n = Math.min(batchSize, rows.length - start);
            int width = 0;
            for (int i = 0; i < n; i++) width = Math.max(width, rows[start + i].length - 1);
            long[][] in = new long[n][width];
            long[][] tg = new long[n][width];
            int[] len = new int[n];
            for (int i = 0; i < n; i++) {
                long[] r = rows[start + i];
                len[i] = r.length - 1;
                System.arraycopy(r, 0, in[i], 0, len[i]);
                System.arraycopy(r, 1, tg[i], 0, len[i]);
            }
            out.add(new Batch(in, tg, len, Arrays.copyOfRange(sampleIds, start, start + n)));
        }
        return out;
    }

    // ---- identity ----

    public int size() {
        return rows.length;
    }

    /** L: input tokens of the longest row (every row, when packed). */
    public int seqLen() {
        return seqLen;
    }

    /** Input tokens over all rows (the tokens statistics are computed from). */
    public long tokens() {
        long n = 0;
        for (long[] r : rows) n += r.length - 1;
        return n;
    }

    public Mode mode() {
        return mode;
    }

    public long seed() {
        return seed;
    }

    /** Where the samples came from (a split file, or a caller's description). */
    public String source() {
        return source;
    }

    /** Content hash of the whole packed dataset the samples were drawn from (packed mode), else null. */
    public String sourceHash() {
        return sourceHash;
    }

    /** Sample ids in calibration order. */
    public int[] sampleIds() {
        return sampleIds.clone();
    }

    /** Row i (len + 1 tokens), a copy. */
    public long[] row(int i) {
        return rows[i].clone();
    }

    /**
     * SHA-256 (hex) of the rows in calibration order: for each row its token count as a 4-byte
     * little-endian int, then its ids as 4-byte little-endian ints.
     */
    public String contentHash() {
        MessageDigest md = Sha256.digest();
        for (long[] r : rows) {
            ByteBuffer buf = ByteBuffer.allocate(4 * (r.length + 1)).order(ByteOrder.LITTLE_ENDIAN);
            buf.putInt(r.length);
            for (long id : r) buf.putInt((int) id);
            md.update(buf.array());
        }
        return Sha256.hex(md);
    }

    @Override
    public String toString() {
        return "CalibrationSet[" + mode + ", " + rows.length + " samples, seq_len " + seqLen + ", " + tokens()
                + " tokens, seed " + seed + ", " + source + "]";
    }
}
