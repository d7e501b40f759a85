package ai.minitron.tokenize;

import ai.minitron.io.AtomicFiles;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A byte-level BPE model in pure Java: vocabulary, ranked merges and special tokens, with the
 * encoder and decoder that Hugging Face tokenizers applies to the same {@code tokenizer.json}.
 * {@link BpeTrainer} produces one; {@link #save} writes the {@code tokenizer.json} that DJL's
 * {@code HuggingFaceTokenizer} (and Python's {@code tokenizers}) load.
 *
 * <p>Id layout: the special tokens first ({@code 0..k-1}, so {@code <|endoftext|>} is id 0 whatever
 * the vocabulary size), then the 256 byte symbols in byte order ({@code k + b}), then one id per
 * distinct merged string in the order the merges were learned.
 *
 * <p>Encoding mirrors tokenizers: special tokens are cut out of the raw text first (leftmost,
 * longest), the rest is split by {@link ByteLevel#split} and each piece is merged by rank. There is
 * no normalizer and no post-processor, so {@code decode(encode(s)).equals(s)} for every string.
 */
public final class ByteLevelBpe {

    private final List<String> specials;
    private final String[] idToToken;
    private final Map<String, Integer> tokenToId;
    private final int[][] merges; // [rank] -> {left id, right id}
    private final Map<Long, int[]> mergeByPair; // pair -> {rank, result id}
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param specials special tokens, ids {@code 0..specials.size()-1}
     * @param idToToken every token's byte-level string, indexed by id (specials included)
     * @param merges merges in rank order, as {left id, right id}
     */
    public ByteLevelBpe(List<String> specials, List<String> idToToken, List<int[]> merges) {
        this.specials = List.copyOf(specials);
        this.idToToken = idToToken.toArray(new String[0]);
        this.tokenToId = new HashMap<>(idToToken.size() * 2);
        for (int i = 0; i < this.idToToken.length; i++) {
            Integer prev = tokenToId.put(this.idToToken[i], i);
            if (prev != null) {
                throw new IllegalArgumentException(
                        "token '" + this.idToToken[i] + "' has two ids: " + prev + " and " + i);
            }
        }
        for (int i = 0; i < this.specials.size(); i++) {
            if (!this.specials.get(i).equals(this.idToToken[i])) {
                throw new IllegalArgumentException("special token " + i + " must be "
                        + this.specials.get(i) + ", vocab has " + this.idToToken[i]);
            }
        }
        this.merges = merges.toArray(new int[0][]);
        this.mergeByPair = new HashMap<>(merges.size() * 2);
        for (int r = 0; r < this.merges.length; r++) {
            int a = this.merges[r][0];
            int b = this.merges[r][1];
            Integer result = tokenToId.get(this.idToToken[a] + this.idToToken[b]);
            if (result == null) {
                throw new IllegalArgumentException("merge " + r + " (" + this.idToToken[a] + " "
                        + this.idToToken[b] + ") produces a token missing from the vocabulary");
            }
            mergeByPair.putIfAbsent(pairKey(a, b), new int[] {r, result});
        }
    }

    static long pairKey(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    /** Number of ids (specials + 256 byte symbols + merged tokens). */
    public int vocabSize() {
        return idToToken.length;
    }

    public List<String> specialTokens() {
        return specials;
    }

    /** The id of a token's byte-level string (or a special token's content), or null. */
    public Integer tokenId(String token) {
        return tokenToId.get(token);
    }

    /** The byte-level string of an id. */
    public String token(int id) {
        return idToToken[id];
    }

    /** Merges in rank order as {@code "left right"} strings (the tokenizer.json form). */
    public List<String> merges() {
        List<String> out = new ArrayList<>(merges.length);
        for (int[] m : merges) out.add(idToToken[m[0]] + " " + idToToken[m[1]]);
        return out;
    }

    /** Encodes text to ids (special tokens in the text become their ids). */
    public long[] encode(String text) {
        List<int[]> parts = new ArrayList<>();
        int total = 0;
        for (String[] seg : splitSpecials(text, specials)) {
            int[] ids;
            if (seg[1] != null) {
                ids = new int[] {tokenToId.get(seg[0])};
            } else {
                ids = encodeOrdinary(seg[0]);
            }
            parts.add(ids);
            total += ids.length;
        }
        long[] out = new long[total];
        int p = 0;
        for (int[] ids : parts) for (int id : ids) out[p++] = id;
        return out;
    }

    /** The byte-level token strings text encodes to (for eyeballing and tests). */
    public List<String> tokens(String text) {
        List<String> out = new ArrayList<>();
        for (long id : encode(text)) out.add(idToToken[(int) id]);
        return out;
    }

    /** Decodes ids to text; invalid UTF-8 (a split multi-byte character) becomes U+FFFD. */
    public String decode(long[] ids) {
        StringBuilder sb = new StringBuilder();
        for (long id : ids) {
            if (id < 0 || id >= idToToken.length) {
                throw new IllegalArgumentException("token id " + id + " outside vocabulary of "
                        + idToToken.length);
            }
            sb.append(idToToken[(int) id]);
        }
        return new String(ByteLevel.decodeBytes(sb), StandardCharsets.UTF_8);
    }

    private int[] encodeOrdinary(String text) {
        List<int[]> pieces = new ArrayList<>();
        int total = 0;
        for (String piece : ByteLevel.split(text)) {
            int[] ids = cache.get(piece);
            if (ids == null) {
                ids = bpe(ByteLevel.encodeBytes(piece));
                if (cache.size() < 200_000) cache.put(piece, ids);
            }
            pieces.add(ids);
            total += ids.length;
        }
        int[] out = new int[total];
        int p = 0;
        for (int[] ids : pieces) {
            System.arraycopy(ids, 0, out, p, ids.length);
            p += ids.length;
        }
        return out;
    }

    /** Applies merges by rank to one pre-token given as byte-level characters. */
    int[] bpe(String byteLevelPiece) {
        int n = byteLevelPiece.length();
        int[] word = new int[n];
        for (int i = 0; i < n; i++) {
            Integer id = tokenToId.get(String.valueOf(byteLevelPiece.charAt(i)));
            if (id == null) {
                throw new IllegalStateException("byte symbol missing from vocabulary: "
                        + byteLevelPiece.charAt(i));
            }
            word[i] = id;
        }
        while (n > 1) {
            int bestRank = Integer.MAX_VALUE;
            int[] best = null;
            for (int i = 0; i + 1 < n; i++) {
                int[] m = mergeByPair.get(pairKey(word[i], word[i + 1]));
                if (m != null && m[0] < bestRank) {
                    bestRank = m[0];
                    best = m;
                }
            }
            if (best == null) break;
            int a = merges[bestRank][0];
            int b = merges[bestRank][1];
            int w = 0;
            for (int i = 0; i < n; i++) {
                if (i + 1 < n && word[i] == a && word[i + 1] == b) {
                    word[w++] = best[1];
                    i++;
                } else {
                    word[w++] = word[i];
                }
            }
            n = w;
        }
        return java.util.Arrays.copyOf(word, n);
    }

    /**
     * Cuts special tokens out of text, leftmost first and longest at a position. Each element is
     * {text, null} for ordinary text or {special, "special"} for a special token.
     */
    static List<String[]> splitSpecials(String text, List<String> specials) {
        List<String[]> out = new ArrayList<>();
        int pos = 0;
        while (pos < text.length()) {
            int bestAt = -1;
            String best = null;
            for (String s : specials) {
                int at = text.indexOf(s, pos);
                if (at >= 0 && (bestAt < 0 || at < bestAt
                        || (at == bestAt && s.length() > best.length()))) {
                    bestAt = at;
                    best = s;
                }
            }
            if (best == null) {
                out.add(new String[] {text.substring(pos), null});
                break;
            }
            if (bestAt > pos) out.add(new String[] {text.substring(pos, bestAt), null});
            out.add(new String[] {best, "special"});
            pos = bestAt + best.length();
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------
    // tokenizer.json

    /** The Hugging Face {@code tokenizer.json} document for this model. */
    public JsonObject toTokenizerJson() {
        JsonObject root = new JsonObject();
        root.addProperty("version", "1.0");
        root.add("truncation", JsonNull.INSTANCE);
        root.add("padding", JsonNull.INSTANCE);
        JsonArray added = new JsonArray();
        for (int i = 0; i < specials.size(); i++) {
            JsonObject t = new JsonObject();
            t.addProperty("id", i);
            t.addProperty("content", specials.get(i));
            t.addProperty("single_word", false);
            t.addProperty("lstrip", false);
            t.addProperty("rstrip", false);
            t.addProperty("normalized", false);
            t.addProperty("special", true);
            added.add(t);
        }
        root.add("added_tokens", added);
        root.add("normalizer", JsonNull.INSTANCE);
        root.add("pre_tokenizer", byteLevelComponent(false, true));
        root.add("post_processor", byteLevelComponent(false, false));
        root.add("decoder", byteLevelComponent(false, true));
        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        model.add("dropout", JsonNull.INSTANCE);
        model.add("unk_token", JsonNull.INSTANCE);
        model.add("continuing_subword_prefix", JsonNull.INSTANCE);
        model.add("end_of_word_suffix", JsonNull.INSTANCE);
        model.addProperty("fuse_unk", false);
        model.addProperty("byte_fallback", false);
        model.addProperty("ignore_merges", false);
        JsonObject vocab = new JsonObject();
        for (int i = 0; i < idToToken.length; i++) vocab.addProperty(idToToken[i], i);
        model.add("vocab", vocab);
        JsonArray mergeArray = new JsonArray();
        for (String m : merges()) mergeArray.add(m);
        model.add("merges", mergeArray);
        root.add("model", model);
        return root;
    }

    private static JsonObject byteLevelComponent(boolean addPrefixSpace, boolean trimOffsets) {
        JsonObject o = new JsonObject();
        o.addProperty("type", "ByteLevel");
        o.addProperty("add_prefix_space", addPrefixSpace);
        o.addProperty("trim_offsets", trimOffsets);
        o.addProperty("use_regex", true);
        return o;
    }

    /** The tokenizer.json text (pretty-printed, UTF-8 safe, no HTML escaping). */
    public String toJsonString() {
        Gson gson = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls()
                .create();
        return gson.toJson(toTokenizerJson()) + "\n";
    }

    /**
     * Writes {@code tokenizer.json} atomically: a temporary file in the same directory, then a
     * rename over the target, so a reader never sees half a file.
     */
    public void save(Path tokenizerJson) throws IOException {
        AtomicFiles.writeString(tokenizerJson, toJsonString());
    }

    /**
     * Reads a byte-level BPE {@code tokenizer.json} whose special tokens occupy the first ids (the
     * layout {@link #save} writes).
     *
     * @throws TokenizerException naming the file if it is missing, not JSON or not that layout
     */
    public static ByteLevelBpe load(Path tokenizerJson) {
        JsonObject root = Tokenizer.readJson(tokenizerJson);
        try {
            JsonObject model = root.getAsJsonObject("model");
            if (model == null || !"BPE".equals(model.get("type").getAsString())) {
                throw new TokenizerException(tokenizerJson + ": not a BPE tokenizer.json");
            }
            JsonObject vocab = model.getAsJsonObject("vocab");
            String[] byId = new String[vocab.size()];
            for (Map.Entry<String, JsonElement> e : vocab.entrySet()) {
                int id = e.getValue().getAsInt();
                if (id < 0 || id >= byId.length || byId[id] != null) {
                    throw new TokenizerException(tokenizerJson + ": vocabulary ids are not 0.."
                            + (byId.length - 1) + " (bad id " + id + ")");
                }
                byId[id] = e.getKey();
            }
            List<String> specials = new ArrayList<>();
            JsonArray added = root.getAsJsonArray("added_tokens");
            if (added != null) {
                for (JsonElement t : added) {
                    JsonObject o = t.getAsJsonObject();
                    if (o.get("id").getAsInt() != specials.size()) {
                        throw new TokenizerException(tokenizerJson
                                + ": added tokens must occupy the first ids");
                    }
                    specials.add(o.get("content").getAsString());
                }
            }
            Map<String, Integer> ids = new HashMap<>();
            for (int i = 0; i < byId.length; i++) ids.put(byId[i], i);
            List<int[]> merges = new ArrayList<>();
            for (JsonElement m : model.getAsJsonArray("merges")) {
                String left;
                String right;
                if (m.isJsonArray()) {
                    left = m.getAsJsonArray().get(0).getAsString();
                    right = m.getAsJsonArray().get(1).getAsString();
                } else {
                    String s = m.getAsString();
                    int sp = s.indexOf(' ');
                    left = s.substring(0, sp);
                    right = s.substring(sp + 1);
                }
                Integer a = ids.get(left);
                Integer b = ids.get(right);
                if (a == null || b == null) {
                    throw new TokenizerException(tokenizerJson + ": merge '" + left + " " + right
                            + "' uses a token missing from the vocabulary");
                }
                merges.add(new int[] {a, b});
            }
            return new ByteLevelBpe(specials, List.of(byId), merges);
        } catch (RuntimeException e) {
            if (e instanceof TokenizerException) throw e;
            throw new TokenizerException(tokenizerJson + ": malformed BPE tokenizer.json: "
                    + e.getMessage(), e);
        }
    }

}
