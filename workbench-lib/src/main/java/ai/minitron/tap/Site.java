package ai.minitron.tap;

/**
 * Named points of a decoder forward pass where activations can be observed (docs/architecture.md, "Forward pass and taps").
 * Shapes are those the listener receives; B = batch, T = sequence, H = hidden size,
 * nH = query heads, D = head_dim, I = MLP intermediate size.
 */
public enum Site {
    /** Residual stream entering layer l: [B, T, H]. */
    LAYER_IN,
    /** Output of the layer's input (pre-attention) norm: [B, T, H]. */
    INPUT_NORM_OUT,
    /** Per-head attention context before o_proj: [B, T, nH, D]. */
    ATTN_HEADS_OUT,
    /** Output of the post-attention (pre-MLP) norm: [B, T, H]. */
    POST_ATTN_NORM_OUT,
    /** MLP intermediate activation, the input of down_proj: [B, T, I]. */
    MLP_ACT,
    /** Residual stream leaving layer l: [B, T, H]. */
    LAYER_OUT,
    /** Output of the final norm, before lm_head (layer = -1): [B, T, H]. */
    FINAL_NORM_OUT
}
