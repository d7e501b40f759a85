package ai.minitron.serve;

import ai.minitron.tokenize.Tokenizer;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;

/**
 * The JSON of OpenAI's completions API: the answer ({@code object: text_completion}, one choice per prompt,
 * {@code usage}), its streamed chunks, and a choice's {@code logprobs}:
 *
 * <pre>
 *   tokens[j]          the text of token j alone (special tokens by name)
 *   token_logprobs[j]  log p(token j | tokens before it), null for the first token of the sequence
 *   top_logprobs[j]    {token text: log-probability} of the most likely tokens at that position
 *                      (logprobs of them, most likely first; null for the first token)
 *   text_offset[j]     where token j's text starts, in code points, counted from the start of the prompt
 * </pre>
 *
 * With {@code echo} the prompt's tokens come first (so lm-evaluation-harness reads the log-likelihood of a
 * continuation from them), then the completion's; without it, only the completion's.
 */
final class Completions {
    private Completions() {}

    static JsonObject answer(String id, CompletionRequest r, JsonArray choices, int promptTokens, int completionTokens) {
        JsonObject o = new JsonObject();
        o.addProperty("id", id);
        o.addProperty("object", "text_completion");
        o.addProperty("created", System.currentTimeMillis() / 1000);
        o.addProperty("model", r.model().name());
        o.add("choices", choices);
        JsonObject usage = new JsonObject();
        usage.addProperty("prompt_tokens", promptTokens);
        usage.addProperty("completion_tokens", completionTokens);
        usage.addProperty("total_tokens", promptTokens + completionTokens);
        o.add("usage", usage);
        return o;
    }

    /**
     * One choice.
     *
     * @param all prompt tokens then completion tokens
     * @param tokenLogprobs [all.length - 1]: entry p - 1 belongs to token p (null: no logprobs computed)
     * @param topIds [>= all.length - 1][k]: row p - 1 holds the alternatives at token p
     */
    static JsonObject choice(int index, CompletionRequest r, Tokenizer tok, long[] all, int promptLength, String text,
            String finish, float[] tokenLogprobs, long[][] topIds, float[][] topLogprobs) {
        JsonObject c = new JsonObject();
        c.addProperty("index", index);
        String prompt = r.promptTexts().get(index);
        c.addProperty("text", r.echo() ? prompt + text : text);
        if (r.logprobs() == null || tokenLogprobs == null) {
            c.add("logprobs", JsonNull.INSTANCE);
        } else {
            c.add("logprobs", logprobs(r, tok, all, r.echo() ? 0 : promptLength, tokenLogprobs, topIds, topLogprobs));
        }
        c.addProperty("finish_reason", finish);
        return c;
    }

    private static JsonObject logprobs(CompletionRequest r, Tokenizer tok, long[] all, int from, float[] tokenLogprobs,
            long[][] topIds, float[][] topLogprobs) {
        JsonArray tokens = new JsonArray();
        JsonArray lps = new JsonArray();
        JsonArray tops = new JsonArray();
        JsonArray offsets = new JsonArray();
        int offset = 0;
        for (int p = 0; p < all.length; p++) {
            String piece = tok.decode(new long[] {all[p]});
            if (p >= from) {
                tokens.add(piece);
                offsets.add(offset);
                if (p == 0) {
                    lps.add(JsonNull.INSTANCE);
                    tops.add(JsonNull.INSTANCE);
                } else {
                    lps.add((double) tokenLogprobs[p - 1]);
                    JsonObject top = new JsonObject();
                    for (int q = 0; q < r.logprobs(); q++) {
                        String alt = tok.decode(new long[] {topIds[p - 1][q]});
                        if (!top.has(alt)) { // two ids may decode alike (partial UTF-8): keep the likelier
                            top.addProperty(alt, (double) topLogprobs[p - 1][q]);
                        }
                    }
                    tops.add(top);
                }
            }
            offset += piece.codePointCount(0, piece.length());
        }
        JsonObject o = new JsonObject();
        o.add("tokens", tokens);
        o.add("token_logprobs", lps);
        o.add("top_logprobs", tops);
        o.add("text_offset", offsets);
        return o;
    }

    /** A streamed chunk: the text a choice grew by, and its finish reason once it stopped (else null). */
    static String chunk(String id, CompletionRequest r, int index, String text, String finish) {
        JsonObject c = new JsonObject();
        c.addProperty("index", index);
        c.addProperty("text", text);
        c.add("logprobs", JsonNull.INSTANCE);
        c.addProperty("finish_reason", finish);
        JsonArray choices = new JsonArray();
        choices.add(c);
        JsonObject o = new JsonObject();
        o.addProperty("id", id);
        o.addProperty("object", "text_completion");
        o.addProperty("created", System.currentTimeMillis() / 1000);
        o.addProperty("model", r.model().name());
        o.add("choices", choices);
        return o.toString();
    }
}
