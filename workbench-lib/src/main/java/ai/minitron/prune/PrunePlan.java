package ai.minitron.prune;

import java.util.List;

/**
 * A target shape for pruning. Every field is optional (null = keep that axis whole):
 *
 * @param hiddenSize embedding channels to keep (one global order for the whole model)
 * @param headsPerGroup query heads to keep in every KV group (GQA-aware: groups stay equal)
 * @param kvGroups KV groups (key/value heads) to keep, each with all of its query heads
 * @param mlpSize MLP neurons to keep in every layer
 * @param numLayers layers to keep, chosen by {@code depth}
 * @param keepLayers explicit parent layer indices to keep (overrides numLayers)
 * @param depth LOWEST = drop the individually least important layers; CONTIGUOUS = drop the
 *     contiguous block with the lowest total importance
 */
public record PrunePlan(Integer hiddenSize, Integer headsPerGroup, Integer kvGroups, Integer mlpSize,
        Integer numLayers, List<Integer> keepLayers, Depth depth) {

    /** How layers are chosen when only a count is given. */
    public enum Depth {
        LOWEST,
        CONTIGUOUS
    }

    public static PrunePlan keepAll() {
        return new PrunePlan(null, null, null, null, null, null, Depth.LOWEST);
    }

    public PrunePlan withHidden(int h) {
        return new PrunePlan(h, headsPerGroup, kvGroups, mlpSize, numLayers, keepLayers, depth);
    }

    public PrunePlan withHeadsPerGroup(int q) {
        return new PrunePlan(hiddenSize, q, kvGroups, mlpSize, numLayers, keepLayers, depth);
    }

    public PrunePlan withKvGroups(int g) {
        return new PrunePlan(hiddenSize, headsPerGroup, g, mlpSize, numLayers, keepLayers, depth);
    }

    public PrunePlan withMlp(int i) {
        return new PrunePlan(hiddenSize, headsPerGroup, kvGroups, i, numLayers, keepLayers, depth);
    }

    public PrunePlan withLayers(int n, Depth how) {
        return new PrunePlan(hiddenSize, headsPerGroup, kvGroups, mlpSize, n, null, how);
    }

    public PrunePlan withKeepLayers(List<Integer> layers) {
        return new PrunePlan(hiddenSize, headsPerGroup, kvGroups, mlpSize, null, List.copyOf(layers), depth);
    }
}
