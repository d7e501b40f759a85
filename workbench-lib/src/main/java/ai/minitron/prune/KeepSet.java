package ai.minitron.prune;

import java.util.Arrays;
import java.util.List;

/**
 * Exactly which units of the parent model survive, as indices into the parent (recorded in
 * pruning.json, so any pruned model can be traced back to its teacher).
 *
 * @param hidden kept embedding channels, ascending
 * @param layers kept parent layers, ascending; child layer i is parent layer layers[i]
 * @param kvGroups kept KV heads of the first kept layer, ascending (see kvGroupsPerLayer)
 * @param heads per child layer, the kept query heads of the parent layer, ascending, grouped so
 *     that every kept KV group keeps the same number of query heads
 * @param mlp per child layer, the kept neurons of the parent layer, ascending
 * @param kvGroupsPerLayer per child layer, the kept KV heads of the parent layer, ascending
 */
public record KeepSet(int[] hidden, int[] layers, int[] kvGroups, List<int[]> heads, List<int[]> mlp,
        List<int[]> kvGroupsPerLayer) implements java.io.Serializable {

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof KeepSet k)) {
            return false;
        }
        return Arrays.equals(hidden, k.hidden) && Arrays.equals(layers, k.layers) && Arrays.equals(kvGroups, k.kvGroups)
                && deepEq(heads, k.heads) && deepEq(mlp, k.mlp) && deepEq(kvGroupsPerLayer, k.kvGroupsPerLayer);
    }

    private static boolean deepEq(List<int[]> a, List<int[]> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!Arrays.equals(a.get(i), b.get(i))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(hidden) * 31 + Arrays.hashCode(layers);
    }
}
