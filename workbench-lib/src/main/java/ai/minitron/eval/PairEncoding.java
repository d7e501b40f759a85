package ai.minitron.eval;

import ai.minitron.tokenize.Tokenizer;

/**
 * How a (context, continuation) pair becomes the tokens a {@link TokenScorer.Request} scores.
 *
 * <p>Rule (documented in the README and data/tasks/README.md):
 * <ol>
 *   <li>Trailing whitespace of the context moves to the front of the continuation (lm-eval's
 *       {@code _encode_pair}), so {@code "The whale "} + {@code "swam"} is scored as
 *       {@code "The whale"} + {@code " swam"}: with GPT-2-style byte-level BPE a space belongs to
 *       the word after it, and this keeps the continuation's first token the one the model would
 *       see in running text.
 *   <li>Context and continuation are encoded <em>separately</em> and the ids concatenated, so the
 *       continuation's tokens are the same for every context. (lm-eval's HF backend instead encodes
 *       {@code context + continuation} together and splits at the context's length; with a GPT-2
 *       pre-tokenizer, whose pieces never straddle a space-to-word boundary, the two agree whenever
 *       the continuation starts with whitespace, as every continuation built here does.)
 *   <li>An empty context becomes the end-of-text token alone (lm-eval's {@code prefix_token_id}),
 *       so the continuation's first token is scored too.
 * </ol>
 */
public final class PairEncoding {
    private PairEncoding() {}

    /** The pair after moving the context's trailing whitespace: {context', continuation'}. */
    public static String[] moveTrailingWhitespace(String context, String continuation) {
        int end = context.length();
        while (end > 0 && Character.isWhitespace(context.charAt(end - 1))) {
            end--;
        }
        return new String[] {context.substring(0, end), context.substring(end) + continuation};
    }

    /**
     * {context ids, continuation ids}.
     *
     * @param prefixToken the token an empty context becomes (end-of-text)
     */
    public static long[][] encode(Tokenizer tok, String context, String continuation, long prefixToken) {
        String[] pair = moveTrailingWhitespace(context, continuation);
        long[] ctx = pair[0].isEmpty() ? new long[] {prefixToken} : tok.encode(pair[0]);
        long[] cont = tok.encode(pair[1]);
        if (cont.length == 0) {
            throw new IllegalArgumentException("empty continuation after context \"" + abbreviate(context) + "\"");
        }
        return new long[][] {ctx, cont};
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : "..." + s.substring(s.length() - 40);
    }
}
