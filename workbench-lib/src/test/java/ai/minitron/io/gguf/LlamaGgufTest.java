package ai.minitron.io.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.cli.ConvertCommand;
import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.io.CheckpointFormatException;
import ai.minitron.io.HostTensor;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import ai.minitron.tokenize.ByteLevel;
import ai.minitron.tokenize.Tokenizer;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The llama mapping on a tiny synthetic model: an HF model with random weights is written as a GGUF
 * file the way convert_hf_to_gguf.py would (llama.cpp names, q/k rows permuted, dims innermost
 * first), converted back, and must come out identical, with the same logits.
 */
class LlamaGgufTest {
    @TempDir
    Path tmp;

    static final ModelConfig TINY = ModelConfig.builder(Architecture.LLAMA).vocabSize(262).hiddenSize(64)
            .intermediateSize(96).numHiddenLayers(2).numAttentionHeads(4).numKeyValueHeads(2).headDim(16)
            .maxPositionEmbeddings(128).normEps(1e-5).tieWordEmbeddings(true).build();

    /** convert_hf_to_gguf's LlamaModel.permute, written directly from its numpy expression. */
    static float[] permute(float[] w, int nHead, int rows, int cols) {
        // w.reshape(n_head, 2, rows / n_head / 2, cols).swapaxes(1, 2).reshape(rows, cols)
        int half = rows / nHead / 2;
        float[] out = new float[w.length];
        for (int h = 0; h < nHead; h++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) {
                    int src = (h * 2 + j) * half + i; // index in (n_head, 2, half) order
                    int dst = (h * half + i) * 2 + j; // index in (n_head, half, 2) order
                    System.arraycopy(w, src * cols, out, dst * cols, cols);
                }
            }
        }
        return out;
    }

    static String ggufName(String hf) {
        if (hf.equals("model.embed_tokens.weight")) {
            return "token_embd.weight";
        }
        if (hf.equals("model.norm.weight")) {
            return "output_norm.weight";
        }
        if (hf.equals("lm_head.weight")) {
            return "output.weight";
        }
        String[] p = hf.split("\\.", 4); // model, layers, N, rest
        String rest = p[3].replace("input_layernorm", "attn_norm").replace("post_attention_layernorm", "ffn_norm")
                .replace("self_attn.q_proj", "attn_q").replace("self_attn.k_proj", "attn_k")
                .replace("self_attn.v_proj", "attn_v").replace("self_attn.o_proj", "attn_output")
                .replace("mlp.gate_proj", "ffn_gate").replace("mlp.up_proj", "ffn_up").replace("mlp.down_proj", "ffn_down");
        return "blk." + p[2] + "." + rest;
    }

    /** A byte-level BPE vocabulary: 3 control tokens, 256 byte symbols, 3 merges. */
    static List<String> tokens() {
        List<String> t = new ArrayList<>(List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>"));
        for (int b = 0; b < 256; b++) {
            t.add(String.valueOf(ByteLevel.byteChar(b)));
        }
        t.addAll(List.of("he", "ll", "hell"));
        return t;
    }

    static GgufWriter tinyGguf(Map<String, HostTensor> hf, ModelConfig c) {
        GgufWriter w = new GgufWriter();
        w.put("general.architecture", GgufValue.string("llama"));
        w.put("llama.context_length", GgufValue.uint32(c.maxPositionEmbeddings()));
        w.put("llama.embedding_length", GgufValue.uint32(c.hiddenSize()));
        w.put("llama.block_count", GgufValue.uint32(c.numHiddenLayers()));
        w.put("llama.feed_forward_length", GgufValue.uint32(c.intermediateSize()));
        w.put("llama.attention.head_count", GgufValue.uint32(c.numAttentionHeads()));
        w.put("llama.attention.head_count_kv", GgufValue.uint32(c.numKeyValueHeads()));
        w.put("llama.rope.freq_base", GgufValue.float32((float) c.ropeTheta()));
        w.put("llama.attention.layer_norm_rms_epsilon", GgufValue.float32((float) c.normEps()));
        w.put("llama.rope.dimension_count", GgufValue.uint32(c.headDim()));
        w.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        w.put("tokenizer.ggml.pre", GgufValue.string("smollm"));
        List<String> toks = tokens();
        w.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, toks));
        List<Integer> types = new ArrayList<>();
        for (int i = 0; i < toks.size(); i++) {
            types.add(i < 3 ? 3 : 1);
        }
        w.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        w.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, List.of("h e", "l l", "he ll")));
        w.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(1));
        w.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(2));
        for (var e : hf.entrySet()) {
            float[] v = e.getValue().toFloats();
            long[] shape = e.getValue().shape();
            if (e.getKey().contains("q_proj")) {
                v = permute(v, c.numAttentionHeads(), (int) shape[0], (int) shape[1]);
            } else if (e.getKey().contains("k_proj")) {
                v = permute(v, c.numKeyValueHeads(), (int) shape[0], (int) shape[1]);
            }
            w.addF32(ggufName(e.getKey()), shape, v);
        }
        return w;
    }

    @Test
    void namesMapToHuggingFace() {
        assertEquals("model.embed_tokens.weight", LlamaGguf.hfName("token_embd.weight"));
        assertEquals("lm_head.weight", LlamaGguf.hfName("output.weight"));
        assertEquals("model.norm.weight", LlamaGguf.hfName("output_norm.weight"));
        assertEquals("model.layers.12.self_attn.o_proj.weight", LlamaGguf.hfName("blk.12.attn_output.weight"));
        assertEquals("model.layers.0.post_attention_layernorm.weight", LlamaGguf.hfName("blk.0.ffn_norm.weight"));
        assertEquals("model.layers.3.mlp.gate_proj.weight", LlamaGguf.hfName("blk.3.ffn_gate.weight"));
        assertEquals("model.layers.3.self_attn.q_proj.bias", LlamaGguf.hfName("blk.3.attn_q.bias"));
        assertNull(LlamaGguf.hfName("rope_freqs.weight"));
        assertNull(LlamaGguf.hfName("blk.0.ffn_gate_exps.weight"));
    }

    @Test
    void unpermuteInvertsLlamaCppPermutation() {
        int heads = 3;
        int hd = 8;
        int cols = 5;
        float[] w = new float[heads * hd * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = i;
        }
        float[] p = permute(w, heads, heads * hd, cols);
        assertArrayEquals(w, LlamaGguf.unpermuteRows(p, heads, hd, cols, false));
        // Row 1 of the GGUF layout is HF row hd/2 (the partner that RoPE rotates with row 0).
        assertEquals(w[(hd / 2) * cols], p[cols]);
        float[] bias = {0, 1, 2, 3, 4, 5, 6, 7};
        assertArrayEquals(bias, LlamaGguf.unpermuteRows(permute(bias, 1, 8, 1), 1, 8, 99, true));
    }

    @Test
    void tinyModelRoundTripsThroughGguf() throws IOException {
        Path file = tmp.resolve("tiny.gguf");
        Path out = tmp.resolve("hf");
        try (NDManager m = NDManager.newBaseManager(); Weights original = Weights.random(TINY, m, 11, DataType.FLOAT32)) {
            Map<String, HostTensor> hf = original.toHost(TensorDType.F32);
            tinyGguf(hf, TINY).write(file);
            try (GgufFile g = GgufFile.open(file)) {
                ModelConfig c = LlamaGguf.config(g);
                assertEquals(TINY.toJson().deepCopy().get("hidden_size"), c.toJson().get("hidden_size"));
                assertEquals(262, c.vocabSize());
                assertEquals(16, c.headDim());
                assertEquals(1e-5, c.normEps());
                assertTrue(c.tieWordEmbeddings());
                assertEquals(1, c.extras().get("bos_token_id").getAsInt());
                Map<String, HostTensor> back = LlamaGguf.hfTensors(g, c, null);
                assertEquals(hf.keySet(), back.keySet());
                for (String n : hf.keySet()) {
                    assertTrue(hf.get(n).contentEquals(back.get(n)), n);
                }
                ConvertCommand.convert(g, out, TensorDType.F32, null);
            }
            for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")) {
                assertTrue(Files.isRegularFile(out.resolve(f)), f);
            }
            long[][] ids = {{3 + 'h', 3 + 'e', 3 + 'l', 3 + 'l', 3 + 'o', 1, 2}};
            try (LanguageModel lm = LanguageModel.load(out, m)) {
                float[] expected = new LanguageModel(TINY, original, null, TensorDType.F32).logits(m, ids).toFloatArray();
                assertArrayEquals(expected, lm.logits(m, ids).toFloatArray());
            }
            try (Tokenizer tok = Tokenizer.load(out)) {
                assertEquals(262, tok.vocabSize());
                assertEquals(1, tok.bosTokenId());
                assertEquals(2, tok.eosTokenId());
                assertArrayEquals(new long[] {261, 3 + 'o', 1}, tok.encode("hello<|im_start|>"));
                assertEquals("hello<|im_start|>", tok.decode(tok.encode("hello<|im_start|>")));
                assertArrayEquals(new long[] {3 + '1', 3 + '2'}, tok.encode("12"));
            }
            JsonObject cfg = JsonParser.parseString(Files.readString(out.resolve("tokenizer_config.json"))).getAsJsonObject();
            assertEquals("<|im_end|>", cfg.get("eos_token").getAsString());
        }
    }

    @Test
    void refusesWhatItCannotMap() throws IOException {
        try (NDManager m = NDManager.newBaseManager(); Weights original = Weights.random(TINY, m, 1, DataType.FLOAT32)) {
            Map<String, HostTensor> hf = original.toHost(TensorDType.F32);

            GgufWriter qwen = tinyGguf(hf, TINY).put("general.architecture", GgufValue.string("qwen2"));
            assertTrue(configError(qwen).contains("'qwen2'"));

            GgufWriter scaled = tinyGguf(hf, TINY).put("llama.rope.scaling.type", GgufValue.string("linear"));
            assertTrue(configError(scaled).contains("RoPE scaling"));

            GgufWriter noHeads = tinyGguf(hf, TINY);
            GgufWriter copy = new GgufWriter();
            Path f = tmp.resolve("noheads.gguf");
            noHeads.write(f);
            try (GgufFile g = GgufFile.open(f)) {
                g.metadata().asMap().forEach((k, v) -> {
                    if (!k.equals("llama.attention.head_count")) {
                        copy.put(k, v);
                    }
                });
            }
            assertTrue(configError(copy).contains("'llama.attention.head_count' is missing"));

            GgufWriter extra = tinyGguf(hf, TINY);
            extra.addF32("blk.7.attn_q.weight", new long[] {64, 64}, new float[64 * 64]);
            Path ef = tmp.resolve("extra.gguf");
            extra.write(ef);
            try (GgufFile g = GgufFile.open(ef)) {
                var e = assertThrows(CheckpointFormatException.class,
                        () -> LlamaGguf.hfTensors(g, LlamaGguf.config(g), null));
                assertTrue(e.getMessage().contains("blk.7.attn_q.weight") && e.getMessage().contains(ef.toString()),
                        e.getMessage());
            }
        }
    }

    private String configError(GgufWriter w) throws IOException {
        Path f = tmp.resolve("bad" + System.nanoTime() + ".gguf");
        w.write(f);
        try (GgufFile g = GgufFile.open(f)) {
            var e = assertThrows(CheckpointFormatException.class, () -> LlamaGguf.config(g));
            assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
            return e.getMessage();
        }
    }
}
