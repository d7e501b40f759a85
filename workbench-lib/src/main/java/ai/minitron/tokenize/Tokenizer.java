package ai.minitron.tokenize;

import ai.minitron.io.Json;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} loaded through DJL's {@link HuggingFaceTokenizer} (the Rust
 * tokenizers library), offline, with no special tokens added, no truncation and no padding: what
 * you encode is exactly what the model sees.
 *
 * <p>Vocabulary size and special-token ids are read from the JSON itself (the native tokenizer does
 * not expose them). End-of-sequence and beginning-of-sequence tokens come from a
 * {@code tokenizer_config.json} next to the file when there is one, else from well-known names:
 * EOS {@code <|endoftext|>, </s>, <|end_of_text|>, <eos>}; BOS {@code <s>, <|begin_of_text|>,
 * <bos>}. The project's own tokenizer has EOS {@code <|endoftext|>} = id 0 and no BOS.
 */
public final class Tokenizer implements AutoCloseable {

    private static final List<String> EOS_NAMES =
            List.of("<|endoftext|>", "</s>", "<|end_of_text|>", "<eos>");
    private static final List<String> BOS_NAMES = List.of("<s>", "<|begin_of_text|>", "<bos>");

    private final Path path;
    private final HuggingFaceTokenizer hf;
    private final int vocabSize;
    private final Map<String, Integer> specialIds;
    private final Map<String, Integer> tokenIds;
    private final Integer eos;
    private final Integer bos;
    private volatile boolean closed;

    private Tokenizer(Path path, HuggingFaceTokenizer hf, int vocabSize,
            Map<String, Integer> tokenIds, Map<String, Integer> specialIds, Integer eos,
            Integer bos) {
        this.path = path;
        this.hf = hf;
        this.vocabSize = vocabSize;
        this.tokenIds = tokenIds;
        this.specialIds = specialIds;
        this.eos = eos;
        this.bos = bos;
    }

    /**
     * Loads a tokenizer from a {@code tokenizer.json} file, or from a directory holding one.
     *
     * @throws TokenizerException naming the file if it is missing, unreadable, not JSON, not a
     *     tokenizer.json, or rejected by the native library
     */
    public static Tokenizer load(Path tokenizerJsonOrDir) {
        Path file = tokenizerJsonOrDir;
        if (Files.isDirectory(file)) {
            file = file.resolve("tokenizer.json");
        }
        JsonObject root = readJson(file);
        if (!root.has("model") || !root.get("model").isJsonObject()) {
            throw new TokenizerException(file + ": not a Hugging Face tokenizer.json "
                    + "(no \"model\" object)");
        }
        Map<String, Integer> ids = new HashMap<>();
        Map<String, Integer> specials = new HashMap<>();
        int maxId = -1;
        try {
            JsonElement vocab = root.getAsJsonObject("model").get("vocab");
            if (vocab != null && vocab.isJsonObject()) { // BPE, WordPiece, WordLevel
                for (Map.Entry<String, JsonElement> e : vocab.getAsJsonObject().entrySet()) {
                    int id = e.getValue().getAsInt();
                    ids.put(e.getKey(), id);
                    maxId = Math.max(maxId, id);
                }
            } else if (vocab != null && vocab.isJsonArray()) { // Unigram: [[piece, score], ...]
                JsonArray arr = vocab.getAsJsonArray();
                for (int i = 0; i < arr.size(); i++) {
                    ids.put(arr.get(i).getAsJsonArray().get(0).getAsString(), i);
                }
                maxId = arr.size() - 1;
            }
            JsonElement added = root.get("added_tokens");
            if (added != null && added.isJsonArray()) {
                for (JsonElement t : added.getAsJsonArray()) {
                    JsonObject o = t.getAsJsonObject();
                    int id = o.get("id").getAsInt();
                    String content = o.get("content").getAsString();
                    ids.put(content, id);
                    if (o.has("special") && o.get("special").getAsBoolean()) {
                        specials.put(content, id);
                    }
                    maxId = Math.max(maxId, id);
                }
            }
        } catch (RuntimeException e) {
            throw new TokenizerException(file + ": malformed vocabulary or added_tokens: "
                    + e.getMessage(), e);
        }
        if (maxId < 0) {
            throw new TokenizerException(file + ": tokenizer.json has an empty vocabulary");
        }
        JsonObject config = readConfig(file.toAbsolutePath().getParent());
        Integer eos = specialFromConfig(config, "eos_token", ids);
        if (eos == null) eos = firstPresent(EOS_NAMES, ids);
        Integer bos = specialFromConfig(config, "bos_token", ids);
        if (bos == null) bos = firstPresent(BOS_NAMES, ids);

        HuggingFaceTokenizer hf;
        try {
            hf = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    .optAddSpecialTokens(false)
                    .optTruncation(false)
                    .optPadding(false)
                    .build();
        } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
            throw new TokenizerException(file + ": the Hugging Face tokenizers library rejected "
                    + "this tokenizer.json: " + e.getMessage(), e);
        }
        return new Tokenizer(file, hf, maxId + 1, Collections.unmodifiableMap(ids),
                Collections.unmodifiableMap(specials), eos, bos);
    }

    /** Encodes text to token ids; special-token strings in the text become their ids. */
    public long[] encode(String text) {
        checkOpen();
        return hf.encode(text, false, false).getIds();
    }

    /** Decodes ids to text, keeping special tokens, so {@code decode(encode(s)).equals(s)}. */
    public String decode(long[] ids) {
        return decode(ids, false);
    }

    /** Decodes ids to text, optionally dropping special tokens. */
    public String decode(long[] ids, boolean skipSpecialTokens) {
        checkOpen();
        for (long id : ids) {
            if (id < 0 || id >= vocabSize) {
                throw new TokenizerException("token id " + id + " is outside the vocabulary (size "
                        + vocabSize + ") of " + path);
            }
        }
        return hf.decode(ids, skipSpecialTokens);
    }

    /** Number of token ids: highest id in the vocabulary or added tokens, plus one. */
    public int vocabSize() {
        return vocabSize;
    }

    /** The end-of-sequence token id, or null if the tokenizer has none we recognise. */
    public Integer eosTokenId() {
        return eos;
    }

    /** The beginning-of-sequence token id, or null (the project's tokenizer has none). */
    public Integer bosTokenId() {
        return bos;
    }

    /** The id of a vocabulary entry or added token given by its exact string, or null. */
    public Integer tokenId(String token) {
        return tokenIds.get(token);
    }

    /** How two tokenizers agree on the ids both have: {@code agreeing} of {@code shared} map to the same string. */
    public record Agreement(int agreeing, int shared) {}

    /**
     * Compares the vocabularies (entries and added tokens) of {@code a} and {@code b} over the ids
     * below the smaller vocabulary size: an id agrees when both map it to the same string.
     */
    public static Agreement agreement(Tokenizer a, Tokenizer b) {
        int limit = Math.min(a.vocabSize, b.vocabSize);
        int shared = 0;
        int agreeing = 0;
        for (Map.Entry<String, Integer> e : a.tokenIds.entrySet()) {
            if (e.getValue() < limit) {
                shared++;
                if (e.getValue().equals(b.tokenIds.get(e.getKey()))) {
                    agreeing++;
                }
            }
        }
        return new Agreement(agreeing, shared);
    }

    /** Special added tokens: content -> id. */
    public Map<String, Integer> specialTokens() {
        return specialIds;
    }

    /** The tokenizer.json this was loaded from. */
    public Path path() {
        return path;
    }

    /** The underlying DJL tokenizer, for batch APIs and offsets. Owned by this object. */
    public HuggingFaceTokenizer djl() {
        checkOpen();
        return hf;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            hf.close();
        }
    }

    @Override
    public String toString() {
        return "Tokenizer[" + path + ", vocab " + vocabSize + ", eos " + eos + "]";
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("tokenizer " + path + " is closed");
    }

    // ------------------------------------------------------------------------------------------

    /** Reads and parses a UTF-8 JSON object file; every failure names the file. */
    static JsonObject readJson(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new TokenizerException("tokenizer file not found: " + file.toAbsolutePath(), e);
        } catch (IOException e) {
            throw new TokenizerException("cannot read tokenizer file " + file.toAbsolutePath()
                    + ": " + e, e);
        }
        if (bytes.length == 0) {
            throw new TokenizerException(file + ": tokenizer file is empty");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new TokenizerException(file + ": tokenizer file is not valid UTF-8", e);
        }
        try {
            JsonElement el = Json.parse(text);
            if (!el.isJsonObject()) {
                throw new TokenizerException(file + ": not a JSON object");
            }
            return el.getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new TokenizerException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    private static JsonObject readConfig(Path dir) {
        if (dir == null) return null;
        Path cfg = dir.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(cfg)) return null;
        return readJson(cfg);
    }

    private static Integer specialFromConfig(JsonObject config, String key,
            Map<String, Integer> ids) {
        if (config == null || !config.has(key) || config.get(key).isJsonNull()) return null;
        JsonElement v = config.get(key);
        String content = v.isJsonObject() ? v.getAsJsonObject().get("content").getAsString()
                : v.getAsString();
        return ids.get(content);
    }

    private static Integer firstPresent(List<String> names, Map<String, Integer> ids) {
        for (String n : names) {
            Integer id = ids.get(n);
            if (id != null) return id;
        }
        return null;
    }
}
