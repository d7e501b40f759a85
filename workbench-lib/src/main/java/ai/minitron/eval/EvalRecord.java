package ai.minitron.eval;

/**
 * One reported number with everything needed to interpret it: which task or text, which metric,
 * the value, its standard error (NaN when not defined), how many items or tokens it averages over,
 * the protocol that produced it, and the data it was measured on. The rows of a {@link ModelCard}.
 *
 * @param task e.g. {@code perplexity/test.txt}, {@code moby_continuation}
 * @param metric e.g. {@code perplexity}, {@code word_perplexity}, {@code acc}, {@code acc_norm}
 * @param stderr standard error of the mean (lm-eval's sample stderr), or NaN
 * @param n items (tasks) or tokens/words/bytes (perplexities) the value is computed over
 */
public record EvalRecord(String task, String metric, double value, double stderr, long n, String protocol,
        String source) {
    /** The record of {@code metric} among {@code records} (the results of one task); throws naming the metrics there are. */
    public static EvalRecord of(java.util.List<EvalRecord> records, String metric) {
        return records.stream().filter(r -> r.metric().equals(metric)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no metric '" + metric + "' among "
                        + records.stream().map(EvalRecord::metric).toList()));
    }

    /** Key under which a newer record replaces an older one in a model card: same task, metric and protocol. */
    public String key() {
        return task + "\u0000" + metric + "\u0000" + protocol;
    }
}
