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

    /**
     * Fixed in-memory rows of equal length {@code seqLen + 1}, served in order and cycled: batch
     * {@code i} holds rows {@code i * b .. i * b + b - 1} modulo the row count (copies).
     */
    static BatchSource ofRows(long[][] rows) {
        if (rows.length == 0 || rows[0].length < 2) {
            throw new IllegalArgumentException("rows must be non-empty and hold at least 2 tokens each");
        }
        int len = rows[0].length;
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].length != len) {
                throw new IllegalArgumentException("row " + i + " holds " + rows[i].length + " tokens, row 0 holds " + len);
            }
        }
        long[][] data = rows.clone();
        return new BatchSource() {
            @Override
            public long[][] batch(long index, int batchSize) {
                long[][] out = new long[batchSize][];
                for (int i = 0; i < batchSize; i++) {
                    out[i] = data[(int) ((index * batchSize + i) % data.length)].clone();
                }
                return out;
            }

            @Override
            public int seqLen() {
                return len - 1;
            }

            @Override
            public long size() {
                return data.length;
            }
        };
    }
}
