package ai.minitron.generate;

/**
 * How the next token is chosen from the logits, in Hugging Face's order: repetition penalty, then
 * temperature, then top-k, then top-p (nucleus), then a draw from the remaining distribution.
 *
 * @param temperature 0 = greedy (argmax, after the repetition penalty); otherwise logits are divided by it
 * @param topK keep the k most likely tokens (ties broken towards the lower id); 0 = off
 * @param topP keep the smallest set of most likely tokens whose probability reaches p; 1 = off
 * @param repetitionPenalty CTRL's penalty (Keskar et al. 2019) on every token already in the prompt or
 *     the continuation: a positive logit is divided by it, a negative one multiplied; 1 = off
 * @param seed seeds the draw; every prompt gets its own generator seeded with it, so a prompt's
 *     continuation does not depend on which other prompts share its batch
 */
public record SamplingParams(double temperature, int topK, double topP, double repetitionPenalty, long seed) {

    public SamplingParams {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0 (0 = greedy), got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top-k must be >= 0 (0 = off), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1] (1 = off), got " + topP);
        }
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetition penalty must be a finite number > 0 (1 = off), got "
                    + repetitionPenalty);
        }
    }

    /** Argmax decoding, no penalty. */
    public static SamplingParams greedy() {
        return new SamplingParams(0, 0, 1, 1, 0);
    }

    /** Plain sampling from softmax(logits / temperature). */
    public static SamplingParams sample(double temperature, long seed) {
        return new SamplingParams(temperature, 0, 1, 1, seed);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    public SamplingParams withTemperature(double t) {
        return new SamplingParams(t, topK, topP, repetitionPenalty, seed);
    }

    public SamplingParams withTopK(int k) {
        return new SamplingParams(temperature, k, topP, repetitionPenalty, seed);
    }

    public SamplingParams withTopP(double p) {
        return new SamplingParams(temperature, topK, p, repetitionPenalty, seed);
    }

    public SamplingParams withRepetitionPenalty(double r) {
        return new SamplingParams(temperature, topK, topP, r, seed);
    }

    public SamplingParams withSeed(long s) {
        return new SamplingParams(temperature, topK, topP, repetitionPenalty, s);
    }

    /** e.g. "greedy" or "sample: temperature 0.8, top-k 50, top-p 0.95, seed 1". */
    public String describe() {
        StringBuilder sb = new StringBuilder(isGreedy() ? "greedy" : "sample: temperature " + temperature);
        if (!isGreedy()) {
            if (topK > 0) sb.append(", top-k ").append(topK);
            if (topP < 1) sb.append(", top-p ").append(topP);
        }
        if (repetitionPenalty != 1) sb.append(", ").append("repetition penalty ").append(repetitionPenalty);
        if (!isGreedy()) sb.append(", seed ").append(seed);
        return sb.toString();
    }
}
