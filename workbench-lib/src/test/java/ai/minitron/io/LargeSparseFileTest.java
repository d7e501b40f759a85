package ai.minitron.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves there is no 2 GiB limit, without writing 2 GiB: a sparse file whose header places a
 * 2.2e9-byte U8 padding tensor first and a small F32 tensor after it, beyond offset 2^31. Only the
 * header page and the small tensor's page are ever written to disk.
 */
class LargeSparseFileTest {

  @TempDir Path dir;

  private static final long PAD = 2_200_000_000L; // > 2^31 = 2_147_483_648

  @Test
  void readsTensorBeyondTwoGibibytes() throws Exception {
    String json = "{\"__metadata__\":{\"format\":\"pt\"},"
        + "\"pad\":{\"dtype\":\"U8\",\"shape\":[" + PAD + "],\"data_offsets\":[0," + PAD + "]},"
        + "\"x\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[" + PAD + "," + (PAD + 16) + "]}}";
    byte[] header = json.getBytes(StandardCharsets.UTF_8);
    long dataStart = 8 + header.length;
    Path file = dir.resolve("huge.safetensors");
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(dataStart + PAD + 16); // sparse: no blocks allocated yet
      raf.seek(0);
      raf.write(TestFiles.raw(header.length, header, new byte[0]));
      raf.seek(dataStart + PAD);
      raf.write(TestFiles.floatsLE(1.5f, -2f, 3.25f, 1e-3f));
      raf.seek(dataStart + 7); // one nonzero byte inside the padding tensor
      raf.write(42);
    }
    assertTrue(Files.size(file) > (1L << 31) + 16);

    Map<String, HostTensor> read = SafeTensors.read(file);
    HostTensor x = read.get("x");
    assertArrayEquals(new long[] {2, 2}, x.shape());
    assertArrayEquals(new float[] {1.5f, -2f, 3.25f, 1e-3f}, x.toFloats());
    assertEquals(Map.of("format", "pt"), SafeTensors.metadata(file));

    HostTensor pad = read.get("pad");
    assertEquals(PAD, pad.numel());
    assertEquals(PAD, pad.byteSize());
    List<ByteBuffer> chunks = pad.byteChunks();
    assertEquals(3, chunks.size(), "2.2e9 bytes = three mappings of at most 1 GiB");
    assertEquals(PAD, chunks.stream().mapToLong(ByteBuffer::remaining).sum());
    assertEquals(42, chunks.get(0).get(7));
    ByteBuffer last = chunks.get(2);
    assertEquals(0, last.get(last.limit() - 1));

    IllegalStateException tooMany = assertThrows(IllegalStateException.class, pad::toLongs);
    assertTrue(tooMany.getMessage().contains("'pad'"), tooMany.getMessage());
    IllegalStateException tooBig = assertThrows(IllegalStateException.class, pad::bytes);
    assertTrue(tooBig.getMessage().contains("'pad'") && tooBig.getMessage().contains("byteChunks"));
  }

  @Test
  void toFloatsRefusesMoreThanIntMaxElementsNamingTheTensor() throws Exception {
    long n = (1L << 31) + 8; // F16: 4 GiB of (sparse) data
    String json = "{\"big.weight\":{\"dtype\":\"F16\",\"shape\":[" + n + "],\"data_offsets\":[0," + 2 * n + "]}}";
    byte[] header = json.getBytes(StandardCharsets.UTF_8);
    Path file = dir.resolve("bigf16.safetensors");
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(8 + header.length + 2 * n);
      raf.write(TestFiles.raw(header.length, header, new byte[0]));
    }
    HostTensor big = SafeTensors.read(file).get("big.weight");
    assertEquals(n, big.numel());
    IllegalStateException e = assertThrows(IllegalStateException.class, big::toFloats);
    assertTrue(e.getMessage().contains("'big.weight'") && e.getMessage().contains(Long.toString(n)), e.getMessage());
    assertThrows(IllegalStateException.class, () -> big.convertTo(TensorDType.F32));
  }
}
