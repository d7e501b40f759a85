package ai.minitron.io.gguf;

import ai.minitron.io.CheckpointFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Reading a GGUF header (see {@link GgufFile} for the layout): sequential little-endian integers,
 * strings and metadata values (scalars and nested arrays) through a 64 KiB window. Every count and
 * length is checked against the bytes left in the file before anything is allocated; errors are
 * {@link CheckpointFormatException}s naming the file, the field and the byte offset.
 */
final class GgufCursor {
    private final Path file;
    private final FileChannel ch;
    private final long size;
    private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    private long bufStart;
    long pos;

    GgufCursor(Path file, FileChannel ch, long size) {
        this.file = file;
        this.ch = ch;
        this.size = size;
        buf.limit(0);
    }

    long remaining() {
        return size - pos;
    }

    CheckpointFormatException bad(String what) {
        return new CheckpointFormatException("Bad GGUF file " + file + ": " + what);
    }

    private CheckpointFormatException truncated(String what) {
        return bad("truncated while reading " + what + " at byte " + pos + " (file is " + size + " bytes)");
    }

    /** Makes bytes [pos, pos + n) available in buf (n <= buffer capacity). */
    private int need(int n, String what) throws IOException {
        if (n > size - pos) {
            throw truncated(what);
        }
        if (pos < bufStart || pos + n > bufStart + buf.limit()) {
            buf.clear();
            bufStart = pos;
            int want = (int) Math.min(buf.capacity(), size - pos);
            buf.limit(want);
            while (buf.hasRemaining()) {
                if (ch.read(buf, bufStart + buf.position()) < 0) {
                    break;
                }
            }
            buf.flip();
            if (buf.limit() < n) {
                throw truncated(what);
            }
        }
        int at = (int) (pos - bufStart);
        pos += n;
        return at;
    }

    int u8(String what) throws IOException {
        return buf.get(need(1, what)) & 0xff;
    }

    int i16(String what) throws IOException {
        return buf.getShort(need(2, what));
    }

    int i32(String what) throws IOException {
        return buf.getInt(need(4, what));
    }

    long i64(String what) throws IOException {
        return buf.getLong(need(8, what));
    }

    String string(String what) throws IOException {
        long len = i64(what + " length");
        if (len < 0 || len > size - pos) {
            throw bad("string length " + Long.toUnsignedString(len) + " of " + what + " at byte " + (pos - 8)
                    + " runs past the end of the file (" + size + " bytes; truncated or corrupt)");
        }
        if (len > Integer.MAX_VALUE - 8) {
            throw bad("string length " + len + " of " + what + " is too long (corrupt header?)");
        }
        byte[] bytes = new byte[Math.toIntExact(len)];
        if (len <= buf.capacity()) {
            buf.get(need((int) len, what), bytes);
        } else {
            ByteBuffer dst = ByteBuffer.wrap(bytes);
            while (dst.hasRemaining()) {
                if (ch.read(dst, pos + dst.position()) < 0) {
                    throw truncated(what);
                }
            }
            pos += len;
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    GgufValue value(GgufValueType type, String key) throws IOException {
        if (type == GgufValueType.ARRAY) {
            return array(key);
        }
        return GgufValue.of(type, scalar(type, key));
    }

    private Object scalar(GgufValueType type, String key) throws IOException {
        String what = "value of metadata '" + key + "'";
        return switch (type) {
            case UINT8 -> u8(what);
            case INT8 -> (int) (byte) u8(what);
            case UINT16 -> i16(what) & 0xffff;
            case INT16 -> (int) (short) i16(what);
            case UINT32 -> i32(what) & 0xffffffffL;
            case INT32 -> i32(what);
            case FLOAT32 -> Float.intBitsToFloat(i32(what));
            case BOOL -> {
                int b = u8(what);
                if (b > 1) {
                    throw bad("metadata '" + key + "' is a BOOL with byte value " + b + " (must be 0 or 1)");
                }
                yield b == 1;
            }
            case STRING -> string(what);
            case UINT64, INT64 -> i64(what);
            case FLOAT64 -> Double.longBitsToDouble(i64(what));
            case ARRAY -> array(key);
        };
    }

    private GgufValue array(String key) throws IOException {
        int typeId = i32("array element type of metadata '" + key + "'");
        GgufValueType elem = GgufValueType.fromId(typeId);
        if (elem == null) {
            throw bad("metadata '" + key + "' is an array of unknown value type " + Integer.toUnsignedString(typeId));
        }
        long n = i64("array length of metadata '" + key + "'");
        long minBytes = switch (elem) {
            case STRING -> 8;
            case ARRAY -> 12;
            default -> elem.byteSize();
        };
        if (n < 0 || n > remaining() / minBytes || n > Integer.MAX_VALUE - 8) {
            throw bad("metadata '" + key + "' claims " + Long.toUnsignedString(n) + " " + elem
                    + " elements, more than the rest of the file holds (truncated or corrupt)");
        }
        List<Object> values = new ArrayList<>((int) n);
        for (long i = 0; i < n; i++) {
            values.add(elem == GgufValueType.ARRAY ? array(key + "[" + i + "]") : scalar(elem, key));
        }
        return new GgufValue(GgufValueType.ARRAY, elem, Collections.unmodifiableList(values));
    }
}
