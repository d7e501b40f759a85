package ai.minitron.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigTest {
    @TempDir
    Path tmp;

    private static JsonObject llama() {
        return JsonParser.parseString("""
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 100,
                 "hidden_size": 48, "intermediate_size": 80, "num_hidden_layers": 2,
                 "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
                 "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": false,
                 "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32"}""").getAsJsonObject();
    }

    @Test
    void readsLlamaWithHeadDimIndependentOfHidden() {
        ModelConfig c = ModelConfig.fromJson(llama(), "t");
        assertEquals(Architecture.LLAMA, c.architecture());
        assertEquals(16, c.headDim());
        assertEquals(2, c.queriesPerKvHead());
        assertTrue(c.gatedMlp());
        assertEquals(1, c.extras().get("bos_token_id").getAsInt(), "unmodelled keys are kept");
    }

    @Test
    void headDimDefaultsToHiddenOverHeads() {
        JsonObject o = llama();
        o.remove("head_dim");
        assertEquals(12, ModelConfig.fromJson(o, "t").headDim());
    }

    @Test
    void jsonRoundTripIsLossless() throws Exception {
        ModelConfig c = ModelConfig.fromJson(llama(), "t");
        Path f = tmp.resolve("config.json");
        Files.writeString(f, c.toJsonString());
        assertEquals(c, ModelConfig.load(f));
    }

    @Test
    void nemotronDefaults() {
        JsonObject o = llama();
        o.add("architectures", JsonParser.parseString("[\"NemotronForCausalLM\"]"));
        o.addProperty("hidden_act", "relu2");
        o.addProperty("norm_eps", 1e-5);
        ModelConfig c = ModelConfig.fromJson(o, "t");
        assertTrue(c.layerNorm1p());
        assertEquals(8, c.rotaryDim(), "partial_rotary_factor defaults to 0.5 for Nemotron");
        assertTrue(!c.gatedMlp());
    }

    @Test
    void qwen2HasQkvBiasButNoOutputBias() {
        JsonObject o = llama();
        o.add("architectures", JsonParser.parseString("[\"Qwen2ForCausalLM\"]"));
        ModelConfig c = ModelConfig.fromJson(o, "t");
        assertTrue(c.qkvBias());
        assertTrue(!c.oBias());
    }

    @Test
    void missingFieldIsNamed() throws Exception {
        JsonObject o = llama();
        o.remove("intermediate_size");
        Path f = tmp.resolve("config.json");
        Files.writeString(f, o.toString());
        ConfigException e = assertThrows(ConfigException.class, () -> ModelConfig.load(f));
        assertTrue(e.getMessage().contains("intermediate_size") && e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void unknownArchitectureIsNamed() {
        JsonObject o = llama();
        o.add("architectures", JsonParser.parseString("[\"GPT2LMHeadModel\"]"));
        ConfigException e = assertThrows(ConfigException.class, () -> ModelConfig.fromJson(o, "cfg.json"));
        assertTrue(e.getMessage().contains("GPT2LMHeadModel") && e.getMessage().contains("cfg.json"), e.getMessage());
    }

    @Test
    void wrongTypeAndIndivisibleHeadsAreNamed() {
        JsonObject o = llama();
        o.addProperty("hidden_size", "big");
        assertTrue(assertThrows(ConfigException.class, () -> ModelConfig.fromJson(o, "t")).getMessage()
                .contains("hidden_size"));
        JsonObject p = llama();
        p.addProperty("num_key_value_heads", 3);
        assertTrue(assertThrows(ConfigException.class, () -> ModelConfig.fromJson(p, "t")).getMessage()
                .contains("num_key_value_heads"));
    }

    @Test
    void parameterCountByComponent() {
        ModelConfig c = ModelConfig.fromJson(llama(), "t");
        ParamCount pc = ParamCount.of(c);
        long attn = 2 * (64 * 48 + 32 * 48 * 2 + 48 * 64);
        long mlp = 2 * (3 * 80 * 48);
        assertEquals(100 * 48, pc.embedding());
        assertEquals(attn, pc.attention());
        assertEquals(mlp, pc.mlp());
        assertEquals(2 * 2 * 48 + 48, pc.norms());
        assertEquals(100 * 48, pc.lmHead());
        assertEquals(pc.embedding() + attn + mlp + pc.norms() + pc.lmHead(), pc.total());
    }
}
