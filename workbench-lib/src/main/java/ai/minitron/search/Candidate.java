package ai.minitron.search;

import ai.minitron.config.ModelConfig;
import ai.minitron.prune.PrunePlan;

/**
 * One architecture of a search: the shape a pruned child would have, and its exact parameter count
 * (from {@link ai.minitron.config.ParamCount}). Query heads are kept GQA-aware: {@code kvGroups}
 * key/value heads, each keeping {@code numAttentionHeads / kvGroups} of its query heads.
 *
 * @param hiddenSize embedding channels (hidden_size)
 * @param numAttentionHeads query heads (num_attention_heads)
 * @param kvGroups key/value heads (num_key_value_heads)
 * @param mlpSize MLP neurons per layer (intermediate_size)
 * @param numLayers layers (num_hidden_layers)
 * @param params exact parameter count of the child
 */
public record Candidate(int hiddenSize, int numAttentionHeads, int kvGroups, int mlpSize, int numLayers, long params) implements java.io.Serializable {

    /** Query heads each kept KV group keeps. */
    public int headsPerGroup() {
        return numAttentionHeads / kvGroups;
    }

    /** A stable name, e.g. {@code h192-a6-kv2-m512-l6}. */
    public String id() {
        return "h" + hiddenSize + "-a" + numAttentionHeads + "-kv" + kvGroups + "-m" + mlpSize + "-l" + numLayers;
    }

    /** The child's config. */
    public ModelConfig config(ModelConfig parent) {
        return parent.withShape(hiddenSize, mlpSize, numLayers, numAttentionHeads, kvGroups);
    }

    /** The pruning plan that produces this shape from the parent (layers chosen by {@code depth}). */
    public PrunePlan plan(PrunePlan.Depth depth) {
        return PrunePlan.keepAll().withHidden(hiddenSize).withKvGroups(kvGroups).withHeadsPerGroup(headsPerGroup())
                .withMlp(mlpSize).withLayers(numLayers, depth);
    }

    @Override
    public String toString() {
        return id() + String.format(" (%,d params)", params);
    }
}
