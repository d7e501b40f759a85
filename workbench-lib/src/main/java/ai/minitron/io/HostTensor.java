package ai.minitron.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * An immutable, named tensor in host (JVM) memory: dtype, shape and little-endian bytes, exactly as
 * a safetensors file stores them. It is the currency between checkpoint files and the rest of the
 * workbench; nothing here touches DJL, so a BF16 tensor can be held and converted safely before it
 * goes anywhere near native code (docs/architecture.md, "DJL facts").
 *
 * <p>Storage is one or more read-only little-endian {@link ByteBuffer} chunks. Tensors built in
 * memory have one chunk. Tensors read by {@link SafeTensors#read} are memory-mapped slices of the
 * file; a tensor larger than 1 GiB is mapped as several 1 GiB chunks, which is how tensors above the
 * 2 GiB {@code ByteBuffer} limit are held. Every chunk but the last is a multiple of 8 bytes, so no
 * element straddles two chunks.
 *
 * <p>Shape convention: row-major (C order), {@code shape = []} is a 0-d scalar with one element, a
 * shape containing 0 is an empty tensor. E.g. {@code q_proj.weight} is {@code [out, in]}.
 */
public final class HostTensor {

  /** Size of the memory-mapped chunks a large tensor is split into (a multiple of every itemsize). */
  static final int CHUNK_BYTES = 1 << 30;

  private final String name;
  private final TensorDType dtype;
  private final long[] shape;
  private final long numel;
  private final long byteSize;
  private final ByteBuffer[] chunks; // read-only, position 0, little-endian
  private final Origin origin; // where in a file the bytes are, or null (built in memory)

  /**
   * Where a tensor read from a safetensors file lies in it: {@code file}, bytes
   * {@code [offset, offset + byteSize)}. A reader that streams through a large checkpoint reads these
   * bytes with positional reads ({@link java.nio.channels.FileChannel#read(ByteBuffer, long)}) instead of
   * touching the mapping: touched mapped pages count in the process's resident memory until the
   * mapping is garbage-collected, read pages only in the kernel's page cache.
   */
  public record Origin(Path file, long offset) {}

  /** Package-private: chunks must be read-only views whose sizes sum to numel * itemsize. */
  HostTensor(String name, TensorDType dtype, long[] shape, ByteBuffer[] chunks) {
    this(name, dtype, shape, chunks, null);
  }

  /** Package-private: as above, for a tensor whose bytes are also at {@code origin} in a file. */
  HostTensor(String name, TensorDType dtype, long[] shape, ByteBuffer[] chunks, Origin origin) {
    this.origin = origin;
    this.name = Objects.requireNonNull(name, "name");
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    this.shape = shape.clone();
    this.numel = checkedNumel(name, this.shape);
    this.byteSize = checkedByteSize(name, numel, dtype);
    long total = 0;
    for (int i = 0; i < chunks.length; i++) {
      total += chunks[i].remaining();
      if (i < chunks.length - 1 && chunks[i].remaining() % 8 != 0) {
        throw new IllegalArgumentException("tensor '" + name + "': inner chunk not 8-byte sized");
      }
    }
    if (total != byteSize) {
      throw new IllegalArgumentException(
          "tensor '" + name + "': " + total + " bytes given, but shape " + Arrays.toString(shape)
              + " of " + dtype + " needs " + byteSize);
    }
    this.chunks = chunks.length == 0 ? new ByteBuffer[] {ByteBuffer.allocate(0)} : chunks.clone();
  }

  // ---------------------------------------------------------------------------------- factories

  /** An F32 tensor holding a copy of {@code data} (row-major, length = product of shape). */
  public static HostTensor ofFloats(String name, long[] shape, float[] data) {
    checkLength(name, shape, data.length);
    ByteBuffer buf = allocate(name, (long) data.length * 4);
    buf.asFloatBuffer().put(data);
    return new HostTensor(name, TensorDType.F32, shape, new ByteBuffer[] {readOnly(buf)});
  }

  /** An I64 tensor holding a copy of {@code data} (row-major, length = product of shape). */
  public static HostTensor ofLongs(String name, long[] shape, long[] data) {
    checkLength(name, shape, data.length);
    ByteBuffer buf = allocate(name, (long) data.length * 8);
    buf.asLongBuffer().put(data);
    return new HostTensor(name, TensorDType.I64, shape, new ByteBuffer[] {readOnly(buf)});
  }

  /**
   * A tensor over raw little-endian bytes: {@code bytes} from its position to its limit must hold
   * exactly numel * itemsize bytes. A read-only buffer is wrapped without copying (it is the
   * caller's promise that nobody writes the underlying memory); a writable buffer is copied so the
   * tensor stays immutable.
   */
  public static HostTensor ofBytes(String name, TensorDType dtype, long[] shape, ByteBuffer bytes) {
    ByteBuffer view;
    if (bytes.isReadOnly()) {
      view = bytes.slice();
    } else {
      ByteBuffer copy = ByteBuffer.allocate(bytes.remaining());
      copy.put(bytes.duplicate());
      copy.flip();
      view = copy;
    }
    return new HostTensor(name, dtype, shape, new ByteBuffer[] {readOnly(view)});
  }

  // ---------------------------------------------------------------------------------- accessors

  public String name() {
    return name;
  }

  public TensorDType dtype() {
    return dtype;
  }

  /** The shape (a copy; {@code []} for a scalar). */
  public long[] shape() {
    return shape.clone();
  }

  /** Number of dimensions (0 for a scalar). */
  public int rank() {
    return shape.length;
  }

  /** Number of elements: the product of the shape (1 for a scalar, 0 if any dim is 0). */
  public long numel() {
    return numel;
  }

  /** Size of the data in bytes: numel * itemsize. */
  public long byteSize() {
    return byteSize;
  }

  /**
   * A fresh read-only little-endian view of all bytes (position 0). For a tensor above the 2 GiB
   * {@code ByteBuffer} limit this throws; use {@link #byteChunks()}.
   */
  public ByteBuffer bytes() {
    if (chunks.length != 1) {
      throw new IllegalStateException(
          "tensor '" + name + "' is " + byteSize + " bytes, more than one ByteBuffer can view;"
              + " use byteChunks()");
    }
    return view(chunks[0]);
  }

  /**
   * Fresh read-only little-endian views of the data, in order; concatenated they are the tensor's
   * bytes. One chunk unless the tensor is larger than 1 GiB.
   */
  public List<ByteBuffer> byteChunks() {
    List<ByteBuffer> out = new ArrayList<>(chunks.length);
    for (ByteBuffer c : chunks) {
      out.add(view(c));
    }
    return Collections.unmodifiableList(out);
  }

  /** The same data under another name (no copy). Handy when pruning renumbers layers. */
  public HostTensor withName(String newName) {
    return new HostTensor(newName, dtype, shape, chunks, origin);
  }

  /** Where the bytes lie in a file ({@link SafeTensors#read}), or null for a tensor built in memory. */
  public Origin origin() {
    return origin;
  }

  // -------------------------------------------------------------------------------- conversions

  /**
   * The elements as floats (row-major). F32 is exact, F16 and BF16 are exact (every 16-bit value is
   * a float), F64 is rounded to nearest.
   *
   * @throws IllegalStateException for a non-floating dtype or more than Integer.MAX_VALUE elements
   */
  public float[] toFloats() {
    if (!dtype.isFloating()) {
      throw new IllegalStateException(
          "tensor '" + name + "' has dtype " + dtype + "; toFloats() needs F32/F16/BF16/F64 (use toLongs())");
    }
    float[] out = new float[arrayLength("toFloats()")];
    int pos = 0;
    for (ByteBuffer chunk : chunks) {
      ByteBuffer b = view(chunk);
      int n = b.remaining() / dtype.byteSize();
      switch (dtype) {
        case F32 -> b.asFloatBuffer().get(out, pos, n);
        case F64 -> {
          DoubleBuffer d = b.asDoubleBuffer();
          for (int i = 0; i < n; i++) {
            out[pos + i] = narrow(d.get(i));
          }
        }
        case F16 -> {
          for (int i = 0; i < n; i++) {
            out[pos + i] = HalfFloats.halfToFloat(b.getShort(2 * i));
          }
        }
        case BF16 -> {
          for (int i = 0; i < n; i++) {
            out[pos + i] = HalfFloats.bfloat16ToFloat(b.getShort(2 * i));
          }
        }
        default -> throw new AssertionError(dtype);
      }
      pos += n;
    }
    return out;
  }

  /**
   * The elements as doubles (row-major): F64 exact, F32/F16/BF16 widened exactly.
   *
   * @throws IllegalStateException for a non-floating dtype or more than Integer.MAX_VALUE elements
   */
  public double[] toDoubles() {
    if (dtype != TensorDType.F64) {
      float[] f = toFloats();
      double[] out = new double[f.length];
      for (int i = 0; i < f.length; i++) {
        out[i] = f[i];
      }
      return out;
    }
    double[] out = new double[arrayLength("toDoubles()")];
    int pos = 0;
    for (ByteBuffer chunk : chunks) {
      DoubleBuffer d = view(chunk).asDoubleBuffer();
      int n = d.remaining();
      d.get(out, pos, n);
      pos += n;
    }
    return out;
  }

  /**
   * The elements as longs (row-major): I64/I32/I16/I8 sign-extended, U8 and BOOL as 0..255.
   *
   * @throws IllegalStateException for a floating dtype or more than Integer.MAX_VALUE elements
   */
  public long[] toLongs() {
    if (dtype.isFloating()) {
      throw new IllegalStateException(
          "tensor '" + name + "' has dtype " + dtype + "; toLongs() needs an integer dtype (use toFloats())");
    }
    long[] out = new long[arrayLength("toLongs()")];
    int pos = 0;
    for (ByteBuffer chunk : chunks) {
      ByteBuffer b = view(chunk);
      int n = b.remaining() / dtype.byteSize();
      switch (dtype) {
        case I64 -> {
          LongBuffer l = b.asLongBuffer();
          l.get(out, pos, n);
        }
        case I32 -> {
          for (int i = 0; i < n; i++) {
            out[pos + i] = b.getInt(4 * i);
          }
        }
        case I16 -> {
          for (int i = 0; i < n; i++) {
            out[pos + i] = b.getShort(2 * i);
          }
        }
        case I8 -> {
          for (int i = 0; i < n; i++) {
            out[pos + i] = b.get(i);
          }
        }
        case U8, BOOL -> {
          for (int i = 0; i < n; i++) {
            out[pos + i] = b.get(i) & 0xff;
          }
        }
        default -> throw new AssertionError(dtype);
      }
      pos += n;
    }
    return out;
  }

  /**
   * This tensor in another floating dtype (same name and shape). Returns {@code this} when the
   * dtype already matches. Narrowing to F16/BF16 rounds to nearest even and keeps NaN; F16 -> F32 ->
   * F16 and BF16 -> F32 -> F16 round trips are bit-exact. Converting F64 to a 16-bit type goes
   * through float (two roundings).
   *
   * @throws IllegalArgumentException if either dtype is not floating
   */
  public HostTensor convertTo(TensorDType target) {
    Objects.requireNonNull(target, "target");
    if (target == dtype) {
      return this;
    }
    if (!dtype.isFloating() || !target.isFloating()) {
      throw new IllegalArgumentException(
          "tensor '" + name + "': convertTo() supports floating dtypes only, not " + dtype + " -> " + target);
    }
    float[] values = toFloats();
    ByteBuffer buf = allocate(name, (long) values.length * target.byteSize());
    switch (target) {
      case F32 -> buf.asFloatBuffer().put(values);
      case F64 -> {
        DoubleBuffer d = buf.asDoubleBuffer();
        for (float v : values) {
          d.put(widen(v));
        }
      }
      case F16 -> {
        for (int i = 0; i < values.length; i++) {
          buf.putShort(2 * i, HalfFloats.floatToHalf(values[i]));
        }
      }
      case BF16 -> {
        for (int i = 0; i < values.length; i++) {
          buf.putShort(2 * i, HalfFloats.floatToBfloat16(values[i]));
        }
      }
      default -> throw new AssertionError(target);
    }
    return new HostTensor(name, target, shape, new ByteBuffer[] {readOnly(buf)});
  }

  /** True if name, dtype, shape and every byte are equal. */
  public boolean contentEquals(HostTensor other) {
    if (this == other) {
      return true;
    }
    if (other == null || !name.equals(other.name) || dtype != other.dtype
        || !Arrays.equals(shape, other.shape)) {
      return false;
    }
    // Compare in 1 GiB-aligned pieces; chunk boundaries may differ between the two tensors.
    long offset = 0;
    List<ByteBuffer> a = byteChunks();
    List<ByteBuffer> b = other.byteChunks();
    int ia = 0;
    int ib = 0;
    ByteBuffer ca = a.get(0);
    ByteBuffer cb = b.get(0);
    while (offset < byteSize) {
      while (!ca.hasRemaining()) {
        ca = a.get(++ia);
      }
      while (!cb.hasRemaining()) {
        cb = b.get(++ib);
      }
      int n = Math.min(ca.remaining(), cb.remaining());
      ByteBuffer sa = ca.slice().limit(n);
      ByteBuffer sb = cb.slice().limit(n);
      if (!sa.equals(sb)) {
        return false;
      }
      ca.position(ca.position() + n);
      cb.position(cb.position() + n);
      offset += n;
    }
    return true;
  }

  @Override
  public String toString() {
    return "HostTensor[" + name + ", " + dtype + ", " + Arrays.toString(shape) + "]";
  }

  // ------------------------------------------------------------------------------------ helpers

  /**
   * float -> double keeping NaN payloads bit-exact (the hardware conversion quiets signaling NaNs,
   * which would break the F16 -> F64 -> F16 round trip).
   */
  static double widen(float f) {
    if (!Float.isNaN(f)) {
      return f;
    }
    long bits = Float.floatToRawIntBits(f);
    long sign = (bits & 0x80000000L) << 32;
    return Double.longBitsToDouble(sign | 0x7ff0000000000000L | ((bits & 0x7fffffL) << 29));
  }

  /** double -> float rounding to nearest; NaNs keep sign and top payload bits (see widen). */
  static float narrow(double d) {
    if (!Double.isNaN(d)) {
      return (float) d;
    }
    long bits = Double.doubleToRawLongBits(d);
    int sign = (int) ((bits >>> 32) & 0x80000000L);
    int payload = (int) ((bits >>> 29) & 0x7fffff);
    if (payload == 0) {
      payload = 0x400000; // payload lost in the narrowing: make it a quiet NaN
    }
    return Float.intBitsToFloat(sign | 0x7f800000 | payload);
  }

  private int arrayLength(String what) {
    if (numel > Integer.MAX_VALUE) {
      throw new IllegalStateException(
          "tensor '" + name + "' has " + numel + " elements; " + what
              + " can return at most " + Integer.MAX_VALUE + " (a Java array limit)");
    }
    return (int) numel;
  }

  static long checkedNumel(String name, long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException(
            "tensor '" + name + "': negative dimension in shape " + Arrays.toString(shape));
      }
      try {
        n = Math.multiplyExact(n, d);
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException(
            "tensor '" + name + "': shape " + Arrays.toString(shape) + " overflows a long", e);
      }
    }
    return n;
  }

  private static long checkedByteSize(String name, long numel, TensorDType dtype) {
    try {
      return Math.multiplyExact(numel, (long) dtype.byteSize());
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("tensor '" + name + "': byte size overflows a long", e);
    }
  }

  private static void checkLength(String name, long[] shape, int length) {
    long n = checkedNumel(name, shape);
    if (n != length) {
      throw new IllegalArgumentException(
          "tensor '" + name + "': shape " + Arrays.toString(shape) + " has " + n
              + " elements but " + length + " values were given");
    }
  }

  private static ByteBuffer allocate(String name, long bytes) {
    if (bytes > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException(
          "tensor '" + name + "': " + bytes + " bytes is too large for one in-memory buffer");
    }
    return ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Read-only, little-endian, position 0 (duplicate/slice reset the byte order, so set it again). */
  static ByteBuffer readOnly(ByteBuffer b) {
    return b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  private static ByteBuffer view(ByteBuffer chunk) {
    return chunk.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }
}
