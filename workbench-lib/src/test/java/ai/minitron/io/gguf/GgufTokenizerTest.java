package ai.minitron.io.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.tokenize.ByteLevel;
import ai.minitron.tokenize.GgufTokenizer;
import ai.minitron.tokenize.Tokenizer;
import ai.minitron.tokenize.TokenizerException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tokenizer.ggml.* metadata -> tokenizer.json: pre-tokenizer choice, added tokens, and refusals. */
class GgufTokenizerTest {
    @TempDir
    Path tmp;

    /** <|endoftext|>, 256 byte symbols, then "12", "123", "45", and a user-defined "<tool>". */
    static Map<String, GgufValue> metadata(String pre) {
        List<String> tokens = new ArrayList<>(List.of("<|endoftext|>"));
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(ByteLevel.byteChar(b)));
        }
        tokens.addAll(List.of("12", "123", "45", "<tool>"));
        List<Integer> types = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            types.add(i == 0 ? 3 : i == tokens.size() - 1 ? 4 : 1);
        }
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        if (pre != null) {
            m.put("tokenizer.ggml.pre", GgufValue.string(pre));
        }
        m.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
        m.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        m.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, List.of("1 2", "12 3", "4 5")));
        m.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(0));
        return m;
    }

    long[] encode(Map<String, GgufValue> md, String text) throws Exception {
        Path dir = tmp.resolve("t" + System.nanoTime());
        GgufTokenizer.write(new GgufMetadata("test.gguf", md), dir);
        try (Tokenizer tok = Tokenizer.load(dir)) {
            assertEquals(text, tok.decode(tok.encode(text)));
            assertEquals(0, tok.eosTokenId());
            return tok.encode(text);
        }
    }

    @Test
    void preTokenizerFollowsTheGgufName() throws Exception {
        long d1 = 1 + '1';
        // llama.cpp's "smollm": every digit on its own, so no merge can join them.
        assertArrayEquals(new long[] {d1, d1 + 1, d1 + 2, d1 + 3, d1 + 4}, encode(metadata("smollm"), "12345"));
        assertArrayEquals(new long[] {d1, d1 + 1, d1 + 2, d1 + 3, d1 + 4}, encode(metadata("qwen2"), "12345"));
        // GPT-2 keeps the digit run whole; Llama 3 splits it into groups of up to three.
        assertArrayEquals(new long[] {258, 259}, encode(metadata("gpt-2"), "12345"));
        assertArrayEquals(new long[] {258, 259}, encode(metadata(null), "12345"));
        assertArrayEquals(new long[] {258, 259}, encode(metadata("llama-bpe"), "12345"));
        assertArrayEquals(new long[] {d1, 259, 258}, encode(metadata("llama-bpe"), "145123"));
    }

    @Test
    void controlAndUserDefinedTokensMatchWhole() throws Exception {
        assertArrayEquals(new long[] {0, 260, 1 + 'a'}, encode(metadata("smollm"), "<|endoftext|><tool>a"));
        var json = GgufTokenizer.tokenizerJson(new GgufMetadata("x", metadata("smollm")));
        var added = json.getAsJsonArray("added_tokens");
        assertEquals(2, added.size());
        assertTrue(added.get(0).getAsJsonObject().get("special").getAsBoolean());
        assertEquals(false, added.get(1).getAsJsonObject().get("special").getAsBoolean());
    }

    @Test
    void refusesWhatItCannotRepresent() {
        Map<String, GgufValue> spm = metadata("smollm");
        spm.put("tokenizer.ggml.model", GgufValue.string("llama"));
        assertTrue(error(spm).contains("tokenizer.ggml.model 'llama'"));
        assertTrue(error(metadata("deepseek-coder")).contains("tokenizer.ggml.pre 'deepseek-coder'"));
        Map<String, GgufValue> shortTypes = metadata("smollm");
        shortTypes.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, List.of(1, 1)));
        assertTrue(error(shortTypes).contains("token_type has 2 entries"));
        Map<String, GgufValue> dup = metadata("smollm");
        List<String> tokens = new ArrayList<>(dup.get("tokenizer.ggml.tokens").asStrings());
        tokens.set(3, tokens.get(2));
        dup.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
        assertTrue(error(dup).contains("twice (ids 2 and 3)"));
        Map<String, GgufValue> merge = metadata("smollm");
        merge.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, List.of("12")));
        assertTrue(error(merge).contains("merges[0] = '12'"));
        Map<String, GgufValue> none = metadata("smollm");
        none.remove("tokenizer.ggml.tokens");
        assertTrue(error(none).contains("'tokenizer.ggml.tokens' is missing"));
    }

    private static String error(Map<String, GgufValue> md) {
        var e = assertThrows(TokenizerException.class, () -> GgufTokenizer.tokenizerJson(new GgufMetadata("bad.gguf", md)));
        assertTrue(e.getMessage().startsWith("bad.gguf: "), e.getMessage());
        return e.getMessage();
    }
}
