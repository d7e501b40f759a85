package ai.minitron.tokenize;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GPT-2 byte-level pre-tokenization, as Hugging Face's {@code ByteLevel} pre-tokenizer does it with
 * {@code add_prefix_space=false, use_regex=true}:
 *
 * <ol>
 *   <li>split the text with the GPT-2 regex (contractions, optional-space + letters, optional-space
 *       + digits, optional-space + other symbols, whitespace runs), and
 *   <li>map every UTF-8 byte of a piece to one printable character with GPT-2's
 *       {@code bytes_to_unicode} table (printable Latin-1 bytes map to themselves, the other 68
 *       bytes to U+0100..U+0143; a space becomes {@code Ġ}, a newline {@code Ċ}).
 * </ol>
 *
 * <p>Whitespace in the regex is Unicode whitespace ({@link Pattern#UNICODE_CHARACTER_CLASS}), which
 * is what the Rust tokenizers' Oniguruma regex matches; {@code ByteLevelBpeTest} checks our splits
 * against DJL's on the edge cases (no-break space, ideographic space, line separator, emoji).
 */
public final class ByteLevel {
    private ByteLevel() {}

    /** The GPT-2 split regex, verbatim from tokenizers' {@code byte_level.rs}. */
    public static final String GPT2_REGEX =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    private static final Pattern SPLIT =
            Pattern.compile(GPT2_REGEX, Pattern.UNICODE_CHARACTER_CLASS);

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[0x144];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        boolean[] printable = new boolean[256];
        for (int b = '!'; b <= '~'; b++) printable[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) printable[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) printable[b] = true;
        int n = 0;
        for (int b = 0; b < 256; b++) {
            char c = printable[b] ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    /** The printable character GPT-2 uses for byte {@code b} (0..255). */
    public static char byteChar(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte a byte-level character stands for, or -1 if it is not one of the 256. */
    public static int charByte(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** Splits text into pre-tokens with the GPT-2 regex; the pieces concatenate to the text. */
    public static List<String> split(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = SPLIT.matcher(text);
        int end = 0;
        while (m.find()) {
            if (m.start() != end) { // cannot happen: every code point matches some alternative
                out.add(text.substring(end, m.start()));
            }
            out.add(m.group());
            end = m.end();
        }
        if (end < text.length()) {
            out.add(text.substring(end));
        }
        return out;
    }

    /** The UTF-8 bytes of {@code piece}, each mapped to its byte-level character. */
    public static String encodeBytes(String piece) {
        byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        return new String(out);
    }

    /**
     * Maps byte-level characters back to bytes. Characters outside the byte alphabet (e.g. in an
     * added token's content) contribute their own UTF-8 bytes, as tokenizers' ByteLevel decoder
     * does.
     */
    public static byte[] decodeBytes(CharSequence byteLevel) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(byteLevel.length());
        for (int i = 0; i < byteLevel.length(); i++) {
            char c = byteLevel.charAt(i);
            int b = charByte(c);
            if (b >= 0) {
                out.write(b);
            } else {
                int cp = Character.codePointAt(byteLevel, i);
                byte[] raw = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
                out.write(raw, 0, raw.length);
                i += Character.charCount(cp) - 1;
            }
        }
        return out.toByteArray();
    }
}
