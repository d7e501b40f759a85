package ai.minitron.generate;

/**
 * One prompt's continuation.
 *
 * @param prompt the prompt text (null when generation started from token ids)
 * @param promptTokens the prompt's token ids
 * @param tokens the new token ids, in order; ends with the EOS id when {@link #stopReason} is EOS
 * @param text the continuation's text: the new tokens decoded, without a final EOS token, and cut
 *     before a stop string (empty when there is no tokenizer)
 * @param prefillSeconds wall time of the prompt's forward pass (shared by the rows of a batch)
 * @param decodeSeconds wall time from the first new token until this row stopped
 */
public record Generation(String prompt, long[] promptTokens, long[] tokens, String text, StopReason stopReason,
        double prefillSeconds, double decodeSeconds) {

    /** Number of new tokens. */
    public int newTokens() {
        return tokens.length;
    }

    /** New tokens per second of wall time, prefill included. */
    public double tokensPerSecond() {
        double s = prefillSeconds + decodeSeconds;
        return s > 0 ? tokens.length / s : 0;
    }
}
