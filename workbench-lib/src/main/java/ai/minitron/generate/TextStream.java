package ai.minitron.generate;

import ai.minitron.tokenize.Tokenizer;
import java.util.List;

/**
 * Turns one sequence's new tokens into text deltas for streaming, and watches for stop strings.
 *
 * <p>Each token re-decodes the whole continuation (byte-level BPE merges bytes across tokens, so a
 * token alone may not be valid text) and hands out the part not yet shown, holding back (1) trailing
 * U+FFFD replacement characters, which mean a multi-byte character is still incomplete, and (2) any
 * tail that could be the beginning of a stop string, so text that turns out to be part of a stop
 * string is never shown. Once a stop string appears the text is cut before it.
 */
final class TextStream {
    private final Tokenizer tokenizer;
    private final List<String> stops;
    private long[] ids = new long[16];
    private int n;
    private String text = "";
    private int shown;
    private boolean stopped;

    /** @param tokenizer may be null: then there is no text, and no stop strings may be given */
    TextStream(Tokenizer tokenizer, List<String> stops) {
        this.tokenizer = tokenizer;
        this.stops = stops;
    }

    /** Adds a token of the continuation; returns the text to show now (maybe empty). */
    String push(long token) {
        if (tokenizer == null || stopped) {
            return "";
        }
        if (n == ids.length) {
            ids = java.util.Arrays.copyOf(ids, 2 * n);
        }
        ids[n++] = token;
        String full = tokenizer.decode(java.util.Arrays.copyOf(ids, n));
        int cut = firstStop(full);
        if (cut >= 0) {
            stopped = true;
            text = full.substring(0, cut);
            return emit(Math.max(shown, cut));
        }
        text = full;
        int safe = full.length();
        while (safe > shown && full.charAt(safe - 1) == '\uFFFD') {
            safe--;
        }
        safe = Math.min(safe, full.length() - longestStopPrefixSuffix(full));
        return emit(safe);
    }

    /** Whether a stop string has appeared. */
    boolean stopped() {
        return stopped;
    }

    /** Shows whatever was held back (the sequence ended); returns it. */
    String finish() {
        return emit(text.length());
    }

    /** The continuation's text, cut before a stop string. */
    String text() {
        return text;
    }

    private String emit(int upTo) {
        if (upTo <= shown || upTo > text.length()) {
            return "";
        }
        String delta = text.substring(shown, upTo);
        shown = upTo;
        return delta;
    }

    private int firstStop(String s) {
        int best = -1;
        for (String stop : stops) {
            int i = s.indexOf(stop);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        return best;
    }

    /** Length of the longest tail of s that is a proper prefix of some stop string. */
    private int longestStopPrefixSuffix(String s) {
        int best = 0;
        for (String stop : stops) {
            for (int len = Math.min(stop.length() - 1, s.length()); len > best; len--) {
                if (s.regionMatches(s.length() - len, stop, 0, len)) {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }
}
