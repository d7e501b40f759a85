package ai.minitron.io;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every malformed input is a CheckpointFormatException naming the file (and tensor/field). */
class SafeTensorsValidationTest {

  @TempDir Path dir;

  private static final String OK_ENTRY = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

  /** case name, header JSON, data length, fragments the message must contain (besides the file). */
  static Stream<Arguments> badHeaders() {
    return Stream.of(
        Arguments.of("not-json", "{\"w\": {\"dtype\": ", 8, List.of("not valid JSON")),
        Arguments.of("trailing-garbage", "{\"w\":" + OK_ENTRY + "} xyz", 8, List.of("JSON")),
        Arguments.of("json-array", "[1, 2, 3]", 8, List.of("not a JSON object")),
        Arguments.of("json-string", "\"hello\"", 8, List.of("not a JSON object")),
        Arguments.of("empty-header", "", 8, List.of("JSON")),
        Arguments.of("entry-not-object", "{\"w\": [1]}", 8, List.of("'w'", "not a JSON object")),
        Arguments.of("missing-dtype", "{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
            List.of("'w'", "dtype")),
        Arguments.of("missing-shape", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8,
            List.of("'w'", "shape")),
        Arguments.of("missing-offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8,
            List.of("'w'", "data_offsets")),
        Arguments.of("unknown-dtype", "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 8,
            List.of("'w'", "F8_E4M3")),
        Arguments.of("dtype-not-string", "{\"w\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
            List.of("'w'", "dtype")),
        Arguments.of("offsets-vs-numel", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", 12,
            List.of("'w'", "needs 8")),
        Arguments.of("offsets-one-number", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8]}}", 8,
            List.of("'w'", "data_offsets")),
        Arguments.of("offsets-reversed", "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8,
            List.of("'w'", "data_offsets")),
        Arguments.of("offsets-beyond-file", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8,
            List.of("'w'", "truncated")),
        Arguments.of("overlap", "{\"a\":" + OK_ENTRY
            + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
            List.of("'a'", "'b'", "overlap")),
        Arguments.of("negative-dim", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1,2],\"data_offsets\":[0,8]}}", 8,
            List.of("'w'", "negative dimension")),
        Arguments.of("fractional-dim", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}", 8,
            List.of("'w'", "shape[0]")),
        Arguments.of("huge-dims-overflow", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
            + "\"data_offsets\":[0,8]}}", 8, List.of("'w'", "overflows")),
        Arguments.of("duplicate-tensor", "{\"w\":" + OK_ENTRY + ",\"w\":" + OK_ENTRY + "}", 8,
            List.of("duplicate", "'w'")),
        Arguments.of("metadata-not-string", "{\"__metadata__\":{\"epoch\":3},\"w\":" + OK_ENTRY + "}", 8,
            List.of("__metadata__", "epoch")),
        Arguments.of("nan-literal", "{\"w\":{\"dtype\":\"F32\",\"shape\":[NaN],\"data_offsets\":[0,8]}}", 8,
            List.of("JSON")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badHeaders")
  void malformedHeaderIsReportedWithFileAndTensor(String name, String header, int dataLength,
      List<String> fragments) throws Exception {
    Path file = TestFiles.writeRaw(dir.resolve(name + ".safetensors"), header, new byte[dataLength]);
    assertFails(() -> SafeTensors.read(file), file, fragments);
  }

  @Test
  void fileShorterThanEightBytes() throws Exception {
    Path empty = dir.resolve("empty.safetensors");
    Files.write(empty, new byte[0]);
    assertFails(() -> SafeTensors.read(empty), empty, List.of("shorter than"));
    Path five = dir.resolve("five.safetensors");
    Files.write(five, new byte[] {1, 2, 3, 4, 5});
    assertFails(() -> SafeTensors.read(five), five, List.of("shorter than"));
  }

  @Test
  void headerLengthLargerThanFile() throws Exception {
    byte[] header = "{}".getBytes(StandardCharsets.UTF_8);
    Path big = dir.resolve("biglen.safetensors");
    Files.write(big, TestFiles.raw(1000, header, new byte[0]));
    assertFails(() -> SafeTensors.read(big), big, List.of("header length 1000"));
    Path neg = dir.resolve("u64.safetensors");
    Files.write(neg, TestFiles.raw(-2L, header, new byte[0])); // u64 0xfff...e
    assertFails(() -> SafeTensors.read(neg), neg, List.of("18446744073709551614"));
  }

  @Test
  void headerNotUtf8() throws Exception {
    byte[] header = {'{', (byte) 0xff, (byte) 0xfe, '}'};
    Path file = dir.resolve("latin.safetensors");
    Files.write(file, TestFiles.raw(header.length, header, new byte[0]));
    assertFails(() -> SafeTensors.read(file), file, List.of("UTF-8"));
  }

  @Test
  void truncatedFileWrittenByUs() throws Exception {
    Path file = dir.resolve("cut.safetensors");
    SafeTensors.write(file, List.of(
        HostTensor.ofFloats("first", new long[] {4}, new float[] {1, 2, 3, 4}),
        HostTensor.ofFloats("second", new long[] {4}, new float[] {5, 6, 7, 8})));
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(raf.length() - 3);
    }
    assertFails(() -> SafeTensors.read(file), file, List.of("'second'", "truncated"));
    // metadata() reads only the header, but validates it against the file size just the same.
    assertFails(() -> SafeTensors.metadata(file), file, List.of("'second'"));
  }

  @Test
  void metadataOfBadFileFailsToo() throws Exception {
    Path file = TestFiles.writeRaw(dir.resolve("meta.safetensors"), "{\"__metadata__\": 7}", new byte[0]);
    assertFails(() -> SafeTensors.metadata(file), file, List.of("__metadata__"));
  }

  @Test
  void readerAcceptsMetadataOnlyAndEmptyFiles() throws Exception {
    Path file = TestFiles.writeRaw(dir.resolve("meta-only.safetensors"),
        "{\"__metadata__\":{\"a\":\"b\"}}   ", new byte[0]);
    assertTrue(SafeTensors.read(file).isEmpty());
    Path written = dir.resolve("none.safetensors");
    SafeTensors.write(written, List.of(), Map.of());
    assertTrue(SafeTensors.read(written).isEmpty());
  }

  @FunctionalInterface
  interface Action {
    void run() throws Exception;
  }

  static void assertFails(Action action, Path file, List<String> fragments) {
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, action::run);
    String msg = e.getMessage();
    assertTrue(msg.contains(file.getFileName().toString()), () -> "no file name in: " + msg);
    for (String f : fragments) {
      assertTrue(msg.contains(f), () -> "'" + f + "' missing in: " + msg);
    }
  }
}
