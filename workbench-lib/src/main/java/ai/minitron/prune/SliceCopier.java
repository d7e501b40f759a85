package ai.minitron.prune;

import ai.minitron.io.AtomicFiles;
import ai.minitron.io.HalfFloats;
import ai.minitron.io.HostTensor;
import ai.minitron.io.TensorDType;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * Copies the kept rows and columns of one stored tensor to an output channel, a block of rows at a
 * time, in the stored bytes: the streaming pruner's engine ({@link CheckpointPruner}).
 *
 * <p>A tensor is {@code [R, C]} (a vector {@code [N]} is {@code [N, 1]}, its elements the rows). Kept
 * rows that are consecutive in the source are read with one positional read of the source file (the
 * tensor's {@link HostTensor#origin}; a tensor built in memory is read from its buffers), at most
 * {@code blockBytes} at a time (one row at least); the kept columns of each row are gathered into an
 * output block that is checked for non-finite values and written when full. Bytes are copied as
 * stored (F32 bits stay F32 bits, BF16 stays BF16), so slicing is exact; only a dtype change or a row
 * transform (the head residual's o_proj merge) takes the arithmetic path, one row at a time through
 * doubles. Memory: two direct buffers of about {@code blockBytes} each, allocated once and reused for
 * every tensor, plus one row as a Java array (shorts or ints when gathering columns, doubles on the arithmetic
 * path); never a whole tensor.
 */
final class SliceCopier implements AutoCloseable {

    /** Arithmetic on one source row (all C values) before its columns are gathered. */
    @FunctionalInterface
    interface RowTransform {
        void apply(int parentRow, double[] row);
    }

    private final int blockBytes;
    private final Map<Path, FileChannel> files = new HashMap<>();
    private ByteBuffer in = ByteBuffer.allocateDirect(0);
    private ByteBuffer out = ByteBuffer.allocateDirect(0);
    private double[] rowValues = new double[0];
    private short[] rowShorts = new short[0];
    private short[] outShorts = new short[0];
    private int[] rowInts = new int[0];
    private int[] outInts = new int[0];
    private long bytesRead;

    SliceCopier(int blockBytes) {
        if (blockBytes < 64) {
            throw new IllegalArgumentException("block size must be at least 64 bytes, got " + blockBytes);
        }
        this.blockBytes = blockBytes;
    }

    /** Source bytes read so far. */
    long bytesRead() {
        return bytesRead;
    }

    /**
     * Writes rows {@code rows} (null: all) and, of each, columns {@code cols} (null: all) of {@code src}
     * to {@code dst} in {@code target} dtype, row-major; {@code transform} (null: none) sees each kept
     * source row first. Refuses a non-finite output value, naming {@code source} and the tensor.
     */
    void copy(HostTensor src, int[] rows, int[] cols, TensorDType target, RowTransform transform, FileChannel dst,
            String source) throws IOException {
        long[] shape = src.shape();
        if (shape.length != 1 && shape.length != 2) {
            throw new IllegalArgumentException(source + ": tensor '" + src.name() + "' has rank " + shape.length
                    + "; only vectors and matrices are sliced");
        }
        int nRows = Math.toIntExact(shape[0]);
        int nCols = shape.length == 2 ? Math.toIntExact(shape[1]) : 1;
        int s = src.dtype().byteSize();
        long rowBytes = (long) nCols * s;
        int outCols = cols == null ? nCols : cols.length;
        long outRowBytes = (long) outCols * target.byteSize();
        boolean raw = target == src.dtype() && transform == null;
        int rowsPerBlock = (int) Math.max(1, Math.min(Integer.MAX_VALUE, blockBytes / Math.max(1, rowBytes)));
        in = ensure(in, Math.multiplyExact(rowsPerBlock, rowBytes));
        out = ensure(out, Math.max(blockBytes, outRowBytes));
        if (!raw && rowValues.length < nCols) {
            rowValues = new double[nCols];
        }
        int[][] colRuns = cols == null ? null : runs(cols);
        int keptRows = rows == null ? nRows : rows.length;
        long written = 0; // output elements flushed so far, for error messages
        out.clear();
        for (int i = 0; i < keptRows; ) {
            int first = rows == null ? i : rows[i];
            int n = 1; // consecutive kept rows, up to a block
            while (i + n < keptRows && n < rowsPerBlock && (rows == null || rows[i + n] == first + n)) {
                n++;
            }
            in.clear().limit(Math.toIntExact(n * rowBytes));
            read(src, first * rowBytes, in, source);
            for (int r = 0; r < n; r++) {
                if (out.remaining() < outRowBytes) {
                    written += flush(dst, target, src.name(), written, source);
                }
                int at = Math.toIntExact(r * rowBytes);
                if (raw && colRuns == null) {
                    out.put(in.slice(at, (int) rowBytes));
                } else if (raw && (s == 2 || s == 4)) {
                    gatherArray(in, at, nCols, cols, s);
                } else if (raw) {
                    gather(in, at, colRuns, s, out);
                } else {
                    decode(in, at, nCols, src.dtype(), rowValues);
                    if (transform != null) {
                        transform.apply(first + r, rowValues);
                    }
                    encode(rowValues, cols, nCols, target, out);
                }
            }
            i += n;
        }
        flush(dst, target, src.name(), written, source);
    }

    /** The whole tensor as doubles (each the exact value of the stored float), read in blocks. */
    double[] readDoubles(HostTensor src, String source) throws IOException {
        if (src.numel() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(source + ": tensor '" + src.name() + "' is too large to hold as doubles");
        }
        int s = src.dtype().byteSize();
        double[] values = new double[(int) src.numel()];
        int perBlock = Math.max(1, blockBytes / s);
        in = ensure(in, (long) perBlock * s);
        for (int at = 0; at < values.length; at += perBlock) {
            int n = Math.min(perBlock, values.length - at);
            in.clear().limit(n * s);
            read(src, (long) at * s, in, source);
            double[] part = new double[n];
            decode(in, 0, n, src.dtype(), part);
            System.arraycopy(part, 0, values, at, n);
        }
        return values;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (FileChannel ch : files.values()) {
            try {
                ch.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        files.clear();
        if (first != null) {
            throw first;
        }
    }

    // ------------------------------------------------------------------------------ reading

    /** Fills {@code buf} (position to limit) with the tensor's bytes from {@code offset}; leaves it flipped. */
    private void read(HostTensor src, long offset, ByteBuffer buf, String source) throws IOException {
        HostTensor.Origin origin = src.origin();
        int length = buf.remaining();
        if (origin != null) {
            FileChannel ch = files.get(origin.file());
            if (ch == null) {
                ch = FileChannel.open(origin.file(), StandardOpenOption.READ);
                files.put(origin.file(), ch);
            }
            long pos = origin.offset() + offset;
            while (buf.hasRemaining()) {
                int r = ch.read(buf, pos);
                if (r < 0) {
                    throw new EOFException(source + ": " + origin.file() + " ends inside tensor '" + src.name()
                            + "' (at byte " + pos + "): the file is truncated");
                }
                pos += r;
            }
        } else {
            long want = offset; // the next byte of the tensor to copy
            long chunkStart = 0;
            for (ByteBuffer chunk : src.byteChunks()) {
                long chunkEnd = chunkStart + chunk.remaining();
                if (buf.hasRemaining() && want >= chunkStart && want < chunkEnd) {
                    int n = (int) Math.min(buf.remaining(), chunkEnd - want);
                    buf.put(chunk.slice((int) (want - chunkStart), n));
                    want += n;
                }
                chunkStart = chunkEnd;
            }
            if (buf.hasRemaining()) {
                throw new IllegalArgumentException(source + ": tensor '" + src.name() + "' has fewer bytes than its shape");
            }
        }
        bytesRead += length;
        buf.flip();
    }

    // ------------------------------------------------------------------------------ copying

    /** Column runs: {start, length} of consecutive indices. */
    static int[][] runs(int[] cols) {
        int count = 0;
        for (int i = 0; i < cols.length; i++) {
            if (i == 0 || cols[i] != cols[i - 1] + 1) {
                count++;
            }
        }
        int[][] runs = new int[count][];
        int k = -1;
        for (int i = 0; i < cols.length; i++) {
            if (i == 0 || cols[i] != cols[i - 1] + 1) {
                runs[++k] = new int[] {cols[i], 1};
            } else {
                runs[k][1]++;
            }
        }
        return runs;
    }

    /**
     * The kept columns of the row at byte {@code at} of {@code in} (2- or 4-byte elements), as stored, appended to
     * {@code out}: the row is read into a Java array in one bulk copy, gathered by index, and written back in one
     * bulk copy (a per-element ByteBuffer loop is several times slower when kept columns are scattered).
     */
    private void gatherArray(ByteBuffer in, int at, int nCols, int[] cols, int s) {
        int n = cols.length;
        ByteBuffer src = in.slice(at, nCols * s).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer dst = out.slice(out.position(), n * s).order(ByteOrder.LITTLE_ENDIAN);
        if (s == 2) {
            if (rowShorts.length < nCols) {
                rowShorts = new short[nCols];
            }
            if (outShorts.length < n) {
                outShorts = new short[n];
            }
            src.asShortBuffer().get(rowShorts, 0, nCols);
            for (int i = 0; i < n; i++) {
                outShorts[i] = rowShorts[cols[i]];
            }
            dst.asShortBuffer().put(outShorts, 0, n);
        } else {
            if (rowInts.length < nCols) {
                rowInts = new int[nCols];
            }
            if (outInts.length < n) {
                outInts = new int[n];
            }
            src.asIntBuffer().get(rowInts, 0, nCols);
            for (int i = 0; i < n; i++) {
                outInts[i] = rowInts[cols[i]];
            }
            dst.asIntBuffer().put(outInts, 0, n);
        }
        out.position(out.position() + n * s);
    }

    /** The kept column runs of the row at byte {@code at} of {@code in}, as stored, appended to {@code out}. */
    private static void gather(ByteBuffer in, int at, int[][] colRuns, int s, ByteBuffer out) {
        int pos = out.position();
        for (int[] run : colRuns) {
            int from = at + run[0] * s;
            int len = run[1] * s;
            if (len >= 32) {
                out.put(pos, in, from, len);
            } else if (s == 2) {
                for (int b = 0; b < len; b += 2) {
                    out.putShort(pos + b, in.getShort(from + b));
                }
            } else if (s == 4) {
                for (int b = 0; b < len; b += 4) {
                    out.putInt(pos + b, in.getInt(from + b));
                }
            } else {
                out.put(pos, in, from, len);
            }
            pos += len;
        }
        out.position(pos);
    }

    /** {@code n} stored values from byte {@code at} as doubles: the exact value of each float (F64 rounded to float first). */
    private static void decode(ByteBuffer in, int at, int n, TensorDType dtype, double[] dst) {
        switch (dtype) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    dst[i] = in.getFloat(at + 4 * i);
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst[i] = HalfFloats.bfloat16ToFloat(in.getShort(at + 2 * i));
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst[i] = HalfFloats.halfToFloat(in.getShort(at + 2 * i));
                }
            }
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    dst[i] = (float) in.getDouble(at + 8 * i);
                }
            }
            default -> throw new IllegalArgumentException("not a floating dtype: " + dtype);
        }
    }

    /** The kept columns of a row of doubles, rounded to float and stored in {@code dtype}, appended to {@code out}. */
    private static void encode(double[] row, int[] cols, int nCols, TensorDType dtype, ByteBuffer out) {
        int n = cols == null ? nCols : cols.length;
        for (int i = 0; i < n; i++) {
            float v = (float) row[cols == null ? i : cols[i]];
            switch (dtype) {
                case F32 -> out.putFloat(v);
                case BF16 -> out.putShort(HalfFloats.floatToBfloat16(v));
                case F16 -> out.putShort(HalfFloats.floatToHalf(v));
                case F64 -> out.putDouble(v);
                default -> throw new IllegalArgumentException("not a floating dtype: " + dtype);
            }
        }
    }

    // ------------------------------------------------------------------------------ writing

    /** Checks and writes the output block; returns the number of elements written. */
    private long flush(FileChannel dst, TensorDType dtype, String tensor, long before, String source)
            throws IOException {
        out.flip();
        int bad = firstNonFinite(out, dtype);
        if (bad >= 0) {
            throw new IllegalArgumentException(source + ": tensor '" + tensor + "' holds a non-finite value (kept"
                    + " element " + (before + bad) + " of the pruned tensor, " + dtype + "): the checkpoint is corrupt"
                    + " or training diverged");
        }
        long n = out.remaining() / dtype.byteSize();
        AtomicFiles.writeFully(dst, out);
        out.clear();
        return n;
    }

    /**
     * The index of the first NaN or infinity among the elements of {@code buf} (position 0 to limit), or -1.
     * Eight bytes at a time: a value is not finite when its exponent bits are all ones.
     */
    static int firstNonFinite(ByteBuffer buf, TensorDType dtype) {
        long mask;
        long low;
        switch (dtype) {
            case BF16 -> {
                mask = 0x7F807F807F807F80L;
                low = 0x0001000100010001L;
            }
            case F16 -> {
                mask = 0x7C007C007C007C00L;
                low = 0x0001000100010001L;
            }
            case F32 -> {
                mask = 0x7F8000007F800000L;
                low = 0x0000000100000001L;
            }
            case F64 -> {
                mask = 0x7FF0000000000000L;
                low = 1L;
            }
            default -> {
                return -1;
            }
        }
        long high = low << (8 * dtype.byteSize() - 1);
        int n = buf.limit();
        int words = n / 8 * 8;
        for (int b = 0; b < words; b += 8) {
            long v = (buf.getLong(b) & mask) ^ mask; // a lane is 0 exactly when its exponent is all ones
            if (((v - low) & ~v & high) != 0) {
                int bad = firstNonFiniteSlow(buf, dtype, b, b + 8);
                if (bad >= 0) {
                    return bad;
                }
            }
        }
        return firstNonFiniteSlow(buf, dtype, words, n);
    }

    private static int firstNonFiniteSlow(ByteBuffer buf, TensorDType dtype, int from, int to) {
        int s = dtype.byteSize();
        for (int b = from; b < to; b += s) {
            boolean finite = switch (dtype) {
                case BF16 -> Float.isFinite(HalfFloats.bfloat16ToFloat(buf.getShort(b)));
                case F16 -> Float.isFinite(HalfFloats.halfToFloat(buf.getShort(b)));
                case F32 -> Float.isFinite(buf.getFloat(b));
                default -> Double.isFinite(buf.getDouble(b));
            };
            if (!finite) {
                return b / s;
            }
        }
        return -1;
    }

    /**
     * {@code buf} if it holds {@code bytes}, else a new direct buffer of at least a block that does. Blocks
     * are never larger than {@code blockBytes} unless one row is, so each buffer is allocated once (a dropped
     * direct buffer is freed only by a later garbage collection).
     */
    private ByteBuffer ensure(ByteBuffer buf, long bytes) {
        if (bytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a block of " + bytes + " bytes is larger than one buffer can hold");
        }
        if (buf.capacity() >= bytes) {
            return buf;
        }
        return ByteBuffer.allocateDirect((int) Math.max(bytes, blockBytes)).order(ByteOrder.LITTLE_ENDIAN);
    }
}
