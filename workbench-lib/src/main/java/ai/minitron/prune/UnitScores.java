package ai.minitron.prune;

/**
 * Importance scores the pruner ranks by: higher means more important. Any importance metric or
 * aggregation can supply them (activation, magnitude, Taylor, random, a planted test ranking).
 */
public interface UnitScores {
    /** Scores of embedding channels [hidden_size]. */
    double[] hidden();

    /** Scores of the query heads of a layer [num_attention_heads]. */
    double[] heads(int layer);

    /** Scores of the MLP neurons of a layer [intermediate_size]. */
    double[] mlp(int layer);

    /** Scores of the layers [num_hidden_layers] (e.g. Block Importance); higher = keep. */
    double[] layers();

    /** Identifies where the scores came from (recorded in pruning.json). */
    String runId();
}
