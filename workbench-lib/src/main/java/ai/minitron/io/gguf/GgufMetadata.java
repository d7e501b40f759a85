package ai.minitron.io.gguf;

import ai.minitron.io.CheckpointFormatException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The key/value metadata of a GGUF file, in file order, with typed getters whose errors name the
 * file and the key ({@code "model.gguf: metadata key 'llama.block_count' is missing"}).
 */
public final class GgufMetadata {
    private final String source;
    private final Map<String, GgufValue> values;

    /** @param source what the metadata came from (a file path), for error messages */
    public GgufMetadata(String source, Map<String, GgufValue> values) {
        this.source = source;
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** The file (or other source) these values were read from. */
    public String source() {
        return source;
    }

    public Map<String, GgufValue> asMap() {
        return values;
    }

    public Set<String> keys() {
        return values.keySet();
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    /** The value, or null if absent. */
    public GgufValue get(String key) {
        return values.get(key);
    }

    public long getLong(String key) {
        try {
            return require(key).asLong();
        } catch (IllegalStateException e) {
            throw wrongType(key, e);
        }
    }

    public long getLong(String key, long dflt) {
        return has(key) ? getLong(key) : dflt;
    }

    /** An integer value that must fit a positive-or-zero Java int. */
    public int getInt(String key) {
        long v = getLong(key);
        if (v < 0 || v > Integer.MAX_VALUE) {
            throw new CheckpointFormatException(source + ": metadata key '" + key + "' = " + v
                    + " is out of range");
        }
        return (int) v;
    }

    public int getInt(String key, int dflt) {
        return has(key) ? getInt(key) : dflt;
    }

    public double getDouble(String key) {
        try {
            return require(key).asDouble();
        } catch (IllegalStateException e) {
            throw wrongType(key, e);
        }
    }

    public double getDouble(String key, double dflt) {
        return has(key) ? getDouble(key) : dflt;
    }

    /**
     * A number as the decimal it was written from: a FLOAT32 is widened through its shortest
     * decimal form (1e-5f gives 1.0E-5, not 9.999999747378752E-6), so it prints as in config.json.
     */
    public double getDecimal(String key, double dflt) {
        if (!has(key)) {
            return dflt;
        }
        GgufValue v = get(key);
        if (v.type() == GgufValueType.FLOAT32) {
            return Double.parseDouble(Float.toString((Float) v.value()));
        }
        return getDouble(key);
    }

    public String getString(String key) {
        try {
            return require(key).asString();
        } catch (IllegalStateException e) {
            throw wrongType(key, e);
        }
    }

    public String getString(String key, String dflt) {
        return has(key) ? getString(key) : dflt;
    }

    public boolean getBoolean(String key, boolean dflt) {
        try {
            return has(key) ? get(key).asBoolean() : dflt;
        } catch (IllegalStateException e) {
            throw wrongType(key, e);
        }
    }

    public List<String> getStrings(String key) {
        try {
            return require(key).asStrings();
        } catch (IllegalStateException e) {
            throw wrongType(key, e);
        }
    }

    public long[] getLongs(String key) {
        try {
            return require(key).asLongs();
        } catch (IllegalStateException e) {
            throw wrongType(key, e);
        }
    }

    private GgufValue require(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            throw new CheckpointFormatException(source + ": metadata key '" + key + "' is missing");
        }
        return v;
    }

    private CheckpointFormatException wrongType(String key, IllegalStateException e) {
        return new CheckpointFormatException(source + ": metadata key '" + key + "' " + e.getMessage(), e);
    }

    @Override
    public String toString() {
        return "GgufMetadata[" + source + ", " + values.size() + " keys]";
    }
}
