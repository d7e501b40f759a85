package ai.minitron.io.gguf;

import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.TensorSchema;
import ai.minitron.io.CheckpointFormatException;
import ai.minitron.io.HostTensor;
import com.google.gson.JsonObject;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A llama-architecture GGUF file seen as a Hugging Face LlamaForCausalLM checkpoint: its
 * {@link ModelConfig} from the {@code llama.*} metadata and its tensors dequantized to float32 under
 * Hugging Face names and in Hugging Face layout.
 *
 * <p>Names: llama.cpp's {@code token_embd, blk.N.attn_norm / attn_q / attn_k / attn_v / attn_output,
 * blk.N.ffn_norm / ffn_gate / ffn_up / ffn_down, output_norm, output} are HF's
 * {@code model.embed_tokens, model.layers.N.input_layernorm / self_attn.{q,k,v,o}_proj,
 * post_attention_layernorm / mlp.{gate,up,down}_proj, model.norm, lm_head}. No {@code output}
 * tensor means tied embeddings.
 *
 * <p>Layout: GGUF dims are innermost first, so dims {@code [in, out]} is HF's {@code [out, in]}
 * with no transposition. But llama.cpp's converter ({@code convert_hf_to_gguf.py},
 * {@code LlamaModel.permute}) reorders the rows of q_proj and k_proj for its RoPE kernel, which
 * rotates adjacent pairs (x0, x1) where HF rotates halves (x_i, x_{i + d/2}):
 * <pre>
 *   gguf = hf.reshape(n_head, 2, head_dim / 2, in).swapaxes(1, 2).reshape(out, in)
 * </pre>
 * with n_head = the query heads for q and the key/value heads for k. {@link #unpermuteRows} undoes
 * it: HF row {@code h*hd + j*hd/2 + i} is GGUF row {@code h*hd + 2*i + j}.
 */
public final class LlamaGguf {
    private LlamaGguf() {}

    private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d+)\\.(\\w+)\\.(weight|bias)");
    private static final Map<String, String> LAYER_NAMES = Map.of(
            "attn_norm", "input_layernorm",
            "ffn_norm", "post_attention_layernorm",
            "attn_q", "self_attn.q_proj",
            "attn_k", "self_attn.k_proj",
            "attn_v", "self_attn.v_proj",
            "attn_output", "self_attn.o_proj",
            "ffn_gate", "mlp.gate_proj",
            "ffn_up", "mlp.up_proj",
            "ffn_down", "mlp.down_proj");

    /** The Hugging Face name of a llama.cpp tensor name, or null if it has none. */
    public static String hfName(String ggufName) {
        switch (ggufName) {
            case "token_embd.weight":
                return "model.embed_tokens.weight";
            case "output_norm.weight":
                return "model.norm.weight";
            case "output.weight":
                return "lm_head.weight";
            default:
                break;
        }
        Matcher m = BLOCK.matcher(ggufName);
        if (!m.matches() || !LAYER_NAMES.containsKey(m.group(2))) {
            return null;
        }
        return TensorSchema.layerPrefix(Integer.parseInt(m.group(1))) + LAYER_NAMES.get(m.group(2)) + "." + m.group(3);
    }

    /**
     * The model configuration the file's metadata describes (architecture LLAMA, float32).
     * {@code bos_token_id}, {@code eos_token_id} and {@code pad_token_id} are carried over from the
     * tokenizer metadata when present, as Hugging Face's config.json has them.
     *
     * @throws CheckpointFormatException naming the file and key for a non-llama file, missing keys,
     *     or features our model does not support (RoPE scaling, mixture of experts)
     */
    public static ModelConfig config(GgufFile g) {
        GgufMetadata md = g.metadata();
        String where = g.path().toString();
        String arch = md.getString("general.architecture");
        if (!arch.equals("llama")) {
            throw new CheckpointFormatException(where + ": general.architecture is '" + arch
                    + "'; only 'llama' GGUF files can be converted so far");
        }
        String p = "llama.";
        if (md.getLong(p + "expert_count", 0) > 0) {
            throw new CheckpointFormatException(where + ": mixture-of-experts llama (" + p + "expert_count = "
                    + md.getLong(p + "expert_count") + ") is not supported");
        }
        String scaling = md.getString(p + "rope.scaling.type", "none");
        if (!scaling.equals("none") || g.hasTensor("rope_freqs.weight")) {
            throw new CheckpointFormatException(where + ": RoPE scaling ('" + scaling
                    + (g.hasTensor("rope_freqs.weight") ? "', rope_freqs.weight" : "'") + ") is not supported yet");
        }
        int hidden = md.getInt(p + "embedding_length");
        int heads = md.getInt(p + "attention.head_count");
        int kvHeads = md.getInt(p + "attention.head_count_kv", heads);
        if (heads <= 0 || hidden % heads != 0 && !md.has(p + "attention.key_length")) {
            throw new CheckpointFormatException(where + ": " + p + "embedding_length " + hidden
                    + " is not divisible by " + p + "attention.head_count " + heads + " and there is no key_length");
        }
        int headDim = md.getInt(p + "attention.key_length", hidden / heads);
        int valueDim = md.getInt(p + "attention.value_length", headDim);
        if (valueDim != headDim) {
            throw new CheckpointFormatException(where + ": " + p + "attention.value_length " + valueDim
                    + " differs from key_length " + headDim + " (not supported)");
        }
        int rotary = md.getInt(p + "rope.dimension_count", headDim);
        GgufTensorInfo embed = g.tensor("token_embd.weight");
        int vocab;
        if (md.has("tokenizer.ggml.tokens")) {
            vocab = md.getStrings("tokenizer.ggml.tokens").size();
        } else {
            vocab = md.getInt(p + "vocab_size", (int) embed.shape()[0]);
        }
        long[] embedShape = embed.shape();
        if (embedShape.length != 2 || embedShape[0] != vocab || embedShape[1] != hidden) {
            throw new CheckpointFormatException(where + ": token_embd.weight has shape " + Arrays.toString(embedShape)
                    + " but the metadata says vocabulary " + vocab + " x embedding_length " + hidden);
        }
        JsonObject extras = new JsonObject();
        for (String[] k : new String[][] {{"tokenizer.ggml.bos_token_id", "bos_token_id"},
                {"tokenizer.ggml.eos_token_id", "eos_token_id"}, {"tokenizer.ggml.padding_token_id", "pad_token_id"}}) {
            if (md.has(k[0])) {
                extras.addProperty(k[1], md.getLong(k[0]));
            }
        }
        return ModelConfig.builder(Architecture.LLAMA).vocabSize(vocab).hiddenSize(hidden)
                .intermediateSize(md.getInt(p + "feed_forward_length")).numHiddenLayers(md.getInt(p + "block_count"))
                .numAttentionHeads(heads).numKeyValueHeads(kvHeads).headDim(headDim)
                .maxPositionEmbeddings(md.getInt(p + "context_length", 2048))
                .ropeTheta(md.getDecimal(p + "rope.freq_base", 10000.0)).partialRotaryFactor((double) rotary / headDim)
                .normEps(md.getDecimal(p + "attention.layer_norm_rms_epsilon", 1e-6)).hiddenAct("silu")
                .tieWordEmbeddings(!g.hasTensor("output.weight")).attentionBias(g.hasTensor("blk.0.attn_q.bias"))
                .mlpBias(g.hasTensor("blk.0.ffn_up.bias")).torchDtype("float32").extras(extras).build();
    }

    /**
     * Every tensor the configuration needs, dequantized to F32, under its Hugging Face name, in
     * {@link TensorSchema} order, with q/k rows restored to Hugging Face order.
     *
     * @param progress told the number of tensors done after each one (may be null)
     * @throws CheckpointFormatException naming the file and tensor if one is missing, has the wrong
     *     shape, has a type that cannot be dequantized, or the file holds a tensor we cannot place
     */
    public static Map<String, HostTensor> hfTensors(GgufFile g, ModelConfig c, LongConsumer progress) {
        String where = g.path().toString();
        Map<String, String> hfToGguf = new LinkedHashMap<>();
        for (GgufTensorInfo t : g.tensors()) {
            String hf = hfName(t.name());
            if (hf == null) {
                throw new CheckpointFormatException(where + ": tensor '" + t.name()
                        + "' has no Hugging Face Llama counterpart (unsupported variant?)");
            }
            hfToGguf.put(hf, t.name());
        }
        Map<String, long[]> expected = TensorSchema.expectedShapes(c);
        for (String hf : hfToGguf.keySet()) {
            if (!expected.containsKey(hf)) {
                throw new CheckpointFormatException(where + ": tensor '" + hfToGguf.get(hf) + "' (" + hf
                        + ") does not belong to the model the metadata describes (" + c.numHiddenLayers() + " layers)");
            }
        }
        Map<String, HostTensor> out = new LinkedHashMap<>();
        long done = 0;
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            String hf = e.getKey();
            String name = hfToGguf.get(hf);
            if (name == null) {
                throw new CheckpointFormatException(where + ": missing tensor for " + hf);
            }
            GgufTensorInfo t = g.tensor(name);
            if (!Arrays.equals(t.shape(), e.getValue())) {
                throw new CheckpointFormatException(where + ": tensor '" + name + "' has shape " + Arrays.toString(t.shape())
                        + " (GGUF dims " + Arrays.toString(t.dims()) + "), expected " + Arrays.toString(e.getValue())
                        + " for " + hf);
            }
            float[] data = g.dequantize(name);
            if (hf.endsWith("q_proj.weight") || hf.endsWith("q_proj.bias")) {
                data = unpermuteRows(data, c.numAttentionHeads(), c.headDim(), (int) t.rowLength(), hf.endsWith("bias"));
            } else if (hf.endsWith("k_proj.weight") || hf.endsWith("k_proj.bias")) {
                data = unpermuteRows(data, c.numKeyValueHeads(), c.headDim(), (int) t.rowLength(), hf.endsWith("bias"));
            }
            out.put(hf, HostTensor.ofFloats(hf, e.getValue(), data));
            done++;
            if (progress != null) {
                progress.accept(done);
            }
        }
        return out;
    }

    /**
     * Undoes llama.cpp's q/k row permutation: {@code w} holds {@code nHead * headDim} rows of
     * {@code cols} floats (a bias is one column: pass {@code isVector}) in GGUF order; returns them
     * in Hugging Face order.
     */
    public static float[] unpermuteRows(float[] w, int nHead, int headDim, int cols, boolean isVector) {
        int width = isVector ? 1 : cols;
        if (headDim % 2 != 0 || w.length != (long) nHead * headDim * width) {
            throw new IllegalArgumentException("cannot unpermute " + w.length + " values as " + nHead + " heads of "
                    + headDim + " rows x " + width);
        }
        float[] out = new float[w.length];
        int half = headDim / 2;
        for (int h = 0; h < nHead; h++) {
            for (int j = 0; j < 2; j++) {
                for (int i = 0; i < half; i++) {
                    int hfRow = h * headDim + j * half + i;
                    int ggufRow = h * headDim + 2 * i + j;
                    System.arraycopy(w, ggufRow * width, out, hfRow * width, width);
                }
            }
        }
        return out;
    }
}
