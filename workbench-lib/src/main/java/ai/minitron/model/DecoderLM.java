package ai.minitron.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import ai.minitron.config.ModelConfig;
import ai.minitron.tap.Site;
import ai.minitron.tap.Taps;

/**
 * The forward pass of a Llama-family decoder-only language model, as a plain function of a
 * {@link ModelConfig}, named {@link Weights} and token ids (ARCHITECTURE.md §4):
 *
 * <pre>
 *   x = embed_tokens[ids]                                  [B, T, H]
 *   for each layer l:
 *     x = x + o_proj(attention(input_layernorm(x)))        (RoPE, GQA, causal + padding mask)
 *     x = x + mlp(post_attention_layernorm(x))             (SwiGLU or squared ReLU)
 *   logits = lm_head(norm(x))                              [B, T, V]   (lm_head = embed_tokens if tied)
 * </pre>
 *
 * Mirrors Hugging Face's {@code modeling_llama.py} (and its Mistral, Qwen2, Nemotron siblings) so the
 * two can be read side by side; parity is asserted against transformers' logits in the tests.
 * Intermediates are created on the input's manager: run a step inside an {@code NDScope} or a
 * sub-manager and close it afterwards. Gradients flow to every weight that requires them.
 */
public final class DecoderLM {
    private DecoderLM() {}

    /** Logits [B, T, V] for token ids [B, T] (int64), no padding, no taps. */
    public static NDArray forward(ModelConfig c, Weights w, NDArray inputIds) {
        return forward(c, w, inputIds, null, null, Taps.NONE);
    }

    /**
     * @param inputIds [B, T] int64
     * @param attentionMask [B, T] (1 = token, 0 = padding) or null for no padding
     * @param positionIds [B, T] int64 or null: then {@code cumsum(mask) - 1} (clamped at 0) with a mask,
     *     else 0..T-1, so left-padded rows get the positions they would have unpadded
     * @return logits [B, T, V]
     */
    public static NDArray forward(ModelConfig c, Weights w, NDArray inputIds, NDArray attentionMask,
            NDArray positionIds, Taps taps) {
        NDArray x = hiddenStates(c, w, inputIds, attentionMask, positionIds, taps);
        NDArray head = c.tieWordEmbeddings() ? w.get("model.embed_tokens.weight") : w.get("lm_head.weight");
        return Weights.linear(x, head, null); // [B,T,V]
    }

    /** The final-norm output [B, T, H] (what lm_head reads). */
    public static NDArray hiddenStates(ModelConfig c, Weights w, NDArray inputIds, NDArray attentionMask,
            NDArray positionIds, Taps taps) {
        checkInputs(c, inputIds, attentionMask);
        NDManager m = inputIds.getManager();
        long b = inputIds.getShape().get(0);
        long t = inputIds.getShape().get(1);
        NDArray embed = w.get("model.embed_tokens.weight");
        DataType dtype = embed.getDataType();

        if (positionIds == null) {
            positionIds = attentionMask == null
                    ? m.arange(0, t, 1, DataType.INT64).reshape(1, t).repeat(0, b)
                    : Scalars.maximum(attentionMask.toType(DataType.INT64, false).cumSum(1).sub(1), 0);
        }
        NDList cs = Rope.cosSin(c, positionIds, dtype);
        NDArray cos = cs.get(0);
        NDArray sin = cs.get(1);
        NDArray mask = Attention.maskBias(m, t, attentionMask, dtype);

        NDArray ids = inputIds.getDataType() == DataType.INT64 ? inputIds : inputIds.toType(DataType.INT64, false);
        NDArray x = ids.getNDArrayInternal().embedding(ids, embed, SparseFormat.DENSE).singletonOrThrow(); // [B,T,H]
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            x = layer(c, w, l, x, cos, sin, mask, taps);
        }
        x = Norm.apply(c, x, w.get("model.norm.weight"), w.bias("model.norm.bias"));
        if (taps.wants(Site.FINAL_NORM_OUT)) {
            taps.emit(Site.FINAL_NORM_OUT, -1, x);
        }
        return x;
    }

    /** One decoder layer on the residual stream x [B, T, H]. */
    public static NDArray layer(ModelConfig c, Weights w, int l, NDArray x, NDArray cos, NDArray sin, NDArray mask,
            Taps taps) {
        String p = "model.layers." + l + ".";
        if (taps.wants(Site.LAYER_IN)) {
            taps.emit(Site.LAYER_IN, l, x);
        }
        NDArray h = Norm.apply(c, x, w.get(p + "input_layernorm.weight"), w.bias(p + "input_layernorm.bias"));
        if (taps.wants(Site.INPUT_NORM_OUT)) {
            taps.emit(Site.INPUT_NORM_OUT, l, h);
        }
        x = x.add(Attention.forward(c, w, l, h, cos, sin, mask, taps));
        h = Norm.apply(c, x, w.get(p + "post_attention_layernorm.weight"), w.bias(p + "post_attention_layernorm.bias"));
        if (taps.wants(Site.POST_ATTN_NORM_OUT)) {
            taps.emit(Site.POST_ATTN_NORM_OUT, l, h);
        }
        x = x.add(Mlp.forward(c, w, l, h, taps));
        if (taps.wants(Site.LAYER_OUT)) {
            taps.emit(Site.LAYER_OUT, l, x);
        }
        return x;
    }

    private static void checkInputs(ModelConfig c, NDArray ids, NDArray mask) {
        if (ids.getShape().dimension() != 2) {
            throw new IllegalArgumentException("input ids must be [batch, tokens], got shape " + ids.getShape());
        }
        if (!ids.getDataType().isInteger()) {
            throw new IllegalArgumentException("input ids must be an integer array, got " + ids.getDataType());
        }
        if (ids.size() > 0) {
            long max = ids.max().toType(DataType.INT64, false).getLong();
            long min = ids.min().toType(DataType.INT64, false).getLong();
            if (min < 0 || max >= c.vocabSize()) {
                throw new IllegalArgumentException("token id out of range: ids span [" + min + ", " + max
                        + "] but vocab_size is " + c.vocabSize());
            }
        }
        if (mask != null && !mask.getShape().equals(ids.getShape())) {
            throw new IllegalArgumentException("attention mask shape " + mask.getShape()
                    + " differs from input ids shape " + ids.getShape());
        }
    }
}
