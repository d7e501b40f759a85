package ai.minitron.tokenize;

import ai.minitron.io.AtomicFiles;
import ai.minitron.io.CheckpointFormatException;
import ai.minitron.io.gguf.GgufMetadata;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The tokenizer a GGUF file carries in its {@code tokenizer.ggml.*} metadata, rebuilt as a Hugging
 * Face {@code tokenizer.json} (plus a {@code tokenizer_config.json} with the bos/eos/pad tokens and
 * the chat template) that {@link Tokenizer} loads.
 *
 * <p>Supported: {@code tokenizer.ggml.model = "gpt2"}, byte-level BPE. The vocabulary is
 * {@code tokenizer.ggml.tokens} (id = position), the merges {@code tokenizer.ggml.merges} in rank
 * order ("a b" strings). Tokens whose {@code token_type} is CONTROL (3) become special added tokens,
 * USER_DEFINED (4) ones non-special added tokens, so they are matched whole in the input text.
 *
 * <p>llama.cpp does not store the pre-tokenizer itself, only its name in {@code tokenizer.ggml.pre}
 * (it recognises the original tokenizer by a hash of its output and then applies a fixed list of
 * regular expressions, see {@code llama-vocab.cpp}). The names mapped here and their Hugging Face
 * equivalents:
 * <pre>
 *   default, gpt-2                          ByteLevel (GPT-2 regex)
 *   smollm, starcoder, refact, command-r,   Digits(individual) + ByteLevel: llama.cpp splits
 *   codeshell, exaone, minerva                  "\p{N}" before the GPT-2 regex
 *   llama-bpe, llama3                       Split(Llama 3 regex, digits in runs of 1..3) + ByteLevel
 *   qwen2                                   NFC + Split(Qwen2 regex, single digits) + ByteLevel
 * </pre>
 * Any other name is refused with a {@link TokenizerException} rather than tokenized differently
 * from the original model.
 */
public final class GgufTokenizer {
    private GgufTokenizer() {}

    public static final int TYPE_NORMAL = 1;
    public static final int TYPE_UNKNOWN = 2;
    public static final int TYPE_CONTROL = 3;
    public static final int TYPE_USER_DEFINED = 4;
    public static final int TYPE_UNUSED = 5;
    public static final int TYPE_BYTE = 6;

    private static final Set<String> DIGITS_THEN_GPT2 =
            Set.of("smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva");
    private static final String LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
            + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
            + "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create();

    /**
     * The Hugging Face tokenizer.json document for the GGUF's tokenizer.
     *
     * @throws TokenizerException naming the file and key if the tokenizer is missing, not byte-level
     *     BPE, uses an unknown pre-tokenizer, or its vocabulary is inconsistent
     */
    public static JsonObject tokenizerJson(GgufMetadata md) {
        String where = md.source();
        try {
            String model = md.getString("tokenizer.ggml.model");
            if (!model.equals("gpt2")) {
                throw new TokenizerException(where + ": tokenizer.ggml.model '" + model
                        + "' is not supported (only 'gpt2', byte-level BPE)");
            }
            List<String> tokens = md.getStrings("tokenizer.ggml.tokens");
            List<String> merges = md.has("tokenizer.ggml.merges") ? md.getStrings("tokenizer.ggml.merges") : List.of();
            long[] types = md.has("tokenizer.ggml.token_type") ? md.getLongs("tokenizer.ggml.token_type") : null;
            if (types != null && types.length != tokens.size()) {
                throw new TokenizerException(where + ": tokenizer.ggml.token_type has " + types.length
                        + " entries but tokenizer.ggml.tokens has " + tokens.size());
            }
            String pre = md.getString("tokenizer.ggml.pre", "default");

            JsonObject root = new JsonObject();
            root.addProperty("version", "1.0");
            root.add("truncation", JsonNull.INSTANCE);
            root.add("padding", JsonNull.INSTANCE);
            JsonArray added = new JsonArray();
            JsonObject vocab = new JsonObject();
            Map<String, Integer> seen = new HashMap<>();
            for (int id = 0; id < tokens.size(); id++) {
                String tok = tokens.get(id);
                Integer first = seen.putIfAbsent(tok, id);
                if (first != null) {
                    throw new TokenizerException(where + ": tokenizer.ggml.tokens has '" + tok + "' twice (ids "
                            + first + " and " + id + "); a tokenizer.json vocabulary cannot hold that");
                }
                vocab.addProperty(tok, id);
                int type = types == null ? TYPE_NORMAL : (int) types[id];
                if (type == TYPE_CONTROL || type == TYPE_USER_DEFINED) {
                    JsonObject t = new JsonObject();
                    t.addProperty("id", id);
                    t.addProperty("content", tok);
                    t.addProperty("single_word", false);
                    t.addProperty("lstrip", false);
                    t.addProperty("rstrip", false);
                    t.addProperty("normalized", false);
                    t.addProperty("special", type == TYPE_CONTROL);
                    added.add(t);
                }
            }
            root.add("added_tokens", added);
            root.add("normalizer", pre.equals("qwen2") ? type("NFC") : JsonNull.INSTANCE);
            root.add("pre_tokenizer", preTokenizer(pre, where));
            JsonObject post = byteLevel(true);
            post.addProperty("trim_offsets", false);
            root.add("post_processor", post);
            root.add("decoder", byteLevel(true));
            JsonObject bpe = new JsonObject();
            bpe.addProperty("type", "BPE");
            bpe.add("dropout", JsonNull.INSTANCE);
            bpe.add("unk_token", JsonNull.INSTANCE);
            bpe.add("continuing_subword_prefix", JsonNull.INSTANCE);
            bpe.add("end_of_word_suffix", JsonNull.INSTANCE);
            bpe.addProperty("fuse_unk", false);
            bpe.addProperty("byte_fallback", false);
            bpe.addProperty("ignore_merges", pre.equals("llama-bpe") || pre.equals("llama3"));
            bpe.add("vocab", vocab);
            JsonArray mergeArray = new JsonArray();
            for (int i = 0; i < merges.size(); i++) {
                String m = merges.get(i);
                int space = m.indexOf(' ');
                if (space <= 0 || space == m.length() - 1 || m.indexOf(' ', space + 1) >= 0) {
                    throw new TokenizerException(where + ": tokenizer.ggml.merges[" + i + "] = '" + m
                            + "' is not two tokens separated by one space");
                }
                mergeArray.add(m);
            }
            bpe.add("merges", mergeArray);
            root.add("model", bpe);
            return root;
        } catch (CheckpointFormatException e) {
            throw new TokenizerException(e.getMessage(), e);
        }
    }

    /**
     * A tokenizer_config.json: bos/eos/pad/unk tokens from their GGUF ids, whether a BOS token is
     * added, the chat template and the context length when the file has them.
     */
    public static JsonObject tokenizerConfig(GgufMetadata md) {
        try {
            List<String> tokens = md.getStrings("tokenizer.ggml.tokens");
            JsonObject o = new JsonObject();
            o.addProperty("tokenizer_class", "GPT2Tokenizer");
            o.addProperty("add_bos_token", md.getBoolean("tokenizer.ggml.add_bos_token", false));
            o.addProperty("add_eos_token", md.getBoolean("tokenizer.ggml.add_eos_token", false));
            for (String[] k : new String[][] {{"tokenizer.ggml.bos_token_id", "bos_token"},
                    {"tokenizer.ggml.eos_token_id", "eos_token"}, {"tokenizer.ggml.padding_token_id", "pad_token"},
                    {"tokenizer.ggml.unknown_token_id", "unk_token"}}) {
                if (md.has(k[0])) {
                    long id = md.getLong(k[0]);
                    if (id < 0 || id >= tokens.size()) {
                        throw new TokenizerException(md.source() + ": " + k[0] + " = " + id
                                + " is outside the vocabulary of " + tokens.size());
                    }
                    o.addProperty(k[1], tokens.get((int) id));
                }
            }
            o.addProperty("clean_up_tokenization_spaces", false);
            String arch = md.getString("general.architecture", null);
            if (arch != null && md.has(arch + ".context_length")) {
                o.addProperty("model_max_length", md.getLong(arch + ".context_length"));
            }
            if (md.has("tokenizer.chat_template")) {
                o.addProperty("chat_template", md.getString("tokenizer.chat_template"));
            }
            return o;
        } catch (CheckpointFormatException e) {
            throw new TokenizerException(e.getMessage(), e);
        }
    }

    /**
     * Writes {@code tokenizer.json} and {@code tokenizer_config.json} into {@code dir} (created if
     * needed), atomically, and returns the tokenizer.json path.
     */
    public static Path write(GgufMetadata md, Path dir) throws IOException {
        JsonObject json = tokenizerJson(md);
        JsonObject config = tokenizerConfig(md);
        Files.createDirectories(dir);
        Path file = dir.resolve("tokenizer.json");
        AtomicFiles.writeString(file, GSON.toJson(json) + "\n");
        AtomicFiles.writeString(dir.resolve("tokenizer_config.json"), GSON.toJson(config) + "\n");
        return file;
    }

    private static JsonObject preTokenizer(String pre, String where) {
        if (pre.equals("default") || pre.equals("gpt-2") || pre.equals("gpt2")) {
            return byteLevel(false);
        }
        if (DIGITS_THEN_GPT2.contains(pre)) {
            JsonObject digits = type("Digits");
            digits.addProperty("individual_digits", true);
            return sequence(digits, byteLevel(false));
        }
        if (pre.equals("llama-bpe") || pre.equals("llama3")) {
            return sequence(split(LLAMA3_REGEX), byteLevelNoRegex());
        }
        if (pre.equals("qwen2")) {
            return sequence(split(QWEN2_REGEX), byteLevelNoRegex());
        }
        throw new TokenizerException(where + ": tokenizer.ggml.pre '" + pre + "' is not supported (supported: default, "
                + "gpt-2, " + String.join(", ", DIGITS_THEN_GPT2.stream().sorted().toList()) + ", llama-bpe, llama3, qwen2)");
    }

    private static JsonObject type(String type) {
        JsonObject o = new JsonObject();
        o.addProperty("type", type);
        return o;
    }

    private static JsonObject byteLevel(boolean addPrefixSpace) {
        JsonObject o = type("ByteLevel");
        o.addProperty("add_prefix_space", addPrefixSpace);
        o.addProperty("trim_offsets", true);
        o.addProperty("use_regex", true);
        return o;
    }

    private static JsonObject byteLevelNoRegex() {
        JsonObject o = byteLevel(false);
        o.addProperty("trim_offsets", false);
        o.addProperty("use_regex", false);
        return o;
    }

    private static JsonObject split(String regex) {
        JsonObject o = type("Split");
        JsonObject pattern = new JsonObject();
        pattern.addProperty("Regex", regex);
        o.add("pattern", pattern);
        o.addProperty("behavior", "Isolated");
        o.addProperty("invert", false);
        return o;
    }

    private static JsonObject sequence(JsonObject... parts) {
        JsonObject o = type("Sequence");
        JsonArray a = new JsonArray();
        for (JsonObject p : parts) {
            a.add(p);
        }
        o.add("pretokenizers", a);
        return o;
    }
}
