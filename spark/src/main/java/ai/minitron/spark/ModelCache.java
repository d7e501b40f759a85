package ai.minitron.spark;

import ai.djl.ndarray.NDManager;
import ai.minitron.cluster.ModelRef;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Provenance;
import ai.minitron.tokenize.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The models of one executor JVM: each {@link ModelRef} (path + hash) is loaded once, lazily, by the first
 * task that needs it, and kept for the JVM's life, so every later task of any job on that executor reuses it
 * ({@link #loads()} counts the loads, which is how the tests prove "once per executor, not per task").
 *
 * <p>A worker that cannot read the path, or reads other content behind it (a hash other than the driver's),
 * fails the task with a message naming the host, the path and the cause. Tasks of one JVM use a model one at
 * a time ({@link Loaded#lock}): PyTorch already uses the executor's cores inside each forward pass.
 */
public final class ModelCache {
    private static final Map<ModelRef, Loaded> MODELS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();

    private ModelCache() {}

    /** A loaded checkpoint; {@code lock} serialises the tasks that use it. */
    public record Loaded(LanguageModel model, NDManager manager, Object lock, double loadSeconds) {}

    /** The model of {@code ref}, loading it on first use in this JVM. */
    public static Loaded get(ModelRef ref) {
        return MODELS.computeIfAbsent(ref, ModelCache::load);
    }

    private static final Map<String, Tokenizer> TOKENIZERS = new ConcurrentHashMap<>();

    /** The tokenizer at {@code tokenizerJson}, loaded once per JVM; fails naming the host and path. */
    public static Tokenizer tokenizer(String tokenizerJson) {
        return TOKENIZERS.computeIfAbsent(tokenizerJson, p -> {
            if (!Files.isReadable(Path.of(p))) {
                throw new IllegalStateException("executor on " + Tasks.host() + " (pid " + ProcessHandle.current().pid()
                        + ") cannot read the tokenizer at " + p + "; put it on storage every executor reads");
            }
            return Tokenizer.load(Path.of(p));
        });
    }

    /** How many times this JVM loaded a model (all refs together). */
    public static int loads() {
        return LOADS.get();
    }

    private static Loaded load(ModelRef ref) {
        long t0 = System.nanoTime();
        Path dir = ref.path();
        String where = "executor on " + Tasks.host() + " (pid " + ProcessHandle.current().pid() + ")";
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException(where + " cannot read the model at " + dir + ": "
                    + (Files.exists(dir) ? "not a directory" : "no such directory")
                    + "; put the checkpoint on storage every executor reads, at the same path");
        }
        if (!Files.isReadable(dir.resolve("config.json"))) {
            throw new IllegalStateException(where + " cannot read " + dir.resolve("config.json")
                    + "; put the checkpoint on storage every executor reads, at the same path");
        }
        String hash = Provenance.checkpointHash(dir);
        if (!hash.equals(ref.sha256())) {
            throw new IllegalStateException(where + " reads other files at " + dir + " (sha256 " + hash.substring(0, 12)
                    + "..., the driver's is " + ref.sha256().substring(0, 12) + "...): every executor must see the same"
                    + " checkpoint");
        }
        NDManager m = NDManager.newBaseManager();
        try {
            LanguageModel lm = LanguageModel.load(dir, m);
            LOADS.incrementAndGet();
            return new Loaded(lm, m, new Object(), (System.nanoTime() - t0) / 1e9);
        } catch (RuntimeException | Error e) {
            m.close();
            throw e;
        }
    }
}
