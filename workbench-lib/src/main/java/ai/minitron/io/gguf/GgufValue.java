package ai.minitron.io.gguf;

import java.util.List;
import java.util.Objects;

/**
 * One GGUF metadata value with its declared type.
 *
 * <p>Java representation of {@link #value()}: UINT8, INT8, UINT16, INT16 and INT32 are
 * {@link Integer} (unsigned types zero-extended); UINT32 and INT64 are {@link Long}; UINT64 is a
 * {@link Long} holding the raw 64 bits (values above 2^63 - 1 read as negative); FLOAT32 is
 * {@link Float}; FLOAT64 {@link Double}; BOOL {@link Boolean}; STRING {@link String} (UTF-8
 * decoded); ARRAY an unmodifiable {@link List} of element values in that same representation (a
 * nested array is a {@code GgufValue}).
 *
 * @param elementType the element type of an ARRAY, null otherwise
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

    public GgufValue {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(value, "value");
        if ((type == GgufValueType.ARRAY) != (elementType != null)) {
            throw new IllegalArgumentException("elementType must be given for ARRAY values only");
        }
    }

    public static GgufValue of(GgufValueType type, Object value) {
        return new GgufValue(type, null, value);
    }

    public static GgufValue string(String s) {
        return of(GgufValueType.STRING, s);
    }

    public static GgufValue uint32(long v) {
        return of(GgufValueType.UINT32, v);
    }

    public static GgufValue float32(float v) {
        return of(GgufValueType.FLOAT32, v);
    }

    public static GgufValue array(GgufValueType elementType, List<?> values) {
        return new GgufValue(GgufValueType.ARRAY, elementType, List.copyOf(values));
    }

    /** An integer value as a long. */
    public long asLong() {
        if (!type.isInteger()) {
            throw new IllegalStateException("has type " + type + ", expected an integer");
        }
        return ((Number) value).longValue();
    }

    /** A numeric value (integer or float) as a double. */
    public double asDouble() {
        if (!type.isInteger() && type != GgufValueType.FLOAT32 && type != GgufValueType.FLOAT64) {
            throw new IllegalStateException("has type " + type + ", expected a number");
        }
        return ((Number) value).doubleValue();
    }

    public boolean asBoolean() {
        if (type != GgufValueType.BOOL) {
            throw new IllegalStateException("has type " + type + ", expected BOOL");
        }
        return (Boolean) value;
    }

    public String asString() {
        if (type != GgufValueType.STRING) {
            throw new IllegalStateException("has type " + type + ", expected STRING");
        }
        return (String) value;
    }

    /** The elements of an array (see the class comment for their Java types). */
    public List<?> asList() {
        if (type != GgufValueType.ARRAY) {
            throw new IllegalStateException("has type " + type + ", expected ARRAY");
        }
        return (List<?>) value;
    }

    /** An array of strings. */
    @SuppressWarnings("unchecked")
    public List<String> asStrings() {
        if (type != GgufValueType.ARRAY || elementType != GgufValueType.STRING) {
            throw new IllegalStateException("has type " + describe() + ", expected ARRAY of STRING");
        }
        return (List<String>) value;
    }

    /** An array of integers as longs. */
    public long[] asLongs() {
        if (type != GgufValueType.ARRAY || !elementType.isInteger()) {
            throw new IllegalStateException("has type " + describe() + ", expected ARRAY of integers");
        }
        List<?> l = (List<?>) value;
        long[] out = new long[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) l.get(i)).longValue();
        }
        return out;
    }

    /** "UINT32", or "ARRAY[STRING]" for an array. */
    public String describe() {
        return type == GgufValueType.ARRAY ? "ARRAY[" + elementType + "]" : type.toString();
    }

    @Override
    public String toString() {
        if (type == GgufValueType.ARRAY) {
            List<?> l = (List<?>) value;
            return describe() + " of " + l.size() + (l.isEmpty() ? "" : ", first " + l.get(0));
        }
        return type == GgufValueType.STRING ? '"' + (String) value + '"' : String.valueOf(value);
    }
}
