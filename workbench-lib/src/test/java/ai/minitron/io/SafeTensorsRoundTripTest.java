package ai.minitron.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsRoundTripTest {

  @TempDir Path dir;

  private static List<HostTensor> sampleTensors() {
    float[] specials = {1f, -2.5f, 65504f, Float.MIN_VALUE, Float.NaN, Float.POSITIVE_INFINITY, -0f,
        3.14159f, 1e-6f, -1e20f, 0.1f, 7f};
    HostTensor f32 = HostTensor.ofFloats("model.layers.0.mlp.up_proj.weight", new long[] {3, 4}, specials);
    List<HostTensor> ts = new ArrayList<>();
    ts.add(f32);
    ts.add(f32.withName("model.layers.0.mlp.up_proj.f16").convertTo(TensorDType.F16));
    ts.add(f32.withName("model.layers.0.mlp.up_proj.bf16").convertTo(TensorDType.BF16));
    ts.add(f32.withName("model.f64").convertTo(TensorDType.F64));
    ts.add(HostTensor.ofLongs("input_ids", new long[] {2, 3},
        new long[] {Long.MIN_VALUE, -1, 0, 1, 42, Long.MAX_VALUE}));
    ts.add(HostTensor.ofFloats("scalar", new long[] {}, new float[] {2.75f}));
    ts.add(HostTensor.ofFloats("empty", new long[] {0, 4}, new float[0]));
    ts.add(HostTensor.ofLongs("empty_i64", new long[] {0}, new long[0]));
    ts.add(HostTensor.ofBytes("mask", TensorDType.BOOL, new long[] {3}, ByteBuffer.wrap(new byte[] {1, 0, 1})));
    ts.add(HostTensor.ofBytes("u8", TensorDType.U8, new long[] {2}, ByteBuffer.wrap(new byte[] {(byte) 255, 7})));
    ByteBuffer i32 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(-5).putInt(1 << 30).flip();
    ts.add(HostTensor.ofBytes("i32", TensorDType.I32, new long[] {2}, i32));
    return ts;
  }

  @Test
  void writeThenReadIsBitIdenticalForEveryDtypeShapeAndMetadata() throws Exception {
    List<HostTensor> written = sampleTensors();
    Map<String, String> meta = Map.of("format", "pt", "note", "unicode \u00e9\u4e2d <>&=");
    Path file = dir.resolve("model.safetensors");
    SafeTensors.write(file, written, meta);

    Map<String, HostTensor> read = SafeTensors.read(file);
    assertEquals(written.size(), read.size());
    for (HostTensor w : written) {
      HostTensor r = read.get(w.name());
      assertTrue(w.contentEquals(r), () -> "differs: " + w.name());
      assertEquals(w.dtype(), r.dtype());
      assertArrayEquals(w.shape(), r.shape());
      assertEquals(w.numel(), r.numel());
    }
    // File order is the writer's deterministic order: sorted by name.
    List<String> sortedNames = written.stream().map(HostTensor::name).sorted().toList();
    assertEquals(sortedNames, new ArrayList<>(read.keySet()));
    assertEquals(meta, SafeTensors.metadata(file));

    // Values survive, not just bytes.
    assertEquals(2.75f, read.get("scalar").toFloats()[0]);
    assertEquals(1, read.get("scalar").numel());
    assertEquals(0, read.get("empty").toFloats().length);
    assertArrayEquals(new long[] {Long.MIN_VALUE, -1, 0, 1, 42, Long.MAX_VALUE}, read.get("input_ids").toLongs());
    assertArrayEquals(new long[] {255, 7}, read.get("u8").toLongs());
    assertArrayEquals(new long[] {1, 0, 1}, read.get("mask").toLongs());
    assertArrayEquals(new long[] {-5, 1 << 30}, read.get("i32").toLongs());
    assertArrayEquals(read.get("model.layers.0.mlp.up_proj.weight").toFloats(),
        read.get("model.f64").toFloats());
  }

  @Test
  void writingTwiceGivesIdenticalBytes() throws Exception {
    List<HostTensor> ts = sampleTensors();
    Path a = dir.resolve("a.safetensors");
    Path b = dir.resolve("b.safetensors");
    SafeTensors.write(a, ts, Map.of("format", "pt"));
    List<HostTensor> reversed = new ArrayList<>(ts);
    java.util.Collections.reverse(reversed);
    SafeTensors.write(b, reversed, Map.of("format", "pt"));
    assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), "output independent of input order");
  }

  @Test
  void writtenFileMatchesHandBuiltReferenceBytes() throws Exception {
    HostTensor b = HostTensor.ofFloats("b", new long[] {2}, new float[] {1.5f, -2f});
    HostTensor a = HostTensor.ofLongs("a", new long[] {1}, new long[] {7});
    Path file = dir.resolve("tiny.safetensors");
    SafeTensors.write(file, List.of(b, a), Map.of("format", "pt"));

    String json = "{\"__metadata__\":{\"format\":\"pt\"},"
        + "\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}";
    int padded = (json.length() + 7) / 8 * 8;
    String header = json + " ".repeat(padded - json.length());
    byte[] expected = TestFiles.raw(header, TestFiles.concat(TestFiles.longsLE(7), TestFiles.floatsLE(1.5f, -2f)));
    byte[] actual = Files.readAllBytes(file);
    assertArrayEquals(expected, actual);

    // And the structural properties a reference reader relies on.
    long n = ByteBuffer.wrap(actual).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    assertEquals(0, n % 8, "header length is a multiple of 8");
    assertEquals(8 + n + 16, actual.length, "data buffer starts at 8 + N and holds exactly the tensors");
    JsonObject parsed = JsonParser.parseString(new String(actual, 8, (int) n, StandardCharsets.UTF_8)).getAsJsonObject();
    assertEquals("[8,16]", parsed.getAsJsonObject("b").get("data_offsets").toString());
  }

  @Test
  void readsForeignLayoutUnpaddedHeaderAndUnsortedOffsets() throws Exception {
    // Tensors listed out of offset order, a gap between them, header not padded: all legal.
    String header = "{\"z\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]},"
        + "\"__metadata__\":{\"k\":\"v\"},"
        + "\"y\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}}";
    byte[] data = TestFiles.concat(TestFiles.longsLE(-3), new byte[4], TestFiles.floatsLE(0.25f));
    Path file = TestFiles.writeRaw(dir.resolve("foreign.safetensors"), header, data);
    Map<String, HostTensor> read = SafeTensors.read(file);
    assertEquals(List.of("z", "y"), new ArrayList<>(read.keySet()), "header order preserved");
    assertArrayEquals(new float[] {0.25f}, read.get("z").toFloats());
    assertArrayEquals(new long[] {-3}, read.get("y").toLongs());
    assertEquals(Map.of("k", "v"), SafeTensors.metadata(file));
  }

  @Test
  void tensorsAreReadOnlyLittleEndianViews() throws Exception {
    Path file = dir.resolve("m.safetensors");
    SafeTensors.write(file, List.of(HostTensor.ofFloats("w", new long[] {2}, new float[] {1f, 2f})));
    HostTensor w = SafeTensors.read(file).get("w");
    ByteBuffer b = w.bytes();
    assertTrue(b.isReadOnly());
    assertEquals(ByteOrder.LITTLE_ENDIAN, b.order());
    assertEquals(2f, b.getFloat(4));
    b.position(4); // moving one view does not move the next one
    assertEquals(0, w.bytes().position());
    long[] shape = w.shape();
    shape[0] = 99;
    assertArrayEquals(new long[] {2}, w.shape(), "shape() is a defensive copy");
  }

  @Test
  void canRewriteTheFileItsTensorsAreMappedFrom() throws Exception {
    Path file = dir.resolve("model.safetensors");
    SafeTensors.write(file, List.of(HostTensor.ofFloats("w", new long[] {3}, new float[] {1, 2, 3})));
    Map<String, HostTensor> first = SafeTensors.read(file);
    List<HostTensor> next = new ArrayList<>(first.values());
    next.add(HostTensor.ofFloats("v", new long[] {1}, new float[] {9}));
    SafeTensors.write(file, next, Map.of());
    Map<String, HostTensor> second = SafeTensors.read(file);
    assertArrayEquals(new float[] {1, 2, 3}, second.get("w").toFloats());
    assertArrayEquals(new float[] {9}, second.get("v").toFloats());
    assertArrayEquals(new float[] {1, 2, 3}, first.get("w").toFloats(), "old mapping still valid");
  }

  @Test
  void writerRejectsDuplicateAndReservedNames() {
    HostTensor t = HostTensor.ofFloats("x", new long[] {1}, new float[] {1});
    assertThrows(IllegalArgumentException.class,
        () -> SafeTensors.write(dir.resolve("d.safetensors"), List.of(t, t)));
    assertThrows(IllegalArgumentException.class,
        () -> SafeTensors.write(dir.resolve("d.safetensors"), List.of(t.withName("__metadata__"))));
  }

  @Test
  void factoriesValidateShapeAgainstData() {
    assertThrows(IllegalArgumentException.class,
        () -> HostTensor.ofFloats("x", new long[] {2, 2}, new float[3]));
    assertThrows(IllegalArgumentException.class,
        () -> HostTensor.ofFloats("x", new long[] {-1}, new float[0]));
    assertThrows(IllegalArgumentException.class,
        () -> HostTensor.ofBytes("x", TensorDType.F32, new long[] {2}, ByteBuffer.allocate(4)));
    // A writable buffer is copied: later writes to it do not change the tensor.
    ByteBuffer src = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, 1f);
    HostTensor t = HostTensor.ofBytes("x", TensorDType.F32, new long[] {1}, src);
    src.putFloat(0, 5f);
    assertEquals(1f, t.toFloats()[0]);
    assertThrows(IllegalStateException.class, t::toLongs);
    assertThrows(IllegalStateException.class,
        () -> HostTensor.ofLongs("ids", new long[] {1}, new long[] {1}).toFloats());
  }
}
