package ai.minitron.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.tap.Site;
import ai.minitron.tap.Taps;

/**
 * Causal multi-head self-attention with grouped-query attention (GQA), as in Hugging Face's
 * eager implementation: {@code softmax(q k^T / sqrt(head_dim) + mask) v}, then o_proj.
 *
 * <p>Query head h uses key/value head {@code h / (nH / nKV)}. Rather than repeating K and V, the
 * queries of a KV head's g query heads are viewed as the g*T rows of one matrix [B, nKV, g*T, D] against K, V of
 * shape [B, nKV, T, D]: two batched matmuls, no copies of K or V.
 * The per-head context [B, T, nH, D] before o_proj is the {@link Site#ATTN_HEADS_OUT} tap: Minitron
 * scores head h by the L2 norm of its slice.
 */
public final class Attention {
    private Attention() {}

    /**
     * @param x normed input [B, T, H]
     * @param cos rotary cos [B, 1, T, rd]; sin likewise
     * @param maskBias additive mask, [T, T] or [B, 1, 1, T, T]: 0 where attending is allowed, a large
     *     negative number elsewhere
     * @return [B, T, H]
     */
    public static NDArray forward(ModelConfig c, Weights w, int layer, NDArray x, NDArray cos, NDArray sin,
            NDArray maskBias, Taps taps) {
        String p = "model.layers." + layer + ".self_attn.";
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        int nH = c.numAttentionHeads();
        int nKv = c.numKeyValueHeads();
        int g = c.queriesPerKvHead();
        int d = c.headDim();

        NDArray q = Weights.linear(x, w.get(p + "q_proj.weight"), w.bias(p + "q_proj.bias")); // [B,T,nH*D]
        NDArray k = Weights.linear(x, w.get(p + "k_proj.weight"), w.bias(p + "k_proj.bias")); // [B,T,nKV*D]
        NDArray v = Weights.linear(x, w.get(p + "v_proj.weight"), w.bias(p + "v_proj.bias")); // [B,T,nKV*D]
        q = q.reshape(b, t, nH, d).transpose(0, 2, 1, 3); // [B,nH,T,D]
        k = k.reshape(b, t, nKv, d).transpose(0, 2, 1, 3); // [B,nKV,T,D]
        v = v.reshape(b, t, nKv, d).transpose(0, 2, 1, 3); // [B,nKV,T,D]
        q = Rope.apply(q, cos, sin, c.rotaryDim());
        k = Rope.apply(k, cos, sin, c.rotaryDim());

        // Heads grouped by their KV head as rows of one matrix per (batch, KV head): [B,nKV,g*T,D] (a view), scaled
        // before the product (g*T*D elements, not g*T*T), so both products are plain batched matmuls with no
        // broadcast copy of K or V.
        NDArray qg = Scalars.mul(q, 1.0 / Math.sqrt(d)).reshape(b, nKv, (long) g * t, d);
        NDArray scores = qg.matMul(k.transpose(0, 1, 3, 2)) // [B,nKV,g*T,T]
                .reshape(b, nKv, g, t, t); // a view, for the mask [T,T] or [B,1,1,T,T]
        NDArray probs = scores.add(maskBias).softmax(-1).reshape(b, nKv, (long) g * t, t);
        NDArray ctx = probs.matMul(v) // [B,nKV,g*T,D]
                .reshape(b, nH, t, d)
                .transpose(0, 2, 1, 3); // [B,T,nH,D]
        if (taps.wants(Site.ATTN_HEADS_OUT)) {
            taps.emit(Site.ATTN_HEADS_OUT, layer, ctx);
        }
        return Weights.linear(ctx.reshape(b, t, (long) nH * d), w.get(p + "o_proj.weight"),
                w.bias(p + "o_proj.bias"));
    }

    /**
     * The additive attention mask: causal (key j visible from query i iff j <= i) and, when an
     * attention mask [B, T] is given, padding keys hidden. Returns [T, T] or [B, 1, 1, T, T].
     * Masked entries get the dtype's most negative finite value (as HF does), so a query row whose
     * keys are all padding yields a uniform distribution rather than NaN.
     */
    public static NDArray maskBias(NDManager m, long t, NDArray attentionMask, DataType dtype) {
        NDArray i = m.arange(0, t, 1, DataType.INT64).reshape(t, 1);
        NDArray j = m.arange(0, t, 1, DataType.INT64).reshape(1, t);
        NDArray allowed = j.lte(i); // [T,T] bool
        if (attentionMask != null) {
            long b = attentionMask.getShape().get(0);
            NDArray keyOk = attentionMask.reshape(b, 1, 1, 1, t).gt(0);
            allowed = allowed.reshape(1, 1, 1, t, t).logicalAnd(keyOk); // [B,1,1,T,T]
        }
        return Scalars.mul(allowed.toType(dtype, false).sub(1), maxFinite(dtype));
    }

    static double maxFinite(DataType dtype) {
        return switch (dtype) {
            case FLOAT64 -> Double.MAX_VALUE;
            case FLOAT16 -> 65504.0;
            default -> Float.MAX_VALUE;
        };
    }
}
