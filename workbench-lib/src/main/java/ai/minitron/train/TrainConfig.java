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

    /**
     * A builder: steps, batch size, sequence length and learning rate have no default; the rest default to
     * no accumulation, a constant floor of 0, no warmup or weight decay, AdamW betas (0.9, 0.95), eps 1e-8,
     * clip 1.0, validation (1 batch) and checkpoint only at the end, seed 0.
     */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this configuration, to change some fields. */
    public Builder toBuilder() {
        return new Builder().steps(steps).batchSize(batchSize).seqLen(seqLen).gradAccum(gradAccum).lr(lr).minLr(minLr)
                .warmupSteps(warmupSteps).weightDecay(weightDecay).beta1(beta1).beta2(beta2).eps(eps).clipNorm(clipNorm)
                .evalEvery(evalEvery).evalBatches(evalBatches).checkpointEvery(checkpointEvery).seed(seed);
    }

    /** Names each field of a {@link TrainConfig}; {@link #build} validates as the record does. */
    public static final class Builder {
        private int steps;
        private int batchSize;
        private int seqLen;
        private int gradAccum = 1;
        private double lr;
        private boolean lrSet;
        private double minLr;
        private int warmupSteps;
        private double weightDecay;
        private double beta1 = 0.9;
        private double beta2 = 0.95;
        private double eps = 1e-8;
        private double clipNorm = 1.0;
        private int evalEvery;
        private int evalBatches = 1;
        private int checkpointEvery;
        private long seed;

        private Builder() {}

        public Builder steps(int v) {
            this.steps = v;
            return this;
        }

        public Builder batchSize(int v) {
            this.batchSize = v;
            return this;
        }

        public Builder seqLen(int v) {
            this.seqLen = v;
            return this;
        }

        public Builder gradAccum(int v) {
            this.gradAccum = v;
            return this;
        }

        public Builder lr(double v) {
            this.lr = v;
            this.lrSet = true;
            return this;
        }

        public Builder minLr(double v) {
            this.minLr = v;
            return this;
        }

        public Builder warmupSteps(int v) {
            this.warmupSteps = v;
            return this;
        }

        public Builder weightDecay(double v) {
            this.weightDecay = v;
            return this;
        }

        public Builder beta1(double v) {
            this.beta1 = v;
            return this;
        }

        public Builder beta2(double v) {
            this.beta2 = v;
            return this;
        }

        public Builder eps(double v) {
            this.eps = v;
            return this;
        }

        public Builder clipNorm(double v) {
            this.clipNorm = v;
            return this;
        }

        public Builder evalEvery(int v) {
            this.evalEvery = v;
            return this;
        }

        public Builder evalBatches(int v) {
            this.evalBatches = v;
            return this;
        }

        public Builder checkpointEvery(int v) {
            this.checkpointEvery = v;
            return this;
        }

        public Builder seed(long v) {
            this.seed = v;
            return this;
        }

        public TrainConfig build() {
            if (!lrSet) {
                throw new IllegalArgumentException("no learning rate: call lr(...)");
            }
            return new TrainConfig(steps, batchSize, seqLen, gradAccum, lr, minLr, warmupSteps, weightDecay, beta1,
                    beta2, eps, clipNorm, evalEvery, evalBatches, checkpointEvery, seed);
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
