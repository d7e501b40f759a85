package ai.minitron.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ByteLevelTest {

    @Test
    void byteAlphabetIsGpt2s() {
        Set<Character> seen = new HashSet<>();
        for (int b = 0; b < 256; b++) {
            char c = ByteLevel.byteChar(b);
            seen.add(c);
            assertEquals(b, ByteLevel.charByte(c));
        }
        assertEquals(256, seen.size());
        assertEquals('Ġ', ByteLevel.byteChar(' '));
        assertEquals('Ċ', ByteLevel.byteChar('\n'));
        assertEquals('ĉ', ByteLevel.byteChar('\t'));
        assertEquals('A', ByteLevel.byteChar('A'));
        assertEquals('Ā', ByteLevel.byteChar(0));
        assertEquals('é', ByteLevel.byteChar(0xE9)); // printable Latin-1 maps to itself
        assertEquals('Ń', ByteLevel.byteChar(0xAD)); // soft hyphen is the last remapped byte
    }

    @Test
    void gpt2SplitMatchesTheReferencePieces() {
        assertEquals(List.of("Hello", ",", " world", "!"), ByteLevel.split("Hello, world!"));
        assertEquals(List.of("It", "'s", " 12", " o", "'", "clock"),
                ByteLevel.split("It's 12 o'clock"));
        // a whitespace run keeps its last space for the next word
        assertEquals(List.of("a", "  ", " b", "\n\n"), ByteLevel.split("a   b\n\n"));
        // symbols stick together
        assertEquals(List.of(" 😀👍", " x"), ByteLevel.split(" 😀👍 x"));
        assertEquals(List.of(), ByteLevel.split(""));
    }

    @Test
    void encodeDecodeBytesRoundTrip() {
        String s = "naïve café — 東京 😀\t\n\r\u0000";
        String bl = ByteLevel.encodeBytes(s);
        assertEquals(s.getBytes(StandardCharsets.UTF_8).length, bl.length());
        assertArrayEquals(s.getBytes(StandardCharsets.UTF_8), ByteLevel.decodeBytes(bl));
        // characters outside the byte alphabet pass through as their own UTF-8
        assertEquals("<|x|>東",
                new String(ByteLevel.decodeBytes("<|x|>東"), StandardCharsets.UTF_8));
    }
}
