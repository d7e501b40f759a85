package ai.minitron.eval;

/**
 * The unigram language model: p(token) = (count + 1) / (N + V), counted on training tokens with
 * add-one smoothing, ignoring all context. Any trained model must beat it by far; it is the floor
 * against which the embedded teacher's perplexity is reported.
 */
public final class UnigramBaseline {
    private final double[] logProb;

    public UnigramBaseline(long[] trainTokens, int vocabSize) {
        long[] counts = new long[vocabSize];
        for (long t : trainTokens) {
            if (t < 0 || t >= vocabSize) {
                throw new IllegalArgumentException("training token " + t + " outside the vocabulary [0, " + vocabSize + ")");
            }
            counts[(int) t]++;
        }
        double denom = trainTokens.length + (double) vocabSize;
        logProb = new double[vocabSize];
        for (int i = 0; i < vocabSize; i++) {
            logProb[i] = Math.log((counts[i] + 1) / denom);
        }
    }

    /** Mean NLL of predicting tokens[1..] (the same tokens {@link Perplexity#windowed} scores). */
    public double meanNll(long[] tokens) {
        double nll = 0;
        for (int i = 1; i < tokens.length; i++) {
            nll -= logProb[(int) tokens[i]];
        }
        return nll / (tokens.length - 1);
    }

    /** Total NLL of tokens[from..]: the unigram's score of exactly the tokens a protocol scored. */
    public double totalNll(long[] tokens, int from) {
        double nll = 0;
        for (int i = from; i < tokens.length; i++) {
            nll -= logProb[(int) tokens[i]];
        }
        return nll;
    }

    /** log p(token) under the unigram. */
    public double logProb(long token) {
        return logProb[(int) token];
    }
}
