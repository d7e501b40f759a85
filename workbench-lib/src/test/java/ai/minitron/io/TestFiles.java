package ai.minitron.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Builds raw safetensors bytes by hand, independently of the writer under test. */
final class TestFiles {

  private TestFiles() {}

  /** 8-byte little-endian length of {@code header} (as given, no padding), header, then data. */
  static byte[] raw(String header, byte[] data) {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    return raw(h.length, h, data);
  }

  /** Like {@link #raw(String, byte[])} but with an arbitrary declared header length. */
  static byte[] raw(long declaredHeaderLength, byte[] header, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(declaredHeaderLength).put(header).put(data);
    return b.array();
  }

  static Path writeRaw(Path file, String header, byte[] data) throws IOException {
    Files.write(file, raw(header, data));
    return file;
  }

  static byte[] floatsLE(float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return b.array();
  }

  static byte[] longsLE(long... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      b.putLong(v);
    }
    return b.array();
  }

  static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    ByteBuffer b = ByteBuffer.allocate(n);
    for (byte[] p : parts) {
      b.put(p);
    }
    return b.array();
  }
}
