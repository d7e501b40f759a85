package ai.minitron.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.minitron.config.ModelConfig;
import ai.minitron.data.TokenDataset;
import ai.minitron.io.AtomicFiles;
import ai.minitron.io.HostTensor;
import ai.minitron.io.SafeTensors;
import ai.minitron.io.Sha256;
import ai.minitron.io.TensorDType;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.Scalars;
import ai.minitron.model.Weights;
import ai.minitron.train.BatchSource;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * A precomputed teacher: its top-k next-token logits over a dataset, so many students (e.g. every
 * candidate of an architecture search) distil from ONE teacher pass instead of running the teacher
 * at every step. The per-token log-sum-exp is stored too, so the teacher's log-probabilities of the
 * k tokens — and hence the mass of the "rest" bucket — are exact, and {@link KdLoss#topKKl} on the
 * cache equals {@link KdLoss.Kind#TOP_K_KL} on live logits (with k = vocabulary size: the full
 * forward KL).
 *
 * <p>Layout of a cache directory (all files written atomically):
 * <pre>
 *   manifest.json             {format, teacher_hash, dataset, seq_len, top_k, temperature, vocab_size,
 *                              samples, teacher_tokens, shards: [{file, first_sample, samples, sha256}]}
 *   shard-00000.safetensors   input_ids     I64 [N, T]     the tokens the teacher read (row = sample)
 *                             topk_indices  I32 [N, T, k]  the teacher's k most likely next tokens
 *                             topk_logits   F32 [N, T, k]  their raw logits z
 *                             logsumexp     F32 [N, T]     log Σ_v exp(z_v / τ) over the whole vocabulary
 * </pre>
 * so log p_teacher(v) = z_v / τ − logsumexp at every cached v. Each shard's {@code __metadata__}
 * repeats the teacher hash, dataset, seq_len, k and τ: an interrupted build resumes after its last
 * complete shard.
 *
 * <p>Lookup is by content: each batch row's T input tokens must equal a cached sample's exactly
 * (any order, any number of epochs); a row that is not in the cache is refused with a clear error,
 * so a student never trains against the teacher's view of other tokens.
 */
public final class TeacherCache {
    public static final String FORMAT = "minitron-teacher-cache/1";
    public static final String MANIFEST = "manifest.json";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    /** One shard file of consecutive samples, with the SHA-256 of its bytes (null in caches written before checksums). */
    public record Shard(String file, long first_sample, int samples, String sha256) {}

    /** The cache's description (manifest.json). */
    public record Manifest(String format, String teacher_hash, String dataset, int seq_len, int top_k,
            double temperature, int vocab_size, long samples, long teacher_tokens, List<Shard> shards) {}

    private final Path dir;
    private final Manifest manifest;
    private final long[][] inputs; // [N][T]
    private final List<HostTensor[]> shardTensors = new ArrayList<>(); // per shard: indices, logits, lse
    private final int[] shardOf;
    private final int[] rowInShard;
    private final Map<Integer, int[]> byHash = new HashMap<>();

    private TeacherCache(Path dir, Manifest manifest) throws IOException {
        this.dir = dir;
        this.manifest = manifest;
        int n = Math.toIntExact(manifest.samples());
        inputs = new long[n][];
        shardOf = new int[n];
        rowInShard = new int[n];
        int t = manifest.seq_len();
        int k = manifest.top_k();
        for (int si = 0; si < manifest.shards().size(); si++) {
            Shard sh = manifest.shards().get(si);
            Path f = dir.resolve(sh.file());
            if (!Files.isRegularFile(f)) {
                throw new IllegalArgumentException(dir + ": teacher cache shard " + sh.file() + " is missing");
            }
            verify(dir, sh, f);
            Map<String, HostTensor> m = SafeTensors.read(f);
            HostTensor ids = require(m, f, "input_ids", new long[] {sh.samples(), t});
            HostTensor idx = require(m, f, "topk_indices", new long[] {sh.samples(), t, k});
            HostTensor val = require(m, f, "topk_logits", new long[] {sh.samples(), t, k});
            HostTensor lse = require(m, f, "logsumexp", new long[] {sh.samples(), t});
            shardTensors.add(new HostTensor[] {idx, val, lse});
            long[] all = ids.toLongs();
            for (int r = 0; r < sh.samples(); r++) {
                int global = Math.toIntExact(sh.first_sample() + r);
                inputs[global] = Arrays.copyOfRange(all, r * t, (r + 1) * t);
                shardOf[global] = si;
                rowInShard[global] = r;
                int h = Arrays.hashCode(inputs[global]);
                int[] prev = byHash.get(h);
                if (prev == null) {
                    byHash.put(h, new int[] {global});
                } else {
                    int[] next = Arrays.copyOf(prev, prev.length + 1);
                    next[prev.length] = global;
                    byHash.put(h, next);
                }
            }
        }
    }

    /**
     * Refuses a shard whose bytes differ from the checksum its manifest recorded, before anything reads
     * it; a cache written before checksums is refused too (rebuilding reuses its shards and adds them).
     */
    private static void verify(Path dir, Shard sh, Path f) {
        if (sh.sha256() == null) {
            throw new IllegalArgumentException(dir + ": teacher cache shard " + sh.file() + " has no checksum in "
                    + MANIFEST + " (a cache of an older version): rebuild it with `minitron teacher-cache` (complete"
                    + " shards are reused)");
        }
        String actual = Sha256.file(f);
        if (!actual.equals(sh.sha256())) {
            throw new IllegalArgumentException(f + ": teacher cache shard is corrupt (SHA-256 " + actual
                    + " differs from " + sh.sha256() + " recorded in " + MANIFEST + "): delete the shard and rerun"
                    + " `minitron teacher-cache` to rebuild it");
        }
    }

    /**
     * How many samples of {@code set} the cache holds (each sample's first seq_len tokens are the
     * teacher's input); a distillation over {@code set} needs all of them.
     */
    public int covered(TokenDataset set) {
        int n = 0;
        for (int i = 0; i < set.size(); i++) {
            long[] row = set.sample(i);
            if (row.length >= manifest.seq_len() && find(Arrays.copyOf(row, manifest.seq_len())) >= 0) {
                n++;
            }
        }
        return n;
    }

    private static HostTensor require(Map<String, HostTensor> m, Path f, String name, long[] shape) {
        HostTensor h = m.get(name);
        if (h == null || !Arrays.equals(h.shape(), shape)) {
            throw new IllegalArgumentException(f + ": teacher cache tensor '" + name + "' is "
                    + (h == null ? "missing" : "of shape " + Arrays.toString(h.shape())) + ", expected "
                    + Arrays.toString(shape) + " (corrupt or foreign cache)");
        }
        return h;
    }

    /** Opens a cache directory written by {@link #build}. */
    public static TeacherCache open(Path dir) {
        Path mf = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(mf)) {
            throw new IllegalArgumentException(dir + ": not a teacher cache (no " + MANIFEST
                    + "; build one with `minitron teacher-cache`)");
        }
        try {
            Manifest m = GSON.fromJson(Files.readString(mf), Manifest.class);
            if (m == null || !FORMAT.equals(m.format())) {
                throw new IllegalArgumentException(mf + ": unknown teacher cache format "
                        + (m == null ? "(empty)" : m.format()) + ", expected " + FORMAT);
            }
            return new TeacherCache(dir, m);
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot read the teacher cache: " + e.getMessage(), e);
        } catch (com.google.gson.JsonParseException e) {
            throw new IllegalArgumentException(mf + ": corrupt manifest: " + e.getMessage(), e);
        }
    }

    public Manifest manifest() {
        return manifest;
    }

    public Path dir() {
        return dir;
    }

    /**
     * The cached teacher for a batch: {log p_teacher [B, T, k] (float32), indices [B, T, k] (int64)},
     * created on {@code m}. Throws when a row's tokens are not a cached sample.
     */
    public NDArray[] lookup(NDManager m, long[][] rows) {
        int t = manifest.seq_len();
        int k = manifest.top_k();
        int b = rows.length;
        float[] logp = new float[b * t * k];
        long[] idx = new long[b * t * k];
        float tau = (float) manifest.temperature();
        for (int r = 0; r < b; r++) {
            if (rows[r].length != t) {
                throw new IllegalArgumentException("batch rows hold " + rows[r].length + " tokens but the teacher cache "
                        + dir + " was made with seq_len " + t + ": use --seq-len " + t);
            }
            int s = find(rows[r]);
            if (s < 0) {
                throw new IllegalArgumentException("batch row " + r + " (tokens " + preview(rows[r])
                        + ") is not in the teacher cache " + dir + " (built from " + manifest.dataset()
                        + "): distil on the data the cache was made from (same split, tokenizer and seq-len)");
            }
            HostTensor[] sh = shardTensors.get(shardOf[s]);
            int base = rowInShard[s] * t * k;
            IntBuffer ib = sh[0].bytes().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
            FloatBuffer vb = sh[1].bytes().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            FloatBuffer lb = sh[2].bytes().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            for (int i = 0; i < t; i++) {
                float lse = lb.get(rowInShard[s] * t + i);
                for (int j = 0; j < k; j++) {
                    int o = base + i * k + j;
                    int out = (r * t + i) * k + j;
                    idx[out] = ib.get(o);
                    logp[out] = vb.get(o) / tau - lse;
                }
            }
        }
        Shape shape = new Shape(b, t, k);
        return new NDArray[] {m.create(logp, shape), m.create(idx, shape)};
    }

    private int find(long[] row) {
        int[] cands = byHash.get(Arrays.hashCode(row));
        if (cands != null) {
            for (int c : cands) {
                if (Arrays.equals(inputs[c], row)) {
                    return c;
                }
            }
        }
        return -1;
    }

    private static String preview(long[] row) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < Math.min(6, row.length); i++) {
            sb.append(i > 0 ? ", " : "").append(row[i]);
        }
        return sb.append(row.length > 6 ? ", ...]" : "]").toString();
    }

    /**
     * Runs the teacher over the first {@code samples} rows of {@code data} (batch i = rows
     * [i·batchSize, (i+1)·batchSize) of an unshuffled source; each row's first T tokens are the input)
     * and writes the cache into {@code out}, resuming after complete shards of an interrupted build.
     *
     * @param progress receives the number of samples done so far (may be null)
     */
    public static Manifest build(ModelConfig c, Weights teacher, String teacherHash, String dataset, BatchSource data,
            long samples, int topK, double temperature, int batchSize, int samplesPerShard, Path out,
            LongConsumer progress) {
        if (topK < 1 || topK > c.vocabSize()) {
            throw new IllegalArgumentException("--top-k must be in [1, vocab_size = " + c.vocabSize() + "], got " + topK);
        }
        if (!(temperature > 0)) {
            throw new IllegalArgumentException("--temperature must be > 0, got " + temperature);
        }
        if (samples < 1) {
            throw new IllegalArgumentException("the teacher cache needs at least one sample of " + data.seqLen() + " tokens");
        }
        int t = data.seqLen();
        Map<String, String> meta = new java.util.TreeMap<>(Map.of("teacher_hash", teacherHash, "dataset", dataset,
                "seq_len", "" + t, "top_k", "" + topK, "temperature", "" + temperature, "format", FORMAT));
        List<Shard> shards = new ArrayList<>();
        try {
            Files.createDirectories(out);
            Files.deleteIfExists(out.resolve(MANIFEST)); // the cache is complete only once the manifest is back
            for (long first = 0; first < samples; first += samplesPerShard) {
                int n = (int) Math.min(samplesPerShard, samples - first);
                String file = String.format("shard-%05d.safetensors", shards.size());
                Path f = out.resolve(file);
                Map<String, String> shardMeta = new java.util.TreeMap<>(meta);
                shardMeta.put("first_sample", "" + first);
                shardMeta.put("samples", "" + n);
                if (!(Files.isRegularFile(f) && shardMeta.equals(new java.util.TreeMap<>(SafeTensors.metadata(f))))) {
                    writeShard(c, teacher, data, first, n, topK, temperature, batchSize, f, shardMeta);
                }
                shards.add(new Shard(file, first, n, Sha256.file(f)));
                if (progress != null) {
                    progress.accept(first + n);
                }
            }
            Manifest m = new Manifest(FORMAT, teacherHash, dataset, t, topK, temperature, c.vocabSize(), samples,
                    samples * t, shards);
            AtomicFiles.writeString(out.resolve(MANIFEST), GSON.toJson(m) + "\n");
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the teacher cache in " + out + ": " + e.getMessage(), e);
        }
    }

    private static void writeShard(ModelConfig c, Weights teacher, BatchSource data, long first, int n, int k,
            double tau, int batchSize, Path f, Map<String, String> meta) throws IOException {
        int t = data.seqLen();
        long[] ids = new long[n * t];
        ByteBuffer idx = ByteBuffer.allocate(n * t * k * 4).order(ByteOrder.LITTLE_ENDIAN);
        float[] val = new float[n * t * k];
        float[] lse = new float[n * t];
        for (int done = 0; done < n; done += batchSize) {
            int bs = Math.min(batchSize, n - done);
            long[][] rows = rows(data, first + done, bs);
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                long[][] in = new long[bs][];
                for (int r = 0; r < bs; r++) {
                    in[r] = Arrays.copyOf(rows[r], t);
                    System.arraycopy(in[r], 0, ids, (done + r) * t, t);
                }
                NDArray z = DecoderLM.forward(c, teacher, teacher.manager().create(in)).toType(DataType.FLOAT32, false);
                NDArray top = KdLoss.topKIndices(z, k); // [bs,T,k]
                float[] v = z.gather(top, -1).toFloatArray();
                long[] ix = top.toLongArray();
                NDArray zt = Scalars.div(z, tau);
                // log Σ exp(z/τ) = z_v/τ − log softmax(z/τ)_v for any v; take v = 0.
                float[] l = zt.get(":, :, 0").sub(zt.logSoftmax(-1).get(":, :, 0")).toFloatArray();
                System.arraycopy(v, 0, val, done * t * k, v.length);
                for (long x : ix) {
                    idx.putInt((int) x);
                }
                System.arraycopy(l, 0, lse, done * t, l.length);
            }
        }
        idx.flip();
        List<HostTensor> tensors = List.of(HostTensor.ofLongs("input_ids", new long[] {n, t}, ids),
                HostTensor.ofBytes("topk_indices", TensorDType.I32, new long[] {n, t, k}, idx),
                HostTensor.ofFloats("topk_logits", new long[] {n, t, k}, val),
                HostTensor.ofFloats("logsumexp", new long[] {n, t}, lse));
        SafeTensors.write(f, tensors, meta);
    }

    /** Rows [first, first + count) of an unshuffled source, fetched batch by batch. */
    private static long[][] rows(BatchSource data, long first, int count) {
        long[][] out = new long[count][];
        for (int i = 0; i < count; i++) {
            out[i] = data.batch(first + i, 1)[0];
        }
        return out;
    }
}
