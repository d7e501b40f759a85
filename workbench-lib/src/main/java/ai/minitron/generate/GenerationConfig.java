package ai.minitron.generate;

import java.util.ArrayList;
import java.util.List;

/**
 * What to generate: how many tokens at most, how to choose them, when to stop, how many prompts
 * share a forward pass. Immutable; the withers read as a sentence in a notebook:
 * {@code GenerationConfig.defaults().withMaxNewTokens(64).withTemperature(0.8).withTopP(0.95).withSeed(1)}.
 *
 * @param maxNewTokens at most this many new tokens per prompt
 * @param sampling how each token is chosen
 * @param eosTokenIds ids that end a sequence; null = the tokenizer's EOS (if it has one); empty =
 *     never stop on a token id
 * @param stopStrings a sequence stops as soon as its text contains one of these (needs a tokenizer)
 * @param batchSize prompts decoded together (left-padded to the longest)
 */
public record GenerationConfig(int maxNewTokens, SamplingParams sampling, List<Long> eosTokenIds,
        List<String> stopStrings, int batchSize) {

    public GenerationConfig {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("max new tokens must be >= 1, got " + maxNewTokens);
        }
        if (sampling == null) {
            throw new IllegalArgumentException("sampling parameters must not be null (use SamplingParams.greedy())");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        eosTokenIds = eosTokenIds == null ? null : List.copyOf(eosTokenIds);
        stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
        for (String s : stopStrings) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("a stop string must not be empty");
            }
        }
    }

    /** 128 new tokens, greedy, the tokenizer's EOS, no stop strings, batches of 8. */
    public static GenerationConfig defaults() {
        return new GenerationConfig(128, SamplingParams.greedy(), null, List.of(), 8);
    }

    public GenerationConfig withMaxNewTokens(int n) {
        return new GenerationConfig(n, sampling, eosTokenIds, stopStrings, batchSize);
    }

    public GenerationConfig withSampling(SamplingParams s) {
        return new GenerationConfig(maxNewTokens, s, eosTokenIds, stopStrings, batchSize);
    }

    public GenerationConfig withTemperature(double t) {
        return withSampling(sampling.withTemperature(t));
    }

    public GenerationConfig withTopK(int k) {
        return withSampling(sampling.withTopK(k));
    }

    public GenerationConfig withTopP(double p) {
        return withSampling(sampling.withTopP(p));
    }

    public GenerationConfig withRepetitionPenalty(double r) {
        return withSampling(sampling.withRepetitionPenalty(r));
    }

    public GenerationConfig withSeed(long seed) {
        return withSampling(sampling.withSeed(seed));
    }

    /** Replaces the EOS ids (none given = never stop on a token id). */
    public GenerationConfig withEosTokenIds(long... ids) {
        List<Long> l = new ArrayList<>();
        for (long id : ids) l.add(id);
        return new GenerationConfig(maxNewTokens, sampling, l, stopStrings, batchSize);
    }

    public GenerationConfig withStopStrings(String... stops) {
        return new GenerationConfig(maxNewTokens, sampling, eosTokenIds, List.of(stops), batchSize);
    }

    public GenerationConfig withBatchSize(int b) {
        return new GenerationConfig(maxNewTokens, sampling, eosTokenIds, stopStrings, b);
    }
}
