package ai.minitron.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor to be written whose bytes are produced while the file is written: name, dtype and shape
 * are known up front (they make the safetensors header), the data comes from {@link Body#writeTo},
 * called once, in file order. This is how a checkpoint is written without ever holding it: the
 * streaming pruner slices each tensor from its source file as the writer reaches it, the benchmark
 * draws random bits into a small buffer (docs/architecture.md, "Pruning units").
 *
 * @param shape row-major, e.g. {@code [out, in]} for a projection
 */
public record StreamedTensor(String name, TensorDType dtype, long[] shape, Body body) {

  /** Writes exactly {@link #byteSize()} bytes at the channel's position (the writer checks the count). */
  @FunctionalInterface
  public interface Body {
    void writeTo(FileChannel channel) throws IOException;
  }

  public StreamedTensor {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(body, "body");
    shape = shape.clone();
    HostTensor.checkedNumel(name, shape);
  }

  /** An in-memory (or memory-mapped) tensor as a streamed one: its chunks written as they are. */
  public static StreamedTensor of(HostTensor t) {
    return new StreamedTensor(t.name(), t.dtype(), t.shape(), ch -> {
      for (ByteBuffer chunk : t.byteChunks()) {
        SafeTensors.writeInSlices(ch, chunk);
      }
    });
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** numel * itemsize. */
  public long byteSize() {
    return HostTensor.checkedNumel(name, shape) * dtype.byteSize();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof StreamedTensor s && name.equals(s.name) && dtype == s.dtype && Arrays.equals(shape, s.shape)
        && body == s.body;
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return "StreamedTensor[" + name + ", " + dtype + ", " + Arrays.toString(shape) + "]";
  }
}
