package ai.minitron.io.gguf;

import ai.minitron.io.AtomicFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF v3 file (the layout {@link GgufFile} reads): metadata in insertion order, then the
 * tensor directory, then each tensor's bytes at the next multiple of the alignment. Tensors are
 * given as raw bytes of any {@link GgmlType}, or as floats stored F32. Everything is held in memory
 * until {@link #write}, so this is meant for small files: test fixtures, tiny models.
 */
public final class GgufWriter {
    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<Entry> tensors = new ArrayList<>();
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;

    private record Entry(String name, long[] dims, int typeId, byte[] data) {}

    /** Adds (or replaces) a metadata value; setting general.alignment changes the data alignment. */
    public GgufWriter put(String key, GgufValue value) {
        metadata.put(key, value);
        if (key.equals("general.alignment")) {
            alignment = (int) value.asLong();
        }
        return this;
    }

    /**
     * Adds a tensor as raw little-endian bytes of a GGML type.
     *
     * @param dims dimensions innermost first (ne0 = row length), as GGUF stores them
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, byte[] data) {
        long numel = 1;
        for (long d : dims) {
            numel *= d;
        }
        if (type.byteSize(numel) != data.length) {
            throw new IllegalArgumentException("tensor '" + name + "': " + data.length + " bytes given, "
                    + type + " dims " + java.util.Arrays.toString(dims) + " need " + type.byteSize(numel));
        }
        return addRaw(name, dims, type.id(), data);
    }

    /** Adds a tensor with any type number and bytes, unchecked (to write malformed test files). */
    public GgufWriter addRaw(String name, long[] dims, int typeId, byte[] data) {
        tensors.add(new Entry(name, dims.clone(), typeId, data.clone()));
        return this;
    }

    /** Adds an F32 tensor given in row-major {@code shape} (stored with dims reversed). */
    public GgufWriter addF32(String name, long[] shape, float[] values) {
        long[] dims = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            dims[i] = shape[shape.length - 1 - i];
        }
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return addTensor(name, GgmlType.F32, dims, b.array());
    }

    /** The complete file as bytes. */
    public byte[] toBytes() {
        Out o = new Out();
        o.i32(GgufFile.MAGIC);
        o.i32(3);
        o.i64(tensors.size());
        o.i64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            o.string(e.getKey());
            o.i32(e.getValue().type().id());
            o.value(e.getValue());
        }
        long offset = 0;
        List<Long> offsets = new ArrayList<>();
        for (Entry t : tensors) {
            o.string(t.name);
            o.i32(t.dims.length);
            for (long d : t.dims) {
                o.i64(d);
            }
            o.i32(t.typeId);
            o.i64(offset);
            offsets.add(offset);
            offset = GgufFile.align(offset + t.data.length, alignment);
        }
        o.pad(alignment);
        for (int i = 0; i < tensors.size(); i++) {
            Entry t = tensors.get(i);
            o.bytes.write(t.data, 0, t.data.length);
            if (i + 1 < tensors.size()) {
                o.pad(alignment);
            }
        }
        return o.bytes.toByteArray();
    }

    /** Writes the file atomically. */
    public void write(Path file) throws IOException {
        AtomicFiles.writeBytes(file, toBytes());
    }

    private static final class Out {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        void i8(int v) {
            bytes.write(v);
        }

        void i16(int v) {
            scratch.clear();
            scratch.putShort((short) v);
            bytes.write(scratch.array(), 0, 2);
        }

        void i32(int v) {
            scratch.clear();
            scratch.putInt(v);
            bytes.write(scratch.array(), 0, 4);
        }

        void i64(long v) {
            scratch.clear();
            scratch.putLong(v);
            bytes.write(scratch.array(), 0, 8);
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            bytes.write(b, 0, b.length);
        }

        void pad(int alignment) {
            while (bytes.size() % alignment != 0) {
                bytes.write(0);
            }
        }

        void value(GgufValue v) {
            if (v.type() == GgufValueType.ARRAY) {
                i32(v.elementType().id());
                List<?> l = v.asList();
                i64(l.size());
                for (Object x : l) {
                    if (v.elementType() == GgufValueType.ARRAY) {
                        value((GgufValue) x);
                    } else {
                        scalar(v.elementType(), x);
                    }
                }
            } else {
                scalar(v.type(), v.value());
            }
        }

        private void scalar(GgufValueType t, Object x) {
            switch (t) {
                case UINT8, INT8 -> i8(((Number) x).intValue());
                case UINT16, INT16 -> i16(((Number) x).intValue());
                case UINT32, INT32 -> i32((int) ((Number) x).longValue());
                case UINT64, INT64 -> i64(((Number) x).longValue());
                case FLOAT32 -> i32(Float.floatToRawIntBits(((Number) x).floatValue()));
                case FLOAT64 -> i64(Double.doubleToRawLongBits(((Number) x).doubleValue()));
                case BOOL -> i8((Boolean) x ? 1 : 0);
                case STRING -> string((String) x);
                case ARRAY -> value((GgufValue) x);
            }
        }
    }
}
