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
 * {@link ModelConfig}, named {@link Weights} and token ids (docs/architecture.md, "Forward pass and taps"):
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
 * The pieces are public so that every forward in the workbench is this one: {@link #start} (ids -> embeddings,
 * rotary tables, mask), {@link #layers} over any list of layer indices (the depth scan runs the kept layers) with
 * any {@link SelfAttention} (generation's attends to a KV cache), {@link #finalNorm} and {@link #head}.
 * Intermediates are created on the input's manager: run a step inside an {@code NDScope} or a
 * sub-manager and close it afterwards. Gradients flow to every weight that requires them.
 */
public final class DecoderLM {
    private DecoderLM() {}

    /**
     * Self-attention of layer l as the layer loop calls it: the normed residual h [B, T, H] -> [B, T, H],
     * before the residual add. The full pass uses {@link Attention#forward} ({@link Start#attention});
     * generation attends to a KV cache instead.
     */
    @FunctionalInterface
    public interface SelfAttention {
        NDArray apply(int layer, NDArray h);
    }

    /**
     * The start of a pass over token ids: the token embeddings and what attention needs to place them.
     *
     * @param embeddings {@code embed_tokens[ids]} [B, T, H]
     * @param cos rotary cos [B, 1, T, rotary_dim]; {@code sin} likewise
     * @param maskBias additive causal (+ padding) mask, [T, T] or [B, 1, 1, T, T]
     */
    public record Start(NDArray embeddings, NDArray cos, NDArray sin, NDArray maskBias) {
        /** Full causal attention at these positions under this mask. */
        public SelfAttention attention(ModelConfig c, Weights w, Taps taps) {
            return (l, h) -> Attention.forward(c, w, l, h, cos, sin, maskBias, taps);
        }
    }

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
        return forward(c, w, inputIds, attentionMask, positionIds, taps, allLayers(c));
    }

    /**
     * Logits [B, T, V] running only {@code layers} (indices into the model, in the order given; e.g. the
     * layers a depth-pruned model would keep). Taps report each layer under its index in the model.
     */
    public static NDArray forward(ModelConfig c, Weights w, NDArray inputIds, NDArray attentionMask,
            NDArray positionIds, Taps taps, int[] layers) {
        return head(c, w, hiddenStates(c, w, inputIds, attentionMask, positionIds, taps, layers)); // [B,T,V]
    }

    /** The final-norm output [B, T, H] (what lm_head reads). */
    public static NDArray hiddenStates(ModelConfig c, Weights w, NDArray inputIds, NDArray attentionMask,
            NDArray positionIds, Taps taps) {
        return hiddenStates(c, w, inputIds, attentionMask, positionIds, taps, allLayers(c));
    }

    /** The final-norm output [B, T, H] running only {@code layers}. */
    public static NDArray hiddenStates(ModelConfig c, Weights w, NDArray inputIds, NDArray attentionMask,
            NDArray positionIds, Taps taps, int[] layers) {
        Start s = start(c, w, inputIds, attentionMask, positionIds);
        NDArray x = layers(c, w, s.embeddings(), layers, s.attention(c, w, taps), taps); // [B,T,H]
        return finalNorm(c, w, x, taps);
    }

    /**
     * Checks the ids (and mask) and builds the start of the pass: positions (see {@link #forward}), the
     * rotary tables, the additive mask and the embeddings, in the embedding's dtype.
     */
    public static Start start(ModelConfig c, Weights w, NDArray inputIds, NDArray attentionMask, NDArray positionIds) {
        checkInputs(c, inputIds, attentionMask);
        NDManager m = inputIds.getManager();
        long b = inputIds.getShape().get(0);
        long t = inputIds.getShape().get(1);
        DataType dtype = w.get("model.embed_tokens.weight").getDataType();
        if (positionIds == null) {
            positionIds = attentionMask == null
                    ? m.arange(0, t, 1, DataType.INT64).reshape(1, t).repeat(0, b)
                    : Scalars.maximum(attentionMask.toType(DataType.INT64, false).cumSum(1).sub(1), 0);
        }
        NDList cs = Rope.cosSin(c, positionIds, dtype); // each [B,1,T,rd]
        NDArray mask = Attention.maskBias(m, t, attentionMask, dtype);
        return new Start(embed(w, inputIds), cs.get(0), cs.get(1), mask);
    }

    /** {@code embed_tokens[ids]}: ids [B, T] (any integer type) -> [B, T, H]. No range check. */
    public static NDArray embed(Weights w, NDArray inputIds) {
        NDArray ids = inputIds.getDataType() == DataType.INT64 ? inputIds : inputIds.toType(DataType.INT64, false);
        NDArray table = w.get("model.embed_tokens.weight"); // [V,H]
        return ids.getNDArrayInternal().embedding(ids, table, SparseFormat.DENSE).singletonOrThrow(); // [B,T,H]
    }

    /** Every layer index of the model, in order: 0 .. num_hidden_layers - 1. */
    public static int[] allLayers(ModelConfig c) {
        int[] all = new int[c.numHiddenLayers()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        return all;
    }

    /** The residual stream x [B, T, H] through {@code layers}, in the order given. */
    public static NDArray layers(ModelConfig c, Weights w, NDArray x, int[] layers, SelfAttention attention,
            Taps taps) {
        for (int l : layers) {
            if (l < 0 || l >= c.numHiddenLayers()) {
                throw new IllegalArgumentException("layer index " + l + " outside [0, " + c.numHiddenLayers()
                        + ") of the model");
            }
            x = layer(c, w, l, x, attention, taps);
        }
        return x;
    }

    /** One decoder layer on the residual stream x [B, T, H] with the given attention. */
    public static NDArray layer(ModelConfig c, Weights w, int l, NDArray x, SelfAttention attention, Taps taps) {
        String p = "model.layers." + l + ".";
        if (taps.wants(Site.LAYER_IN)) {
            taps.emit(Site.LAYER_IN, l, x);
        }
        NDArray h = Norm.apply(c, x, w.get(p + "input_layernorm.weight"), w.bias(p + "input_layernorm.bias"));
        if (taps.wants(Site.INPUT_NORM_OUT)) {
            taps.emit(Site.INPUT_NORM_OUT, l, h);
        }
        x = x.add(attention.apply(l, h));
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

    /** The final norm on x [B, T, H] (the {@link Site#FINAL_NORM_OUT} tap, layer -1). */
    public static NDArray finalNorm(ModelConfig c, Weights w, NDArray x, Taps taps) {
        x = Norm.apply(c, x, w.get("model.norm.weight"), w.bias("model.norm.bias"));
        if (taps.wants(Site.FINAL_NORM_OUT)) {
            taps.emit(Site.FINAL_NORM_OUT, -1, x);
        }
        return x;
    }

    /** The output layer: normed states [..., H] -> logits [..., V] ({@code lm_head}, or {@code embed_tokens} if tied). */
    public static NDArray head(ModelConfig c, Weights w, NDArray x) {
        NDArray head = c.tieWordEmbeddings() ? w.get("model.embed_tokens.weight") : w.get("lm_head.weight"); // [V,H]
        return Weights.linear(x, head, null);
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
