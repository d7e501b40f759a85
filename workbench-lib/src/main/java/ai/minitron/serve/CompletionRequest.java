package ai.minitron.serve;

import ai.minitron.tokenize.Tokenizer;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A {@code POST /v1/completions} body, checked field by field before any work is queued. Fields (OpenAI's
 * completions API; others are ignored):
 *
 * <ul>
 *   <li>{@code model}: a served name (may be left out when one model is served);
 *   <li>{@code prompt}: a string, a list of strings, a list of token ids or a list of lists of token ids; each
 *       prompt is one choice of the answer;
 *   <li>{@code max_tokens} (default 16): 0..context; prompt tokens + max_tokens must fit the model's context
 *       (max_position_embeddings); 0 only with {@code echo} (scoring the prompt alone);
 *   <li>{@code temperature} (default 1, 0 = greedy) in [0, 2], {@code top_p} (default 1) in (0, 1],
 *       {@code seed} (default 0), {@code stop} (a string or up to 4 strings), {@code echo} (the prompt is
 *       returned before the completion, and with {@code logprobs} scored too), {@code logprobs} (null or
 *       0..{@value #MAX_LOGPROBS}: that many most likely alternatives per token), {@code stream}, {@code n}
 *       (only 1).
 * </ul>
 *
 * Every refusal is an {@link ApiError} naming the field.
 */
public record CompletionRequest(ServedModel model, List<long[]> prompts, List<String> promptTexts, int maxTokens,
        double temperature, double topP, long seed, List<String> stop, boolean echo, Integer logprobs, boolean stream) {

    /** Most alternatives per token a request may ask for (vLLM's default limit). */
    public static final int MAX_LOGPROBS = 20;
    /** Most prompts in one request. */
    public static final int MAX_PROMPTS = 256;

    /** True when the answer comes from one forward pass over the prompt: nothing or one greedy token generated. */
    public boolean scoringOnly() {
        return maxTokens == 0 || (maxTokens == 1 && temperature == 0);
    }

    /** Parses and checks a request body against the served models. */
    public static CompletionRequest parse(JsonElement body, Map<String, ServedModel> models) {
        if (!body.isJsonObject()) {
            throw ApiError.invalid(null, "the request body must be a JSON object");
        }
        JsonObject o = body.getAsJsonObject();
        ServedModel model = model(o, models);
        Tokenizer tok = model.tokenizer();
        List<long[]> prompts = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        prompts(o.get("prompt"), tok, model, prompts, texts);
        boolean echo = bool(o, "echo", false);
        long maxTokensAsked = integer(o, "max_tokens", 16, 0, Long.MAX_VALUE);
        int ctx = model.contextLength();
        if (maxTokensAsked > ctx) {
            throw new ApiError(400, "invalid_request_error", "max_tokens", "context_length_exceeded", "max_tokens is "
                    + maxTokensAsked + ", more than model '" + model.name() + "' can read in total (context of " + ctx + " tokens)");
        }
        int maxTokens = (int) maxTokensAsked;
        if (maxTokens == 0 && !echo) {
            throw ApiError.invalid("max_tokens", "max_tokens = 0 returns nothing unless echo is true");
        }
        for (int i = 0; i < prompts.size(); i++) {
            int p = prompts.get(i).length;
            if (p + maxTokens > ctx) {
                throw new ApiError(400, "invalid_request_error", "prompt", "context_length_exceeded", "model '"
                        + model.name() + "' reads at most " + ctx + " tokens, but prompt " + i + " has " + p
                        + " tokens and max_tokens is " + maxTokens + " (" + (p + maxTokens) + " in total)");
            }
        }
        double temperature = number(o, "temperature", 1.0, 0, 2);
        double topP = number(o, "top_p", 1.0, 0, 1);
        if (topP == 0) {
            throw ApiError.invalid("top_p", "top_p must be in (0, 1], got 0");
        }
        long seed = integer(o, "seed", 0, Long.MIN_VALUE, Long.MAX_VALUE);
        List<String> stop = stop(o.get("stop"));
        Integer logprobs = o.has("logprobs") && !o.get("logprobs").isJsonNull()
                ? (int) integer(o, "logprobs", 0, 0, MAX_LOGPROBS) : null;
        boolean stream = bool(o, "stream", false);
        integer(o, "n", 1, 1, 1); // one choice per prompt
        if (stream && logprobs != null) {
            throw ApiError.invalid("logprobs", "logprobs are not streamed: ask without stream for them");
        }
        if (stream && maxTokens == 0) {
            throw ApiError.invalid("stream", "stream needs max_tokens >= 1 (nothing is generated with max_tokens = 0)");
        }
        return new CompletionRequest(model, prompts, texts, maxTokens, temperature, topP, seed, stop, echo, logprobs,
                stream);
    }

    private static ServedModel model(JsonObject o, Map<String, ServedModel> models) {
        JsonElement m = o.get("model");
        if (m == null || m.isJsonNull()) {
            if (models.size() == 1) {
                return models.values().iterator().next();
            }
            throw ApiError.invalid("model", "model is required: this server serves " + String.join(", ", models.keySet()));
        }
        if (!isString(m)) {
            throw ApiError.invalid("model", "model must be a string");
        }
        ServedModel s = models.get(m.getAsString());
        if (s == null) {
            throw new ApiError(404, "invalid_request_error", "model", "model_not_found", "the model '" + m.getAsString()
                    + "' does not exist on this server; served: " + String.join(", ", models.keySet()));
        }
        return s;
    }

    private static void prompts(JsonElement p, Tokenizer tok, ServedModel model, List<long[]> ids, List<String> texts) {
        if (p == null || p.isJsonNull()) {
            throw ApiError.invalid("prompt", "prompt is required (a string, a list of strings or a list of token ids)");
        }
        if (isString(p)) {
            addText(p.getAsString(), tok, ids, texts);
            return;
        }
        if (!p.isJsonArray() || p.getAsJsonArray().size() == 0) {
            throw ApiError.invalid("prompt", "prompt must be a string, a list of strings or a non-empty list of token ids");
        }
        JsonArray a = p.getAsJsonArray();
        JsonElement first = a.get(0);
        if (first.isJsonPrimitive() && first.getAsJsonPrimitive().isNumber()) {
            addIds(a, "prompt", tok, model, ids, texts); // one prompt of token ids
            return;
        }
        if (a.size() > MAX_PROMPTS) {
            throw ApiError.invalid("prompt", "at most " + MAX_PROMPTS + " prompts per request, got " + a.size());
        }
        for (int i = 0; i < a.size(); i++) {
            JsonElement e = a.get(i);
            if (isString(e)) {
                addText(e.getAsString(), tok, ids, texts);
            } else if (e.isJsonArray() && e.getAsJsonArray().size() > 0) {
                addIds(e.getAsJsonArray(), "prompt[" + i + "]", tok, model, ids, texts);
            } else {
                throw ApiError.invalid("prompt", "prompt[" + i + "] must be a string or a non-empty list of token ids");
            }
        }
    }

    private static void addText(String text, Tokenizer tok, List<long[]> ids, List<String> texts) {
        long[] t = tok.encode(text);
        if (t.length == 0) {
            throw ApiError.invalid("prompt", "a prompt is empty (no tokens): give at least one token");
        }
        ids.add(t);
        texts.add(text);
    }

    private static void addIds(JsonArray a, String where, Tokenizer tok, ServedModel model, List<long[]> ids,
            List<String> texts) {
        long[] t = new long[a.size()];
        int vocab = model.lm().config().vocabSize();
        for (int i = 0; i < t.length; i++) {
            JsonElement e = a.get(i);
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber() || !isWhole(e.getAsDouble())) {
                throw ApiError.invalid("prompt", where + "[" + i + "] must be a token id (an integer), got " + e);
            }
            double v = e.getAsDouble();
            if (v < 0 || v >= vocab) {
                throw ApiError.invalid("prompt", where + "[" + i + "] = " + e + " is not a token id of model '"
                        + model.name() + "' (vocabulary of " + vocab + ")");
            }
            t[i] = (long) v;
        }
        ids.add(t);
        texts.add(tok.decode(t));
    }

    private static List<String> stop(JsonElement s) {
        if (s == null || s.isJsonNull()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (isString(s)) {
            out.add(s.getAsString());
        } else if (s.isJsonArray()) {
            for (JsonElement e : s.getAsJsonArray()) {
                if (!isString(e)) {
                    throw ApiError.invalid("stop", "stop must be a string or a list of strings, got " + e);
                }
                out.add(e.getAsString());
            }
        } else {
            throw ApiError.invalid("stop", "stop must be a string or a list of strings");
        }
        if (out.size() > 4) {
            throw ApiError.invalid("stop", "at most 4 stop strings, got " + out.size());
        }
        for (String x : out) {
            if (x.isEmpty()) {
                throw ApiError.invalid("stop", "a stop string must not be empty");
            }
        }
        return out;
    }

    private static boolean bool(JsonObject o, String name, boolean dflt) {
        JsonElement e = o.get(name);
        if (e == null || e.isJsonNull()) {
            return dflt;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
            throw ApiError.invalid(name, name + " must be true or false, got " + e);
        }
        return e.getAsBoolean();
    }

    private static long integer(JsonObject o, String name, long dflt, long min, long max) {
        JsonElement e = o.get(name);
        if (e == null || e.isJsonNull()) {
            return dflt;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw ApiError.invalid(name, name + " must be an integer, got " + e);
        }
        JsonPrimitive p = e.getAsJsonPrimitive();
        java.math.BigDecimal v;
        try {
            v = p.getAsBigDecimal();
        } catch (NumberFormatException ex) {
            throw ApiError.invalid(name, name + " must be an integer, got " + e);
        }
        if (v.signum() != 0 && v.stripTrailingZeros().scale() > 0) {
            throw ApiError.invalid(name, name + " must be an integer, got " + e);
        }
        if (v.compareTo(java.math.BigDecimal.valueOf(min)) < 0 || v.compareTo(java.math.BigDecimal.valueOf(max)) > 0) {
            String range = max == Long.MAX_VALUE || max == Integer.MAX_VALUE ? ">= " + min : "in [" + min + ", " + max + "]";
            throw ApiError.invalid(name, name + " must be " + range + ", got " + e);
        }
        return v.longValue();
    }

    private static double number(JsonObject o, String name, double dflt, double min, double max) {
        JsonElement e = o.get(name);
        if (e == null || e.isJsonNull()) {
            return dflt;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw ApiError.invalid(name, name + " must be a number, got " + e);
        }
        double v = e.getAsDouble();
        if (!(v >= min && v <= max)) {
            throw ApiError.invalid(name, name + " must be in [" + min + ", " + max + "], got " + e);
        }
        return v;
    }

    private static boolean isString(JsonElement e) {
        return e.isJsonPrimitive() && e.getAsJsonPrimitive().isString();
    }

    private static boolean isWhole(double v) {
        return !Double.isNaN(v) && !Double.isInfinite(v) && v == Math.rint(v);
    }
}
