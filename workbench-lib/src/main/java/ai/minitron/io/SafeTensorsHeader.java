package ai.minitron.io;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonPrimitive;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The JSON header of a safetensors file, parsed and validated, or built for writing.
 *
 * <p>Layout of a file: {@code [u64 little-endian N][N bytes UTF-8 JSON][data buffer]}. The JSON is
 * an object {@code {"__metadata__": {str: str}, "<tensor>": {"dtype": "F32", "shape": [..],
 * "data_offsets": [begin, end]}, ...}} where offsets are relative to the data buffer, which starts
 * at byte {@code 8 + N}. Writers may pad the JSON with trailing spaces; we pad to a multiple of 8 so
 * the data buffer is 8-byte aligned.
 *
 * <p>Parsing checks everything that could later turn into an IndexOutOfBounds or a silently wrong
 * tensor, and reports it as a {@link CheckpointFormatException} naming the file and tensor.
 */
final class SafeTensorsHeader {

  /** Same cap as the reference Rust implementation: a header above 100 MB is treated as corrupt. */
  static final long MAX_HEADER_BYTES = 100_000_000L;

  static final String METADATA_KEY = "__metadata__";

  private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();
  private static final TypeAdapter<JsonElement> ELEMENT = GSON.getAdapter(JsonElement.class);

  /** One tensor's header entry; begin/end are offsets into the data buffer. */
  record Entry(String name, TensorDType dtype, long[] shape, long begin, long end) {
    long byteSize() {
      return end - begin;
    }
  }

  final Path file;
  final Map<String, String> metadata; // unmodifiable, file order
  final List<Entry> entries; // file order
  final long dataStart; // 8 + N
  final long fileSize;

  private SafeTensorsHeader(
      Path file, Map<String, String> metadata, List<Entry> entries, long dataStart, long fileSize) {
    this.file = file;
    this.metadata = metadata;
    this.entries = entries;
    this.dataStart = dataStart;
    this.fileSize = fileSize;
  }

  // ------------------------------------------------------------------------------------ reading

  static SafeTensorsHeader read(FileChannel ch, Path file) throws IOException {
    long size = ch.size();
    if (size < 8) {
      throw fail(file, "file is " + size + " bytes, shorter than the 8-byte header length prefix");
    }
    ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, prefix, 0, file);
    long n = prefix.getLong(0);
    if (n < 0 || n > size - 8) {
      throw fail(file, "header length " + Long.toUnsignedString(n) + " is larger than the file ("
          + size + " bytes) allows; truncated or not a safetensors file");
    }
    if (n > MAX_HEADER_BYTES) {
      throw fail(file, "header length " + n + " exceeds the " + MAX_HEADER_BYTES + "-byte limit");
    }
    ByteBuffer json = ByteBuffer.allocate((int) n);
    readFully(ch, json, 8, file);
    json.flip();
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(json)
          .toString();
    } catch (CharacterCodingException e) {
      throw fail(file, "header is not valid UTF-8", e);
    }
    return parse(text, file, 8 + n, size);
  }

  private static SafeTensorsHeader parse(String text, Path file, long dataStart, long fileSize) {
    Map<String, String> metadata = new LinkedHashMap<>();
    List<Entry> entries = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    long dataSize = fileSize - dataStart;
    try {
      JsonReader reader = Json.strictReader(text);
      if (reader.peek() != JsonToken.BEGIN_OBJECT) {
        throw fail(file, "header is not a JSON object (starts with " + reader.peek() + ")");
      }
      reader.beginObject();
      while (reader.hasNext()) {
        String key = reader.nextName();
        JsonElement value = ELEMENT.read(reader);
        if (!seen.add(key)) {
          throw fail(file, "header has duplicate key '" + key + "'");
        }
        if (key.equals(METADATA_KEY)) {
          parseMetadata(value, file, metadata);
        } else {
          entries.add(parseEntry(key, value, file, dataSize));
        }
      }
      reader.endObject();
      if (reader.peek() != JsonToken.END_DOCUMENT) {
        throw fail(file, "header has content after the closing brace of its JSON object");
      }
    } catch (IOException | IllegalStateException | JsonParseException | NumberFormatException e) {
      throw fail(file, "header is not valid JSON: " + e.getMessage(), e);
    }
    checkNoOverlap(entries, file);
    return new SafeTensorsHeader(
        file, Collections.unmodifiableMap(metadata), List.copyOf(entries), dataStart, fileSize);
  }

  private static void parseMetadata(JsonElement value, Path file, Map<String, String> out) {
    if (value.isJsonNull()) {
      return;
    }
    if (!value.isJsonObject()) {
      throw fail(file, "'" + METADATA_KEY + "' is not a JSON object");
    }
    for (Map.Entry<String, JsonElement> e : value.getAsJsonObject().entrySet()) {
      JsonElement v = e.getValue();
      if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
        throw fail(file, "'" + METADATA_KEY + "' field '" + e.getKey() + "' is not a string");
      }
      out.put(e.getKey(), v.getAsString());
    }
  }

  private static Entry parseEntry(String name, JsonElement value, Path file, long dataSize) {
    String where = "tensor '" + name + "'";
    if (!value.isJsonObject()) {
      throw fail(file, where + ": entry is not a JSON object");
    }
    JsonObject o = value.getAsJsonObject();

    JsonElement dt = require(o, "dtype", where, file);
    if (!dt.isJsonPrimitive() || !dt.getAsJsonPrimitive().isString()) {
      throw fail(file, where + ": field 'dtype' is not a string");
    }
    TensorDType dtype = TensorDType.fromSafetensorsName(dt.getAsString(), file, name);

    JsonElement sh = require(o, "shape", where, file);
    if (!sh.isJsonArray()) {
      throw fail(file, where + ": field 'shape' is not an array");
    }
    JsonArray shArr = sh.getAsJsonArray();
    long[] shape = new long[shArr.size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = integer(shArr.get(i), where + ": shape[" + i + "]", file);
      if (shape[i] < 0) {
        throw fail(file, where + ": negative dimension " + shape[i] + " in shape " + shArr);
      }
    }

    JsonElement off = require(o, "data_offsets", where, file);
    if (!off.isJsonArray() || off.getAsJsonArray().size() != 2) {
      throw fail(file, where + ": field 'data_offsets' is not an array [begin, end]");
    }
    long begin = integer(off.getAsJsonArray().get(0), where + ": data_offsets[0]", file);
    long end = integer(off.getAsJsonArray().get(1), where + ": data_offsets[1]", file);
    if (begin < 0 || end < begin) {
      throw fail(file, where + ": data_offsets [" + begin + ", " + end + "] are not 0 <= begin <= end");
    }

    long expected;
    try {
      long numel = 1;
      for (long d : shape) {
        numel = Math.multiplyExact(numel, d);
      }
      expected = Math.multiplyExact(numel, (long) dtype.byteSize());
    } catch (ArithmeticException e) {
      throw fail(file, where + ": shape " + Arrays.toString(shape) + " overflows", e);
    }
    if (end - begin != expected) {
      throw fail(file, where + ": data_offsets [" + begin + ", " + end + "] span " + (end - begin)
          + " bytes, but shape " + Arrays.toString(shape) + " of " + dtype + " needs " + expected);
    }
    if (end > dataSize) {
      throw fail(file, where + ": data_offsets end " + end + " is beyond the data buffer ("
          + dataSize + " bytes); the file is truncated");
    }
    return new Entry(name, dtype, shape, begin, end);
  }

  /** Tensors may leave gaps, but no two non-empty tensors may share a byte. */
  private static void checkNoOverlap(List<Entry> entries, Path file) {
    List<Entry> sorted = new ArrayList<>();
    for (Entry e : entries) {
      if (e.byteSize() > 0) {
        sorted.add(e);
      }
    }
    sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    for (int i = 1; i < sorted.size(); i++) {
      Entry prev = sorted.get(i - 1);
      Entry cur = sorted.get(i);
      if (cur.begin() < prev.end()) {
        throw fail(file, "tensors '" + prev.name() + "' [" + prev.begin() + ", " + prev.end()
            + ") and '" + cur.name() + "' [" + cur.begin() + ", " + cur.end() + ") overlap");
      }
    }
  }

  private static JsonElement require(JsonObject o, String field, String where, Path file) {
    JsonElement e = o.get(field);
    if (e == null || e.isJsonNull()) {
      throw fail(file, where + ": missing field '" + field + "'");
    }
    return e;
  }

  /** A JSON number that is an exact integer within long range. */
  static long integer(JsonElement e, String what, Path file) {
    if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
      throw fail(file, what + " is not a number");
    }
    try {
      BigDecimal bd = e.getAsBigDecimal();
      return bd.longValueExact();
    } catch (ArithmeticException | NumberFormatException ex) {
      throw fail(file, what + " = " + e + " is not an integer in range", ex);
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file)
      throws IOException {
    long pos = position;
    while (buf.hasRemaining()) {
      int r = ch.read(buf, pos);
      if (r < 0) {
        throw fail(file, "unexpected end of file at byte " + pos);
      }
      pos += r;
    }
  }

  static CheckpointFormatException fail(Path file, String what) {
    return new CheckpointFormatException("Bad safetensors file " + file + ": " + what);
  }

  static CheckpointFormatException fail(Path file, String what, Throwable cause) {
    return new CheckpointFormatException("Bad safetensors file " + file + ": " + what, cause);
  }

  // ------------------------------------------------------------------------------------ writing

  /**
   * Header bytes (JSON padded with spaces to a multiple of 8, without the u64 length prefix) for
   * {@code tensors} laid out back to back in the given order. Metadata keys are written sorted and
   * the {@code __metadata__} entry is omitted when empty, as the reference writer does.
   */
  static byte[] encode(List<StreamedTensor> tensors, Map<String, String> metadata) {
    JsonObject root = new JsonObject();
    if (metadata != null && !metadata.isEmpty()) {
      JsonObject m = new JsonObject();
      new TreeMap<>(metadata).forEach((k, v) -> m.add(k, new JsonPrimitive(v)));
      root.add(METADATA_KEY, m);
    }
    long offset = 0;
    for (StreamedTensor t : tensors) {
      JsonObject e = new JsonObject();
      e.addProperty("dtype", t.dtype().safetensorsName());
      JsonArray shape = new JsonArray();
      for (long d : t.shape()) {
        shape.add(d);
      }
      e.add("shape", shape);
      JsonArray offsets = new JsonArray();
      offsets.add(offset);
      offsets.add(offset + t.byteSize());
      e.add("data_offsets", offsets);
      root.add(t.name(), e);
      offset += t.byteSize();
    }
    byte[] json = GSON.toJson(root).getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) & ~7;
    byte[] out = Arrays.copyOf(json, padded);
    Arrays.fill(out, json.length, padded, (byte) ' ');
    return out;
  }
}
