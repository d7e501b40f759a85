package ai.minitron.train;

/**
 * Everything that determines a training run besides the model and data. Saved in every checkpoint
 * so a resumed run can check it continues the same experiment.
 *
 * @param steps optimizer updates in total
 * @param batchSize rows per micro-batch
 * @param gradAccum micro-batches per update (effective batch = batchSize * gradAccum)
 * @param lr peak learning rate; {@code minLr} the floor of the cosine
 * @param clipNorm global gradient-norm clip (0 = off)
 * @param evalEvery validate every N updates (0 = only at the end); {@code evalBatches} batches each time
 * @param checkpointEvery checkpoint every N updates (0 = only at the end)
 */
public record TrainConfig(int steps, int batchSize, int seqLen, int gradAccum, double lr, double minLr, int warmupSteps,
        double weightDecay, double beta1, double beta2, double eps, double clipNorm, int evalEvery, int evalBatches,
        int checkpointEvery, long seed) {

    public TrainConfig {
        if (steps <= 0 || batchSize <= 0 || seqLen <= 0 || gradAccum <= 0) {
            throw new IllegalArgumentException("steps, batch-size, seq-len and grad-accum must be positive");
        }
    }

    public AdamW.Hyper hyper() {
        return new AdamW.Hyper(beta1, beta2, eps, weightDecay);
    }

    public LrSchedule schedule() {
        return new LrSchedule(lr, minLr, warmupSteps, steps);
    }

    /** Tokens predicted per optimizer update. */
    public long tokensPerStep() {
        return (long) batchSize * gradAccum * seqLen;
    }
}
