package ai.minitron.reproduce;

import ai.minitron.config.ModelConfig;
import ai.minitron.importance.ImportanceTable;
import ai.minitron.importance.Metric;
import ai.minitron.prune.PrunePlan;
import ai.minitron.prune.Pruner;
import ai.minitron.prune.UnitScores;
import java.util.Arrays;
import java.util.List;

/**
 * The two ways of choosing which layers to drop that Minitron compares (2408.11796 §2, Fig. 9): drop the
 * contiguous block whose removal raises the loss least (block-drop scan), or drop the layers that are
 * individually least important (layer-drop loss, or Block Importance).
 */
final class Depth {
    private Depth() {}

    /**
     * Kept layers after dropping the block of {@code k} layers with the lowest block-drop loss (the
     * pruner's {@link PrunePlan.Depth#BLOCK_DROP}).
     */
    static List<Integer> contiguousBlock(ImportanceTable imp, ModelConfig c, int k) {
        UnitScores s = UnitScores.firstK(c).withBlockDrop(k, imp.where(Metric.blockDrop(k)).layers());
        PrunePlan plan = PrunePlan.keepAll().withLayers(c.numHiddenLayers() - k, PrunePlan.Depth.BLOCK_DROP);
        return Arrays.stream(Pruner.select(c, plan, s).layers()).boxed().toList();
    }

    /** Per-layer scores of a depth metric (higher = keep), e.g. layer_drop or block_importance. */
    static double[] layerScores(ImportanceTable imp, String metric) {
        return imp.where(metric).layers();
    }
}
