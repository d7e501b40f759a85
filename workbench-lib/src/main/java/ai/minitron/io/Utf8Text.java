package ai.minitron.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Strict UTF-8 text files: malformed input is refused with the byte offset of the first bad
 * sequence (instead of the JDK's "Input length = 1"), a missing file with "file not found: PATH".
 * A leading byte-order mark is dropped.
 */
public final class Utf8Text {
    private Utf8Text() {}

    /** Thrown by {@link #decode}: the input is not valid UTF-8 from byte {@code offset} on. */
    public static final class MalformedException extends IllegalArgumentException {
        private final long offset;

        MalformedException(long offset) {
            super("malformed UTF-8 byte sequence at byte offset " + offset);
            this.offset = offset;
        }

        /** Byte offset of the first malformed sequence. */
        public long offset() {
            return offset;
        }
    }

    /** Decodes {@code bytes} as strict UTF-8 (BOM dropped). */
    public static String decode(byte[] bytes) {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length + 1);
        CoderResult r = dec.decode(in, out, true);
        if (!r.isError()) {
            r = dec.flush(out);
        }
        if (r.isError()) {
            throw new MalformedException(in.position());
        }
        out.flip();
        String s = out.toString();
        return s.startsWith("\uFEFF") ? s.substring(1) : s;
    }

    /**
     * Reads a whole UTF-8 file; {@code what} (e.g. an option name, "--prompts") starts every message.
     *
     * @throws IllegalArgumentException "WHAT: file not found: PATH" or "WHAT PATH is not valid UTF-8
     *     (malformed byte sequence at byte offset N)"
     */
    public static String read(Path file, String what) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(what + ": file not found: " + file, e);
        } catch (IOException e) {
            throw new UncheckedIOException(what + " " + file + ": cannot read: " + e.getMessage(), e);
        }
        try {
            return decode(bytes);
        } catch (MalformedException e) {
            throw new IllegalArgumentException(what + " " + file + " is not valid UTF-8 (malformed byte sequence at byte offset "
                    + e.offset() + ")", e);
        }
    }
}
