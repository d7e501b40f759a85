package ai.minitron.train;

import ai.minitron.data.TokenDataset;

/**
 * A {@link BatchSource} over a packed {@link TokenDataset}: epoch e visits every sample once in the
 * order of {@code dataset.shuffled(seed + e)}, so batch i is a pure function of (seed, i) and a
 * resumed run reads exactly the rows the uninterrupted one would have.
 */
public final class DatasetBatches implements BatchSource {
    private final TokenDataset dataset;
    private final long seed;
    private final boolean shuffle;
    private long cachedEpoch = -1;
    private TokenDataset cachedOrder;

    /** @param shuffle false for validation (fixed order, no reshuffling) */
    public DatasetBatches(TokenDataset dataset, long seed, boolean shuffle) {
        if (dataset.size() == 0) {
            throw new IllegalArgumentException("the dataset holds no complete sample of " + dataset.seqLen()
                    + "+1 tokens: use more text or a shorter seq-len");
        }
        this.dataset = dataset;
        this.seed = seed;
        this.shuffle = shuffle;
    }

    @Override
    public long[][] batch(long index, int batchSize) {
        long[][] rows = new long[batchSize][];
        for (int i = 0; i < batchSize; i++) {
            long global = index * batchSize + i;
            long epoch = global / dataset.size();
            int within = (int) (global % dataset.size());
            rows[i] = order(epoch).sample(within);
        }
        return rows;
    }

    private synchronized TokenDataset order(long epoch) {
        if (!shuffle) {
            return dataset;
        }
        if (epoch != cachedEpoch) {
            cachedOrder = dataset.shuffled(seed + epoch);
            cachedEpoch = epoch;
        }
        return cachedOrder;
    }

    @Override
    public int seqLen() {
        return dataset.seqLen();
    }

    @Override
    public long size() {
        return dataset.size();
    }
}
