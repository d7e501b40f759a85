package ai.minitron.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Paragraphs and sentences of a corpus document, by simple documented rules (used to build tasks
 * from held-out text; see {@link TaskBuilder}):
 *
 * <ul>
 *   <li>A <b>paragraph</b> is a maximal run of non-blank lines (documents separate paragraphs by
 *       blank lines), stripped.
 *   <li>A <b>sentence</b> ends after {@code .}, {@code !} or {@code ?} plus any closing quotes or
 *       brackets, when whitespace follows and the next non-space character is an upper-case letter
 *       or an opening quote; not after a known abbreviation ({@code Mr.}, {@code Mrs.}, {@code Dr.},
 *       {@code St.}, {@code Capt.}, ...) nor after a single capital initial other than {@code I} ({@code J. Ross}).
 *       Sentence spans exclude the whitespace between sentences.
 * </ul>
 */
public final class Passages {
    private Passages() {}

    private static final Set<String> ABBREVIATIONS = Set.of("Mr", "Mrs", "Messrs", "Dr", "St", "Capt", "Mt", "Esq",
            "Jr", "Sr", "Prof", "Rev", "Gen", "Col", "Lieut", "Gov", "Hon", "No", "vol", "viz", "etc", "i.e", "e.g", "Co");

    /** A sentence as a span [start, end) of its paragraph. */
    public record Span(int start, int end) {
        public String of(String text) {
            return text.substring(start, end);
        }
    }

    /** The paragraphs of a document, in order. */
    public static List<String> paragraphs(String document) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String line : document.split("\n", -1)) {
            if (line.isBlank()) {
                flush(cur, out);
            } else {
                if (cur.length() > 0) {
                    cur.append('\n');
                }
                cur.append(line);
            }
        }
        flush(cur, out);
        return out;
    }

    private static void flush(StringBuilder cur, List<String> out) {
        String p = cur.toString().strip();
        if (!p.isEmpty()) {
            out.add(p);
        }
        cur.setLength(0);
    }

    /** Sentence spans of a paragraph, in order, covering all of its non-space text. */
    public static List<Span> sentences(String p) {
        List<Span> out = new ArrayList<>();
        int start = 0;
        int n = p.length();
        for (int i = 0; i < n; i++) {
            char ch = p.charAt(i);
            if (ch != '.' && ch != '!' && ch != '?') {
                continue;
            }
            int end = i + 1;
            while (end < n && isCloser(p.charAt(end))) {
                end++;
            }
            int next = end;
            while (next < n && Character.isWhitespace(p.charAt(next))) {
                next++;
            }
            if (next == end || next == n) {
                continue; // no whitespace after, or end of paragraph (handled below)
            }
            char c = p.charAt(next);
            if (!Character.isUpperCase(c) && !isOpener(c)) {
                continue;
            }
            if (ch == '.' && isAbbreviation(p, i)) {
                continue;
            }
            out.add(new Span(start, end));
            start = next;
            i = next - 1;
        }
        int end = n;
        while (end > start && Character.isWhitespace(p.charAt(end - 1))) {
            end--;
        }
        if (end > start) {
            out.add(new Span(start, end));
        }
        return out;
    }

    /** Whitespace-separated words, as Python's {@code str.split()} counts them. */
    public static int words(String text) {
        return Perplexity.countWords(text);
    }

    private static boolean isCloser(char c) {
        return c == '"' || c == '\'' || c == '\u201D' || c == '\u2019' || c == ')' || c == ']';
    }

    private static boolean isOpener(char c) {
        return c == '"' || c == '\'' || c == '\u201C' || c == '\u2018' || c == '(' || c == '[';
    }

    /** True when the word before the period at {@code dot} is an abbreviation or a single capital initial. */
    private static boolean isAbbreviation(String p, int dot) {
        int s = dot;
        while (s > 0 && (Character.isLetter(p.charAt(s - 1)) || p.charAt(s - 1) == '.')) {
            s--;
        }
        String word = p.substring(s, dot);
        if (word.length() == 1 && Character.isUpperCase(word.charAt(0)) && !word.equals("I")) {
            return true;
        }
        return ABBREVIATIONS.contains(word);
    }
}
