package ai.minitron.reproduce;

import ai.minitron.importance.ImportanceTable;
import ai.minitron.importance.Metric;
import java.util.ArrayList;
import java.util.List;

/**
 * The two ways of choosing which layers to drop that Minitron compares (2408.11796 §2, Fig. 9): drop the
 * contiguous block whose removal raises the loss least (block-drop scan), or drop the layers that are
 * individually least important (layer-drop loss, or Block Importance).
 */
final class Depth {
    private Depth() {}

    /** Kept layers after dropping the block of {@code k} layers with the lowest block-drop loss. */
    static List<Integer> contiguousBlock(ImportanceTable imp, int layers, int k) {
        double[] increase = imp.where(Metric.blockDrop(k)).layers(); // [layers - k + 1], by block start
        int best = 0;
        for (int s = 1; s < increase.length; s++) {
            if (increase[s] < increase[best]) {
                best = s;
            }
        }
        List<Integer> keep = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            if (l < best || l >= best + k) {
                keep.add(l);
            }
        }
        return keep;
    }

    /** Per-layer scores of a depth metric (higher = keep), e.g. layer_drop or block_importance. */
    static double[] layerScores(ImportanceTable imp, String metric) {
        return imp.where(metric).layers();
    }
}
