package ai.minitron.train;

/**
 * Deterministic batches by index: batch {@code i} is always the same rows, so a run resumed at
 * step s reads exactly what the uninterrupted run would have read. Rows are {@code seqLen + 1}
 * tokens: inputs are [0, seqLen), targets are [1, seqLen].
 */
public interface BatchSource {
    /** Rows [batchSize][seqLen + 1] of batch number {@code index}. */
    long[][] batch(long index, int batchSize);

    /** Predicted tokens per row. */
    int seqLen();

    /** Number of distinct rows before the source repeats (an epoch). */
    long size();
}
