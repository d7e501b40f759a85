package ai.minitron.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Exact parameter counts of a configuration, by component, computed analytically from the
 * shapes the configuration implies (tied embeddings counted once, as Hugging Face's
 * {@code sum(p.numel() for p in model.parameters())} does).
 *
 * @param embedding token embedding (also the output layer when tied)
 * @param attention q/k/v/o projections and their biases, all layers
 * @param mlp gate/up/down projections and their biases, all layers
 * @param norms every norm's weight (and bias for LayerNorm1p), incl. the final norm
 * @param lmHead the untied output layer (0 when tied)
 */
public record ParamCount(long embedding, long attention, long mlp, long norms, long lmHead) {

    public long total() {
        return embedding + attention + mlp + norms + lmHead;
    }

    /** Parameters excluding the embedding and output layers ("non-embedding" count of the papers). */
    public long nonEmbedding() {
        return attention + mlp + norms;
    }

    public static ParamCount of(ModelConfig c) {
        long emb = 0, att = 0, mlp = 0, norms = 0, head = 0;
        for (var e : TensorSchema.expectedShapes(c).entrySet()) {
            String n = e.getKey();
            long k = TensorSchema.numel(e.getValue());
            if (n.equals("model.embed_tokens.weight")) {
                emb += k;
            } else if (n.equals("lm_head.weight")) {
                head += k;
            } else if (n.contains(".self_attn.")) {
                att += k;
            } else if (n.contains(".mlp.")) {
                mlp += k;
            } else if (n.contains("norm")) {
                norms += k;
            } else {
                throw new IllegalStateException("unclassified tensor " + n);
            }
        }
        return new ParamCount(emb, att, mlp, norms, head);
    }

    /** Component name -> count, for tables and the CLI. */
    public Map<String, Long> asMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("embedding", embedding);
        m.put("attention", attention);
        m.put("mlp", mlp);
        m.put("norms", norms);
        m.put("lm_head", lmHead);
        m.put("total", total());
        return m;
    }
}
