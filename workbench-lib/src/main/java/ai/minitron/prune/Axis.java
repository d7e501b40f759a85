package ai.minitron.prune;

/**
 * The structured units Minitron prunes (arXiv 2407.14679 §2): embedding (hidden) channels, attention
 * heads (query heads within their KV groups, or whole KV groups), MLP neurons, and whole layers.
 */
public enum Axis {
    HIDDEN,
    HEADS,
    KV_GROUPS,
    MLP,
    LAYERS
}
