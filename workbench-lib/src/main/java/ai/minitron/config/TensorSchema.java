package ai.minitron.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every weight tensor a configuration implies, by Hugging Face name, with its shape.
 *
 * <p>This is the single source of truth that loading validates against, that parameter counting
 * sums, and that pruning slices. Shapes follow PyTorch's {@code nn.Linear} convention:
 * {@code [out_features, in_features]}.
 */
public final class TensorSchema {
    private TensorSchema() {}

    public static String layerPrefix(int layer) {
        return "model.layers." + layer + ".";
    }

    /** name -> shape, in the order Hugging Face's state_dict lists them. */
    public static Map<String, long[]> expectedShapes(ModelConfig c) {
        Map<String, long[]> m = new LinkedHashMap<>();
        long h = c.hiddenSize();
        long v = c.vocabSize();
        long q = (long) c.numAttentionHeads() * c.headDim();
        long kv = (long) c.numKeyValueHeads() * c.headDim();
        long i = c.intermediateSize();
        m.put("model.embed_tokens.weight", new long[] {v, h});
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = layerPrefix(l);
            m.put(p + "self_attn.q_proj.weight", new long[] {q, h});
            if (c.qkvBias()) {
                m.put(p + "self_attn.q_proj.bias", new long[] {q});
            }
            m.put(p + "self_attn.k_proj.weight", new long[] {kv, h});
            if (c.qkvBias()) {
                m.put(p + "self_attn.k_proj.bias", new long[] {kv});
            }
            m.put(p + "self_attn.v_proj.weight", new long[] {kv, h});
            if (c.qkvBias()) {
                m.put(p + "self_attn.v_proj.bias", new long[] {kv});
            }
            m.put(p + "self_attn.o_proj.weight", new long[] {h, q});
            if (c.oBias()) {
                m.put(p + "self_attn.o_proj.bias", new long[] {h});
            }
            if (c.gatedMlp()) {
                m.put(p + "mlp.gate_proj.weight", new long[] {i, h});
                if (c.mlpBias()) {
                    m.put(p + "mlp.gate_proj.bias", new long[] {i});
                }
            }
            m.put(p + "mlp.up_proj.weight", new long[] {i, h});
            if (c.mlpBias()) {
                m.put(p + "mlp.up_proj.bias", new long[] {i});
            }
            m.put(p + "mlp.down_proj.weight", new long[] {h, i});
            if (c.mlpBias()) {
                m.put(p + "mlp.down_proj.bias", new long[] {h});
            }
            m.put(p + "input_layernorm.weight", new long[] {h});
            if (c.layerNorm1p()) {
                m.put(p + "input_layernorm.bias", new long[] {h});
            }
            m.put(p + "post_attention_layernorm.weight", new long[] {h});
            if (c.layerNorm1p()) {
                m.put(p + "post_attention_layernorm.bias", new long[] {h});
            }
        }
        m.put("model.norm.weight", new long[] {h});
        if (c.layerNorm1p()) {
            m.put("model.norm.bias", new long[] {h});
        }
        if (!c.tieWordEmbeddings()) {
            m.put("lm_head.weight", new long[] {v, h});
        }
        return m;
    }

    /** Tensors a checkpoint may carry that the model does not use (tied lm_head copies, RoPE buffers). */
    public static boolean isIgnorable(String name, ModelConfig c) {
        return name.endsWith("rotary_emb.inv_freq") || (c.tieWordEmbeddings() && name.equals("lm_head.weight"));
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
