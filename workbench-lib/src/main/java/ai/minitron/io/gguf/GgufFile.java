package ai.minitron.io.gguf;

import ai.minitron.io.CheckpointFormatException;
import ai.minitron.io.HostTensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (llama.cpp's model format), versions 2 and 3, little-endian: its metadata, its
 * tensor directory, and each tensor's data memory-mapped on demand and dequantized to float32.
 *
 * <p>Layout (all integers little-endian; a string is a u64 byte length + UTF-8 bytes):
 * <pre>
 *   u32 magic "GGUF" | u32 version | u64 tensor_count | u64 kv_count
 *   kv_count x  (string key, u32 value type, value)           -- arrays: u32 elem type, u64 n, n values
 *   tensor_count x (string name, u32 n_dims, u64 dims[n_dims] innermost first, u32 ggml type, u64 offset)
 *   padding to general.alignment (default 32)
 *   data section: each tensor at its offset (a multiple of the alignment) from the section start
 * </pre>
 *
 * <p>Only the header is read when the file is opened; a tensor's bytes are mapped when asked for,
 * per tensor (or per range of rows), so files of any size open in milliseconds and there is no
 * 2 GiB limit on the file. Every structural problem (bad magic, unsupported version, a truncated
 * header, a tensor whose data runs past the end of the file, a misaligned offset, a row length
 * that is not a whole number of blocks) is a {@link CheckpointFormatException} naming the file and,
 * where one is involved, the key or tensor. A tensor of a type this reader does not know can still
 * be listed; reading it fails naming the file, tensor and type number.
 */
public final class GgufFile implements AutoCloseable {
    /** "GGUF" read as a little-endian u32. */
    public static final int MAGIC = 0x46554747;
    public static final int DEFAULT_ALIGNMENT = 32;
    /** ggml's GGML_MAX_DIMS. */
    public static final int MAX_DIMS = 4;
    /** Mapped at most this many bytes at a time when dequantizing a range of rows. */
    private static final long MAP_WINDOW = 1L << 28;

    private final Path path;
    private final FileChannel channel;
    private final long fileSize;
    private final int version;
    private final GgufMetadata metadata;
    private final List<GgufTensorInfo> tensors;
    private final Map<String, GgufTensorInfo> byName;
    private final int alignment;
    private final long dataOffset;

    private GgufFile(Path path, FileChannel channel, long fileSize, int version, GgufMetadata metadata,
            List<GgufTensorInfo> tensors, int alignment, long dataOffset) {
        this.path = path;
        this.channel = channel;
        this.fileSize = fileSize;
        this.version = version;
        this.metadata = metadata;
        this.tensors = Collections.unmodifiableList(tensors);
        Map<String, GgufTensorInfo> m = new LinkedHashMap<>();
        for (GgufTensorInfo t : tensors) {
            m.put(t.name(), t);
        }
        this.byName = Collections.unmodifiableMap(m);
        this.alignment = alignment;
        this.dataOffset = dataOffset;
    }

    /**
     * Opens a GGUF file and reads its header.
     *
     * @throws CheckpointFormatException naming the file if it is not a valid GGUF v2/v3 file
     * @throws IOException if it cannot be read (missing file: {@link NoSuchFileException})
     */
    public static GgufFile open(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            return readHeader(file, ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static GgufFile readHeader(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        GgufCursor c = new GgufCursor(file, ch, size);
        if (size < 4) {
            throw c.bad("only " + size + " bytes, too short for a GGUF header (not a GGUF file?)");
        }
        int magic = c.i32("magic");
        if (magic != MAGIC) {
            throw c.bad(String.format("bad magic 0x%08x, expected \"GGUF\" (0x%08x); not a GGUF file", magic, MAGIC));
        }
        int version = c.i32("version");
        if (version == 1) {
            throw c.bad("GGUF version 1 is not supported (only versions 2 and 3; re-convert with a current llama.cpp)");
        }
        if (version != 2 && version != 3) {
            if (Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3) {
                throw c.bad("big-endian GGUF files are not supported");
            }
            throw c.bad("unsupported GGUF version " + Integer.toUnsignedString(version) + " (supported: 2, 3)");
        }
        long tensorCount = c.i64("tensor count");
        long kvCount = c.i64("metadata count");
        // Each metadata entry needs >= 8 + 4 + 1 bytes and each tensor info >= 8 + 4 + 4 + 8 bytes.
        if (kvCount < 0 || kvCount > c.remaining() / 13) {
            throw c.bad("metadata count " + Long.toUnsignedString(kvCount) + " cannot fit in the file (corrupt or truncated header)");
        }
        if (tensorCount < 0 || tensorCount > c.remaining() / 24) {
            throw c.bad("tensor count " + Long.toUnsignedString(tensorCount) + " cannot fit in the file (corrupt or truncated header)");
        }
        Map<String, GgufValue> kv = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = c.string("metadata key #" + i);
            int typeId = c.i32("type of metadata '" + key + "'");
            GgufValueType type = GgufValueType.fromId(typeId);
            if (type == null) {
                throw c.bad("metadata '" + key + "' has unknown value type " + Integer.toUnsignedString(typeId));
            }
            if (kv.containsKey(key)) {
                throw c.bad("duplicate metadata key '" + key + "'");
            }
            kv.put(key, c.value(type, key));
        }
        GgufMetadata metadata = new GgufMetadata(file.toString(), kv);
        int alignment = DEFAULT_ALIGNMENT;
        if (kv.containsKey("general.alignment")) {
            GgufValue a = kv.get("general.alignment");
            long v = a.type().isInteger() ? a.asLong() : -1;
            if (v <= 0 || v > (1 << 30) || Long.bitCount(v) != 1) {
                throw c.bad("general.alignment = " + a + " must be a positive power of two");
            }
            alignment = (int) v;
        }
        List<GgufTensorInfo> infos = new ArrayList<>((int) tensorCount);
        Map<String, Boolean> seen = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = c.string("tensor name #" + i);
            if (seen.put(name, Boolean.TRUE) != null) {
                throw c.bad("duplicate tensor name '" + name + "'");
            }
            int nDims = c.i32("tensor '" + name + "' dimension count");
            if (nDims < 0 || nDims > MAX_DIMS) {
                throw c.bad("tensor '" + name + "' has " + Integer.toUnsignedString(nDims) + " dimensions (at most " + MAX_DIMS + ")");
            }
            long[] dims = new long[nDims];
            long numel = 1;
            for (int d = 0; d < nDims; d++) {
                dims[d] = c.i64("tensor '" + name + "' dimension " + d);
                if (dims[d] < 0) {
                    throw c.bad("tensor '" + name + "' has a negative or oversized dimension " + Long.toUnsignedString(dims[d]));
                }
                if (dims[d] != 0 && numel > Long.MAX_VALUE / dims[d]) {
                    throw c.bad("tensor '" + name + "' has too many elements (dims overflow a 64-bit count)");
                }
                numel *= dims[d];
            }
            int typeId = c.i32("tensor '" + name + "' type");
            long offset = c.i64("tensor '" + name + "' offset");
            infos.add(new GgufTensorInfo(name, dims, GgmlType.fromId(typeId), typeId, offset));
        }
        long dataOffset = align(c.pos, alignment);
        if (!infos.isEmpty() && dataOffset > size) {
            throw c.bad("the header ends at byte " + c.pos + " but the tensor data should start at " + dataOffset
                    + "; the file is only " + size + " bytes (truncated download?)");
        }
        for (GgufTensorInfo t : infos) {
            validate(file, t, alignment, dataOffset, size);
        }
        return new GgufFile(file, ch, size, version, metadata, infos, alignment, dataOffset);
    }

    private static void validate(Path file, GgufTensorInfo t, int alignment, long dataOffset, long size) {
        String where = "Bad GGUF file " + file + ": tensor '" + t.name() + "'";
        if (t.offset() < 0 || t.offset() % alignment != 0) {
            throw new CheckpointFormatException(where + " has offset " + Long.toUnsignedString(t.offset())
                    + ", not a multiple of the alignment " + alignment);
        }
        if (t.type() == null) {
            return; // size unknown: listed, but reading it fails with a clear message
        }
        if (t.rowLength() % t.type().blockSize() != 0) {
            throw new CheckpointFormatException(where + " has rows of " + t.rowLength() + " elements, not a multiple of the "
                    + t.type() + " block size " + t.type().blockSize());
        }
        long bytes;
        try {
            bytes = t.byteSize();
        } catch (ArithmeticException e) {
            throw new CheckpointFormatException(where + ": dims " + Arrays.toString(t.dims()) + " of " + t.type()
                    + " overflow a 64-bit byte count", e);
        }
        if (t.offset() > size - dataOffset || bytes > size - dataOffset - t.offset()) {
            throw new CheckpointFormatException(where + " (" + t.type() + ", " + bytes + " bytes at data offset " + t.offset()
                    + ") extends past the end of the file (" + size + " bytes, data section from " + dataOffset
                    + "); truncated download?");
        }
    }

    static long align(long pos, long alignment) {
        return (pos + alignment - 1) / alignment * alignment;
    }

    // ------------------------------------------------------------------------------------ accessors

    public Path path() {
        return path;
    }

    /** 2 or 3. */
    public int version() {
        return version;
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    /** Tensor directory in file order. */
    public List<GgufTensorInfo> tensors() {
        return tensors;
    }

    public boolean hasTensor(String name) {
        return byName.containsKey(name);
    }

    /** The tensor's entry; throws naming the file if there is none. */
    public GgufTensorInfo tensor(String name) {
        GgufTensorInfo t = byName.get(name);
        if (t == null) {
            throw new CheckpointFormatException(path + ": no tensor named '" + name + "'");
        }
        return t;
    }

    /** The alignment of tensor data (general.alignment, default 32). */
    public int alignment() {
        return alignment;
    }

    /** Absolute file offset of the data section. */
    public long dataOffset() {
        return dataOffset;
    }

    public long fileSize() {
        return fileSize;
    }

    // ---------------------------------------------------------------------------------------- data

    /**
     * The raw bytes of rows [firstRow, firstRow + rowCount) of a tensor: a read-only little-endian
     * memory map (at most 2 GiB). The mapping stays valid after {@link #close()}.
     */
    public ByteBuffer rawRows(GgufTensorInfo t, long firstRow, long rowCount) {
        GgmlType type = readableType(t, false);
        if (firstRow < 0 || rowCount < 0 || firstRow + rowCount > t.rows()) {
            throw new IndexOutOfBoundsException(path + ": tensor '" + t.name() + "' has " + t.rows() + " rows; asked for ["
                    + firstRow + ", " + (firstRow + rowCount) + ")");
        }
        long rowBytes = type.byteSize(t.rowLength());
        long bytes = rowBytes * rowCount;
        if (bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(path + ": tensor '" + t.name() + "': " + bytes
                    + " bytes is more than one mapping can hold; read fewer rows at a time");
        }
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, dataOffset + t.offset() + firstRow * rowBytes, bytes)
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot map tensor '" + t.name() + "': " + e.getMessage(), e);
        }
    }

    /** All raw bytes of a tensor (see {@link #rawRows}). */
    public ByteBuffer rawData(GgufTensorInfo t) {
        return rawRows(t, 0, t.rows());
    }

    /**
     * Dequantizes rows [firstRow, firstRow + rowCount) of a tensor into {@code dst[dstOffset ..]},
     * row-major: {@code rowCount * rowLength} floats.
     */
    public void dequantizeRows(String name, long firstRow, int rowCount, float[] dst, int dstOffset) {
        GgufTensorInfo t = tensor(name);
        GgmlType type = readableType(t, true);
        long rowLen = t.rowLength();
        if ((long) rowCount * rowLen > dst.length - (long) dstOffset) {
            throw new IndexOutOfBoundsException(rowCount + " rows of " + rowLen + " do not fit the destination");
        }
        long rowBytes = type.byteSize(rowLen);
        int step = (int) Math.max(1, Math.min(rowCount, MAP_WINDOW / Math.max(1, rowBytes)));
        for (int done = 0; done < rowCount; done += step) {
            int n = Math.min(step, rowCount - done);
            ByteBuffer raw = rawRows(t, firstRow + done, n);
            Dequantize.toFloats(type, raw, dst, (int) (dstOffset + done * rowLen), (int) (n * rowLen));
        }
    }

    /** A whole tensor dequantized to float32, row-major (see {@link GgufTensorInfo#shape()}). */
    public float[] dequantize(String name) {
        GgufTensorInfo t = tensor(name);
        readableType(t, true);
        if (t.numel() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(path + ": tensor '" + t.name() + "' has " + t.numel()
                    + " elements, more than a Java array holds; use dequantizeRows");
        }
        float[] out = new float[(int) t.numel()];
        dequantizeRows(name, 0, Math.toIntExact(t.rows()), out, 0);
        return out;
    }

    /** A tensor dequantized to an F32 {@link HostTensor} with its GGUF name and row-major shape. */
    public HostTensor toHostTensor(String name) {
        GgufTensorInfo t = tensor(name);
        return HostTensor.ofFloats(name, t.shape(), dequantize(name));
    }

    private GgmlType readableType(GgufTensorInfo t, boolean mustDequantize) {
        if (t.type() == null) {
            throw new CheckpointFormatException(path + ": tensor '" + t.name() + "' has unknown GGML type id " + t.typeId()
                    + " (this reader knows " + knownTypes() + ")");
        }
        if (mustDequantize && !t.type().dequantizable()) {
            throw new CheckpointFormatException(path + ": tensor '" + t.name() + "' has type " + t.type()
                    + ", which cannot be dequantized yet (supported: F32, F16, BF16, F64, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K)");
        }
        return t.type();
    }

    private static String knownTypes() {
        StringBuilder sb = new StringBuilder();
        for (GgmlType g : GgmlType.values()) {
            sb.append(sb.length() == 0 ? "" : ", ").append(g).append('=').append(g.id());
        }
        return sb.toString();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return "GgufFile[" + path + ", v" + version + ", " + metadata.keys().size() + " keys, " + tensors.size() + " tensors]";
    }
}
