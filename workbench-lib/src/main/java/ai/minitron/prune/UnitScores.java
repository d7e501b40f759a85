package ai.minitron.prune;

import ai.minitron.config.ModelConfig;
import ai.minitron.importance.AxisScores;
import ai.minitron.importance.ImportanceTable;
import java.util.function.Supplier;

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

    /**
     * Block-drop scan scores for blocks of {@code k} contiguous layers [num_hidden_layers - k + 1], by
     * first layer: the loss increase when the block is removed (importance metric block_drop_kK; higher
     * = keep); null when not available. {@link PrunePlan.Depth#BLOCK_DROP} drops the lowest block.
     */
    default double[] blockDrop(int k) {
        return null;
    }

    /** These scores, with the block-drop scan scores {@code increase} of blocks of {@code k} layers. */
    default UnitScores withBlockDrop(int k, double[] increase) {
        return new FunctionScores(this::hidden, this::heads, this::mlp, this::layers, runId(),
                size -> size == k ? increase.clone() : blockDrop(size));
    }

    /**
     * Scores held in arrays (a metric's result, a planted ranking, {@link AxisScores#firstK} or
     * {@link AxisScores#random}); an axis the arrays do not hold has no scores.
     */
    static UnitScores of(AxisScores s) {
        return new FunctionScores(s::hidden, l -> s.heads() == null ? null : s.heads()[l],
                l -> s.mlp() == null ? null : s.mlp()[l], s::layers, s.runId(), k -> null);
    }

    /** Earlier units score higher: pruning keeps the first k of every axis ({@link AxisScores#firstK}). */
    static UnitScores firstK(ModelConfig c) {
        return of(AxisScores.firstK(c));
    }

    /** Seeded random scores, the paper's random baseline ({@link AxisScores#random}). */
    static UnitScores random(ModelConfig c, long seed) {
        return of(AxisScores.random(c, seed));
    }

    /** An importance view's width scores, without layer scores. */
    static UnitScores of(ImportanceTable.View width) {
        return of(width, (double[]) null);
    }

    /**
     * An importance run's views as pruning scores: the width axes from {@code width}, the layers from
     * {@code depth} (null: no layer scores). The run id names both views.
     */
    static UnitScores of(ImportanceTable.View width, ImportanceTable.View depth) {
        return depth == null ? of(width)
                : of(width, depth::layers, width.runId() + " + " + depth.runId());
    }

    /** The width axes from {@code width}, layer scores from an array (null: none), e.g. a depth scan's. */
    static UnitScores of(ImportanceTable.View width, double[] layers) {
        return of(width, () -> layers == null ? new double[0] : layers.clone(), width.runId());
    }

    private static UnitScores of(ImportanceTable.View width, Supplier<double[]> layers, String runId) {
        return new FunctionScores(width::hidden, width::heads, width::mlp, layers, runId, k -> null);
    }
}
