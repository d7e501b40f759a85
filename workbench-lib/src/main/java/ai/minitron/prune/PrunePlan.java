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
 *     contiguous block with the lowest total importance; BLOCK_DROP = drop the contiguous block whose
 *     removal raised the loss least in the block-drop scan ({@link UnitScores#blockDrop})
 * @param headResidual EXPERIMENTAL, off by default: Minitron's "residual" for pruned attention heads
 *     (arXiv 2407.14679 §2.3: the information of pruned heads is added back to the retained heads, an
 *     attention analogue of Layer Collapse). Variant implemented here: within every kept KV group, each
 *     pruned query head j is assigned to the kept head i of the same group whose q_proj rows are most
 *     similar (cosine over the D x hidden block; ties to the lower index), and o_proj's D columns of j
 *     are added to those of i: {@code o_proj[:, i] += o_proj[:, j]}. q/k/v are unchanged. The rule is
 *     exact when head j computes the same context as head i (e.g. a duplicate), and a first-order
 *     merge otherwise. Heads of dropped KV groups are not merged (their keys and values are gone).
 */
public record PrunePlan(Integer hiddenSize, Integer headsPerGroup, Integer kvGroups, Integer mlpSize,
        Integer numLayers, List<Integer> keepLayers, Depth depth, boolean headResidual) implements java.io.Serializable {

    /** A plan without the experimental head residual. */
    public PrunePlan(Integer hiddenSize, Integer headsPerGroup, Integer kvGroups, Integer mlpSize, Integer numLayers,
            List<Integer> keepLayers, Depth depth) {
        this(hiddenSize, headsPerGroup, kvGroups, mlpSize, numLayers, keepLayers, depth, false);
    }

    /** How layers are chosen when only a count is given. */
    public enum Depth {
        /** Drop the layers with the lowest scores. */
        LOWEST,
        /** Drop the contiguous block with the lowest total layer score. */
        CONTIGUOUS,
        /** Drop the contiguous block with the lowest block-drop scan loss increase (2408.11796 §2, Fig. 9). */
        BLOCK_DROP
    }

    public static PrunePlan keepAll() {
        return new PrunePlan(null, null, null, null, null, null, Depth.LOWEST);
    }

    public PrunePlan withHidden(int h) {
        return new PrunePlan(h, headsPerGroup, kvGroups, mlpSize, numLayers, keepLayers, depth, headResidual);
    }

    public PrunePlan withHeadsPerGroup(int q) {
        return new PrunePlan(hiddenSize, q, kvGroups, mlpSize, numLayers, keepLayers, depth, headResidual);
    }

    public PrunePlan withKvGroups(int g) {
        return new PrunePlan(hiddenSize, headsPerGroup, g, mlpSize, numLayers, keepLayers, depth, headResidual);
    }

    public PrunePlan withMlp(int i) {
        return new PrunePlan(hiddenSize, headsPerGroup, kvGroups, i, numLayers, keepLayers, depth, headResidual);
    }

    public PrunePlan withLayers(int n, Depth how) {
        return new PrunePlan(hiddenSize, headsPerGroup, kvGroups, mlpSize, n, null, how, headResidual);
    }

    public PrunePlan withKeepLayers(List<Integer> layers) {
        return new PrunePlan(hiddenSize, headsPerGroup, kvGroups, mlpSize, null, List.copyOf(layers), depth, headResidual);
    }

    /** Switches the experimental head residual on or off (see {@link #headResidual}). */
    public PrunePlan withHeadResidual(boolean on) {
        return new PrunePlan(hiddenSize, headsPerGroup, kvGroups, mlpSize, numLayers, keepLayers, depth, on);
    }

    /**
     * Query heads per KV group for a total of {@code heads} query heads over {@code kvGroups} kept
     * groups of {@code c}; refuses a count that does not split evenly, listing the valid ones.
     */
    public static int headsPerGroup(ai.minitron.config.ModelConfig c, int heads, int kvGroups) {
        int g = c.queriesPerKvHead();
        if (kvGroups < 1 || kvGroups > c.numKeyValueHeads()) {
            throw new IllegalArgumentException("KV groups " + kvGroups + " is outside the model's range: valid choices are 1.."
                    + c.numKeyValueHeads());
        }
        if (heads % kvGroups != 0 || heads / kvGroups < 1 || heads / kvGroups > g) {
            StringBuilder valid = new StringBuilder();
            for (int q = 1; q <= g; q++) {
                valid.append(q == 1 ? "" : ", ").append(q * kvGroups);
            }
            throw new IllegalArgumentException(heads + " query heads cannot be split evenly over " + kvGroups
                    + " KV groups of at most " + g + " heads each: valid head counts are " + valid);
        }
        return heads / kvGroups;
    }
}
