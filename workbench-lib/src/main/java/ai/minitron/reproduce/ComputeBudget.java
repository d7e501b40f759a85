package ai.minitron.reproduce;

import com.google.gson.JsonObject;

/**
 * How much compute the reproduction spends: data sizes, the distillation token budget D shared by the
 * experiments, and the factors derived from it, and how many seeds every arm runs with. {@link #full()} is sized
 * so that all nine experiments, 3 seeds each, fit in under an hour on 2 CPU cores with the embedded teacher;
 * {@link #quick()} only checks that the pipeline runs end to end (its numbers mean nothing).
 *
 * @param name "full" or "quick"
 * @param seqLen tokens per training / validation / calibration row
 * @param batchSize rows per optimizer step (distillation and scratch training)
 * @param calibrationSamples rows of the importance pass on the teacher
 * @param depthSamples rows of the loss-based depth scans (layer drop, block drop)
 * @param validationRows rows of the one validation set every model is scored on
 * @param distillTokens D: student tokens of every distillation run that experiments compare with each other
 * @param searchTokens student tokens of each candidate's lightweight distillation (experiment 6)
 * @param searchStages validations along each candidate's distillation (rankings compared with Kendall tau)
 * @param searchTopK how many of the zero-shot best search candidates are distilled and re-ranked (experiment 6)
 * @param scratchTokens prune + distill tokens of experiment 4 (the from-scratch model gets 1x and this x scratchFactor)
 * @param scratchFactor how many more tokens the long from-scratch run sees (the paper's 40x)
 * @param iterativeSteps pruning steps of iterative importance (experiment 9)
 * @param lr peak learning rate of distillation (scratch training uses 2x, as the teacher's pretraining did)
 * @param seeds how many times every arm of every experiment runs, seed i = 0..seeds-1 changing data order,
 *     calibration sample, the random baseline and initialisation ({@link Lab#seeded}); the verdicts rest on
 *     the interval over these seeds (1 for the zero-shot budgets, whose intervals are over validation windows)
 */
public record ComputeBudget(String name, int seqLen, int batchSize, int calibrationSamples, int depthSamples,
        int validationRows, long distillTokens, long searchTokens, int searchStages, int searchTopK, long scratchTokens,
        int scratchFactor, int iterativeSteps, double lr, int seeds) {

    public ComputeBudget {
        if (seqLen < 2 || batchSize < 1 || calibrationSamples < 1 || depthSamples < 1 || validationRows < 1) {
            throw new IllegalArgumentException("budget '" + name + "': seq-len, batch, calibration, depth and"
                    + " validation sizes must be positive");
        }
        if (distillTokens < 1 || searchTokens < 1 || scratchTokens < 1 || scratchFactor < 1 || searchStages < 1
                || iterativeSteps < 2 || searchTopK < 2) {
            throw new IllegalArgumentException("budget '" + name + "': token budgets must be positive, search stages"
                    + " >= 1, search top-k >= 2 and iterative steps >= 2");
        }
        if (seeds < 1) {
            throw new IllegalArgumentException("budget '" + name + "': seeds must be >= 1, got " + seeds);
        }
    }

    /** A single-seed budget (the zero-shot findings, the case study). */
    public ComputeBudget(String name, int seqLen, int batchSize, int calibrationSamples, int depthSamples,
            int validationRows, long distillTokens, long searchTokens, int searchStages, int searchTopK,
            long scratchTokens, int scratchFactor, int iterativeSteps, double lr) {
        this(name, seqLen, batchSize, calibrationSamples, depthSamples, validationRows, distillTokens, searchTokens,
                searchStages, searchTopK, scratchTokens, scratchFactor, iterativeSteps, lr, 1);
    }

    /** The number of seeds every arm runs with. */
    public static final int DEFAULT_SEEDS = 3;

    /** This budget with {@code n} seeds per arm. */
    public ComputeBudget withSeeds(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("--seeds must be >= 1, got " + n);
        }
        return new ComputeBudget(name, seqLen, batchSize, calibrationSamples, depthSamples, validationRows,
                distillTokens, searchTokens, searchStages, searchTopK, scratchTokens, scratchFactor, iterativeSteps, lr, n);
    }

    /**
     * The full run, 3 seeds per arm: D = 65,536 student tokens (128 steps of 4 x 128) per compared distillation,
     * 32,768 for each of the 5 best search candidates (validated every 16 steps), 8,192 for prune + distill
     * against 40 x 8,192 from scratch; 64 calibration rows, 8 for the depth scans, 16 validation rows (2,048
     * tokens, the same for every model and seed).
     *
     * <p>Sized for about 55 minutes on 2 idle cores. The single-seed run at twice these token budgets (now
     * {@code scaled(2).withSeeds(1)}) took 34.4 min on the idle 2-core machine and 4.1 min at 1/16 of them, so
     * one seed costs about 2.0 min + 32.3 min x (tokens / those budgets); at half the tokens that is 18.2 min a
     * seed, 55 min for three (the README, "Paper findings in miniature", has the arithmetic). {@link #scaled}
     * multiplies the token budgets for a machine with more time.
     */
    public static ComputeBudget full() {
        return new ComputeBudget("full", 128, 4, 64, 8, 16, 65_536, 32_768, 4, 5, 8_192, 40, 4, 1e-3, DEFAULT_SEEDS);
    }

    /** This budget with every token budget (distillation, search, scratch) multiplied by {@code k}. */
    public ComputeBudget scaled(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("--scale must be >= 1, got " + k);
        }
        if (k == 1) {
            return this;
        }
        return new ComputeBudget(name + "-x" + k, seqLen, batchSize, calibrationSamples, depthSamples, validationRows,
                distillTokens * k, searchTokens * k, searchStages, searchTopK, scratchTokens * k, scratchFactor, iterativeSteps,
                lr, seeds);
    }

    /**
     * The zero-shot findings (forward passes only, {@code minitron reproduce --zero-shot}): 64 calibration
     * rows of 256 tokens, 8 for the depth scans, and 32 validation windows of 256 tokens scored one row at a
     * time (batch size 1), so the paired bootstrap resamples 32 windows. Retraining budgets are unused.
     */
    public static ComputeBudget zeroShotFindings() {
        return new ComputeBudget("zero-shot", 256, 1, 64, 8, 32, 1, 1, 1, 2, 1, 1, 4, 1e-3);
    }

    /** The zero-shot pipeline check used by the tests (tiny data; numbers mean nothing). */
    public static ComputeBudget zeroShotQuick() {
        return new ComputeBudget("zero-shot-quick", 16, 1, 8, 4, 6, 1, 1, 1, 2, 1, 1, 2, 1e-3);
    }

    /** True for the zero-shot budgets (their importance pass adds the Taylor and Wanda baselines). */
    public boolean zeroShot() {
        return name.startsWith("zero-shot");
    }

    /** The pipeline check used by the tests: every experiment runs, on tiny data. */
    public static ComputeBudget quick() {
        return new ComputeBudget("quick", 16, 2, 8, 4, 4, 64, 64, 2, 2, 32, 4, 2, 1e-3, DEFAULT_SEEDS);
    }

    /** Tokens per optimizer step. */
    public long tokensPerStep() {
        return (long) batchSize * seqLen;
    }

    /** Optimizer steps that spend {@code tokens} student tokens (at least one). */
    public int steps(long tokens) {
        return (int) Math.max(1, tokens / tokensPerStep());
    }

    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("name", name);
        o.addProperty("seq_len", seqLen);
        o.addProperty("batch_size", batchSize);
        o.addProperty("calibration_samples", calibrationSamples);
        o.addProperty("depth_samples", depthSamples);
        o.addProperty("validation_rows", validationRows);
        o.addProperty("distill_tokens", distillTokens);
        o.addProperty("search_tokens", searchTokens);
        o.addProperty("search_stages", searchStages);
        o.addProperty("search_top_k", searchTopK);
        o.addProperty("scratch_tokens", scratchTokens);
        o.addProperty("scratch_factor", scratchFactor);
        o.addProperty("iterative_steps", iterativeSteps);
        o.addProperty("lr", lr);
        o.addProperty("seeds", seeds);
        return o;
    }
}
