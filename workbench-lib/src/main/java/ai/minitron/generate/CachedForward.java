package ai.minitron.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.Weights;
import ai.minitron.tap.Taps;

/**
 * {@link DecoderLM}'s forward pass over T new tokens that attends to the keys and values of earlier
 * tokens held in a {@link KvCache}: prefill is one call with the whole prompt, decoding one call
 * per new token with T = 1. Same weights, same names, same maths as {@code DecoderLM.forward} on
 * the whole sequence (the tests assert the logits agree to 1e-4 at every step); only attention
 * differs, because its keys and values come from the cache:
 *
 * <pre>
 *   q = rope(q_proj(x)) / sqrt(D)       [B, nKV, g, T, D]   (query heads grouped by their KV head)
 *   k = rope(k_proj(x)), v = v_proj(x)  [B, nKV, 1, T, D] -> cache slots past .. past+T-1
 *   K, V = cache[..., :past+T, :]       [B, nKV, 1, L, D]   (L = past + T)
 *   ctx = softmax(q K^T + mask) V                           mask [B, 1, 1, T, L]
 * </pre>
 *
 * The embedding, the layer loop with its norms and MLP, the final norm and the output layer are
 * {@link DecoderLM}'s own ({@link DecoderLM#layers} with this attention); RoPE is the same
 * function in a form with fewer ops ({@link RotaryTables}). Decoding one token is overhead-bound
 * (a few dozen small ops per layer), so the head layout goes straight to the grouped 5-d shape and,
 * for T = 1, reshapes replace transposes. Intermediates are created on the input's manager: call
 * inside an {@code NDScope} per step.
 */
public final class CachedForward {
    private CachedForward() {}

    /**
     * Runs T new tokens through the model, writes their keys and values into the cache and advances it.
     *
     * @param inputIds [B, T] int64
     * @param positions [B][T] RoPE positions (with left padding: slot minus the row's padding); on the
     *     host because the rotary tables are built there
     * @param maskBias additive mask [B, 1, 1, T, past+T] (see {@link #maskBias}), or null when every
     *     key is visible (T = 1 and no padding)
     * @param lastOnly compute logits for the last position only ([B, 1, V]): all generation needs
     * @return logits [B, T, V], or [B, 1, V] when {@code lastOnly}
     */
    public static NDArray forward(ModelConfig c, Weights w, KvCache cache, NDArray inputIds, long[][] positions,
            NDArray maskBias, boolean lastOnly) {
        long t = inputIds.getShape().get(1);
        if (positions.length != inputIds.getShape().get(0) || positions[0].length != t) {
            throw new IllegalArgumentException("positions must be [" + inputIds.getShape().get(0) + "][" + t
                    + "] like the input ids " + inputIds.getShape());
        }
        NDArray x = DecoderLM.embed(w, inputIds); // [B,T,H]
        RotaryTables rope = new RotaryTables(c, inputIds.getManager(), positions, x.getDataType());
        x = DecoderLM.layers(c, w, x, DecoderLM.allLayers(c), (l, h) -> attention(c, w, l, h, rope, maskBias, cache),
                Taps.NONE);
        cache.advance(Math.toIntExact(t));
        if (lastOnly && t > 1) {
            x = x.get(":, {}:, :", t - 1); // [B,1,H]
        }
        return DecoderLM.head(c, w, DecoderLM.finalNorm(c, w, x, Taps.NONE)); // [B,T,V]
    }

    /** Self-attention of layer l for x [B, T, H] against the cache, -> [B, T, H]. */
    static NDArray attention(ModelConfig c, Weights w, int layer, NDArray x, RotaryTables rope, NDArray maskBias,
            KvCache cache) {
        String p = "model.layers." + layer + ".self_attn.";
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        int nKv = c.numKeyValueHeads();
        int g = c.queriesPerKvHead();
        int d = c.headDim();

        NDArray q = grouped(Weights.linear(x, w.get(p + "q_proj.weight"), w.bias(p + "q_proj.bias")), b, t, nKv, g, d);
        NDArray k = grouped(Weights.linear(x, w.get(p + "k_proj.weight"), w.bias(p + "k_proj.bias")), b, t, nKv, 1, d);
        NDArray v = grouped(Weights.linear(x, w.get(p + "v_proj.weight"), w.bias(p + "v_proj.bias")), b, t, nKv, 1, d);
        q = rope.queries(q); // [B,nKV,g,T,D], already / sqrt(D)
        k = rope.keys(k); // [B,nKV,1,T,D]

        NDArray[] kv = cache.write(layer, k, v); // each [B,nKV,1,L,D]
        long len = kv[0].getShape().get(3);
        // the g*T query rows of each KV head against its keys: one batched matmul, no broadcast copy of the cache
        NDArray keysT = kv[0].reshape(b, nKv, len, d).transpose(0, 1, 3, 2); // [B,nKV,D,L]
        NDArray scores = q.reshape(b, nKv, (long) g * t, d).matMul(keysT).reshape(b, nKv, g, t, len); // [B,nKV,g,T,L]
        DataType dtype = scores.getDataType();
        if (dtype == DataType.FLOAT16) {
            scores = scores.toType(DataType.FLOAT32, false); // mask + softmax in fp32: no -inf rows, no NaN
        }
        if (maskBias != null) {
            scores = scores.add(maskBias);
        }
        NDArray probs = scores.softmax(-1);
        if (probs.getDataType() != dtype) {
            probs = probs.toType(dtype, false);
        }
        NDArray ctx = probs.reshape(b, nKv, (long) g * t, len).matMul(kv[1].reshape(b, nKv, len, d))
                .reshape(b, nKv, g, t, d); // [B,nKV,g,T,D]
        ctx = t == 1
                ? ctx.reshape(b, 1, (long) nKv * g * d) // T = 1: [B,nKV,g,1,D] is already [B,1,nH*D] in memory
                : ctx.transpose(0, 3, 1, 2, 4).reshape(b, t, (long) nKv * g * d); // [B,T,nH*D]
        return Weights.linear(ctx, w.get(p + "o_proj.weight"), w.bias(p + "o_proj.bias"));
    }

    /** A projection [B, T, heads*D] as [B, nKV, perKv, T, D] (head h = kv * perKv + j, as HF). */
    private static NDArray grouped(NDArray a, long b, long t, int nKv, int perKv, int d) {
        return t == 1
                ? a.reshape(b, nKv, perKv, 1, d) // T = 1: same memory, no transpose
                : a.reshape(b, t, nKv, perKv, d).transpose(0, 2, 3, 1, 4);
    }

    /**
     * The additive mask [B, 1, 1, T, past+T] for T new tokens after {@code past} cached slots: query
     * i (slot past+i) sees key slot j iff {@code j <= past + i} (causal) and slot j holds a real token
     * of its row. Hidden entries get the dtype's most negative finite value, as in
     * {@code Attention.maskBias}, so a padding query whose keys are all hidden gets a uniform
     * distribution rather than NaN. Built on the host in one array: no per-element device calls.
     * The mask is float32 for float32 and float16 models (attention adds it and takes the softmax in
     * float32 for float16, where {@code score - 65504} could round to -inf), float64 for float64.
     *
     * @param keyValid [B][>= past+T]: true where the slot holds a real token, false for padding;
     *     null when no row is padded
     */
    public static NDArray maskBias(NDManager m, int past, int t, boolean[][] keyValid, int batch, DataType dtype) {
        int len = past + t;
        float neg = -Float.MAX_VALUE;
        float[] bias = new float[batch * t * len];
        for (int r = 0; r < batch; r++) {
            for (int i = 0; i < t; i++) {
                int row = (r * t + i) * len;
                for (int j = 0; j < len; j++) {
                    boolean ok = j <= past + i && (keyValid == null || keyValid[r][j]);
                    bias[row + j] = ok ? 0f : neg;
                }
            }
        }
        NDArray a = m.create(bias, new Shape(batch, 1, 1, t, len));
        return dtype == DataType.FLOAT64 ? a.toType(DataType.FLOAT64, false) : a;
    }
}
