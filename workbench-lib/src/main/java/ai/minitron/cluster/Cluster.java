package ai.minitron.cluster;

import ai.minitron.eval.LastWord;
import ai.minitron.eval.Perplexity;
import ai.minitron.eval.TokenScorer;
import ai.minitron.importance.ImportanceEstimator;
import ai.minitron.search.ArchitectureSearch;
import com.google.gson.JsonObject;

/**
 * A compute cluster the forward-only, data-parallel steps of the recipe can run on: the calibration pass of
 * importance, the log-likelihood scoring of evaluation, and the zero-shot scoring of search candidates. Each
 * method returns the very function interface the library's single-process code takes
 * ({@link ImportanceEstimator.ShardPass}, {@link TokenScorer.Scorer}, {@link LastWord.Generator},
 * {@link Perplexity.BatchNll}, {@link ArchitectureSearch.ZeroShotScorer}), so the reduction, the tables and the provenance stay the
 * library's own; an implementation only decides where each batch runs. It must run every batch exactly
 * as this process would (same rows, same batch), which makes the results equal bit for bit.
 *
 * <p>The library has no implementation: the {@code spark} module provides one (Apache Spark), found by
 * {@link Clusters#open} through {@link java.util.ServiceLoader}, so the core library does not carry a
 * cluster engine's dependencies.
 */
public interface Cluster extends AutoCloseable {
    /** The master URL this cluster was opened with (e.g. {@code local[2]}, {@code spark://host:7077}). */
    String master();

    /** The calibration pass on the cluster's workers, each loading {@code model} once per worker process. */
    ImportanceEstimator.ShardPass activationPass(ModelRef model);

    /** Log-likelihood scoring on the workers, {@code batchSize} rows per forward pass as {@link TokenScorer#score}. */
    TokenScorer.Scorer scorer(ModelRef model, int batchSize);

    /**
     * Last-word greedy decoding on the workers, a batch of items per call of {@code LastWord.greedyGenerate}; the
     * workers decode with the tokenizer at {@code tokenizerJson} (a path they all read).
     */
    LastWord.Generator generator(ModelRef model, String tokenizerJson, int batchSize);

    /** The token protocol's batch NLLs on the workers. */
    Perplexity.BatchNll windowNll(ModelRef model);

    /** Zero-shot scoring of search candidates on the workers (each prunes from {@code parent} and validates). */
    ArchitectureSearch.ZeroShotScorer zeroShot(ModelRef parent);

    /** What ran where so far: master, partitions and their sizes per job, executors; for run.json. */
    JsonObject provenance();

    @Override
    void close();
}
