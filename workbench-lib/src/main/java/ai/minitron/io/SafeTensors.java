package ai.minitron.io;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.ToLongFunction;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reads and writes Hugging Face safetensors checkpoints in pure Java: single files, and sharded
 * checkpoints described by {@code model.safetensors.index.json}.
 *
 * <p>Why our own: DJL's {@code NDList.decode} reads a whole file into one {@code byte[]} (so files of
 * 2 GiB and more fail) and a BF16 NDArray aborts the JVM (docs/architecture.md, "DJL facts"). Here every
 * tensor is its own memory mapping of the file ({@link FileChannel#map}), so reading a 15 GB shard
 * costs address space, not heap, and BF16 stays bytes until {@link HostTensor#toFloats()}.
 *
 * <p>Writing is atomic (temp file in the same directory, fsync, rename) and streams each tensor's
 * bytes to the file; tensors are laid out sorted by name and the header is space-padded to a
 * multiple of 8 bytes, so output is deterministic and its data buffer 8-byte aligned. Sharding
 * follows {@code huggingface_hub}: fill a shard until the next tensor would exceed the limit (a
 * tensor larger than the limit gets a shard of its own), name shards
 * {@code model-00001-of-00003.safetensors}, and write an index with {@code metadata.total_size}.
 *
 * <p>Format reference: https://github.com/huggingface/safetensors (README, "Format").
 */
public final class SafeTensors {

  /** File name of an unsharded checkpoint. */
  public static final String SINGLE_FILE = "model.safetensors";

  /** File name of the shard index of a sharded checkpoint. */
  public static final String INDEX_FILE = "model.safetensors.index.json";

  private static final Pattern SHARD_NAME = Pattern.compile("model-\\d{5}-of-\\d{5}\\.safetensors");

  /** Heap buffers are written in slices so the JDK never allocates a huge temporary direct buffer. */
  private static final int WRITE_SLICE = 8 << 20;

  private static final Gson PRETTY = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

  private SafeTensors() {}

  // ------------------------------------------------------------------------------------ reading

  /**
   * All tensors of one safetensors file, in header order. Each tensor is a read-only memory mapping
   * of its own byte range, so neither the file nor a tensor is limited to 2 GiB. The mappings stay
   * valid after this returns (also if the file is later replaced by an atomic write); do not
   * truncate a file while its tensors are in use.
   *
   * @throws CheckpointFormatException if the file is not a well-formed safetensors file
   */
  public static Map<String, HostTensor> read(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      SafeTensorsHeader header = SafeTensorsHeader.read(ch, file);
      Map<String, HostTensor> out = new LinkedHashMap<>();
      for (SafeTensorsHeader.Entry e : header.entries) {
        out.put(e.name(), new HostTensor(e.name(), e.dtype(), e.shape(), map(ch, header, e),
            new HostTensor.Origin(file, header.dataStart + e.begin())));
      }
      return out;
    }
  }

  /** The {@code __metadata__} of a safetensors file (empty if absent); reads only the header. */
  public static Map<String, String> metadata(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return SafeTensorsHeader.read(ch, file).metadata;
    }
  }

  /**
   * All tensors of a checkpoint directory:
   *
   * <ol>
   *   <li>{@code model.safetensors} if present (as transformers prefers it), else
   *   <li>the shards listed by {@code model.safetensors.index.json}, returned in weight_map order
   *       and checked: every listed tensor must be in the shard the index names (tensors a shard
   *       holds beyond the weight_map are ignored, as the index is the checkpoint's table of
   *       contents), else
   *   <li>the directory's only {@code *.safetensors} file.
   * </ol>
   *
   * A path to a regular file is read as a single safetensors file.
   *
   * @throws CheckpointFormatException if none of these applies or a file is malformed
   */
  public static Map<String, HostTensor> readCheckpoint(Path dir) throws IOException {
    if (Files.isRegularFile(dir)) {
      return read(dir);
    }
    if (!Files.isDirectory(dir)) {
      throw new NoSuchFileException(dir.toString(), null, "no such checkpoint directory");
    }
    Path single = dir.resolve(SINGLE_FILE);
    if (Files.isRegularFile(single)) {
      return read(single);
    }
    Path index = dir.resolve(INDEX_FILE);
    if (Files.isRegularFile(index)) {
      return readSharded(dir, index);
    }
    List<Path> candidates;
    try (Stream<Path> s = Files.list(dir)) {
      candidates = s.filter(p -> p.getFileName().toString().endsWith(".safetensors"))
          .filter(Files::isRegularFile)
          .sorted()
          .toList();
    }
    if (candidates.size() == 1) {
      return read(candidates.get(0));
    }
    throw new CheckpointFormatException("No safetensors checkpoint in " + dir + ": expected "
        + SINGLE_FILE + ", " + INDEX_FILE + " or exactly one *.safetensors file, found "
        + (candidates.isEmpty() ? "none" : candidates.stream().map(p -> p.getFileName().toString()).toList()));
  }

  private static Map<String, HostTensor> readSharded(Path dir, Path index) throws IOException {
    Map<String, String> weightMap = parseIndex(index);
    Map<String, Map<String, HostTensor>> shards = new LinkedHashMap<>();
    for (String shard : new LinkedHashSet<>(weightMap.values())) {
      Path shardPath = dir.resolve(shard).normalize();
      if (!dir.toAbsolutePath().normalize().equals(shardPath.toAbsolutePath().getParent())) {
        throw new CheckpointFormatException("Bad index " + index + ": shard '" + shard
            + "' is not a plain file name inside the checkpoint directory");
      }
      if (!Files.isRegularFile(shardPath)) {
        throw new CheckpointFormatException("Bad index " + index + ": shard file '" + shard
            + "' does not exist");
      }
      shards.put(shard, read(shardPath));
    }
    Map<String, HostTensor> out = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : weightMap.entrySet()) {
      HostTensor t = shards.get(e.getValue()).get(e.getKey());
      if (t == null) {
        throw new CheckpointFormatException("Bad index " + index + ": tensor '" + e.getKey()
            + "' is listed in weight_map for shard " + e.getValue() + " but that shard does not hold it");
      }
      out.put(e.getKey(), t);
    }
    return out;
  }

  /** The weight_map of an index.json, in file order. */
  private static Map<String, String> parseIndex(Path index) throws IOException {
    String text = Files.readString(index);
    JsonElement root;
    try {
      JsonReader reader = Json.strictReader(text);
      root = PRETTY.getAdapter(JsonElement.class).read(reader);
      if (reader.peek() != JsonToken.END_DOCUMENT) {
        throw new CheckpointFormatException("Bad index " + index + ": content after the JSON object");
      }
    } catch (IOException | IllegalStateException | JsonParseException | NumberFormatException e) {
      throw new CheckpointFormatException("Bad index " + index + ": not valid JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isJsonObject()) {
      throw new CheckpointFormatException("Bad index " + index + ": not a JSON object");
    }
    JsonElement wm = root.getAsJsonObject().get("weight_map");
    if (wm == null || !wm.isJsonObject()) {
      throw new CheckpointFormatException("Bad index " + index + ": missing object field 'weight_map'");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> e : wm.getAsJsonObject().entrySet()) {
      JsonElement v = e.getValue();
      if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
        throw new CheckpointFormatException("Bad index " + index + ": weight_map entry for tensor '"
            + e.getKey() + "' is not a file name string");
      }
      out.put(e.getKey(), v.getAsString());
    }
    return out;
  }

  /** One read-only mapping per tensor; above 1 GiB, one mapping per 1 GiB chunk. */
  private static ByteBuffer[] map(FileChannel ch, SafeTensorsHeader h, SafeTensorsHeader.Entry e)
      throws IOException {
    long len = e.byteSize();
    if (len == 0) {
      return new ByteBuffer[] {ByteBuffer.allocate(0).asReadOnlyBuffer()};
    }
    int n = (int) ((len + HostTensor.CHUNK_BYTES - 1) / HostTensor.CHUNK_BYTES);
    ByteBuffer[] chunks = new ByteBuffer[n];
    long start = h.dataStart + e.begin();
    for (int i = 0; i < n; i++) {
      long off = (long) i * HostTensor.CHUNK_BYTES;
      long size = Math.min(HostTensor.CHUNK_BYTES, len - off);
      chunks[i] = ch.map(FileChannel.MapMode.READ_ONLY, start + off, size).order(ByteOrder.LITTLE_ENDIAN);
    }
    return chunks;
  }

  // ------------------------------------------------------------------------------------ writing

  /** {@link #write(Path, Collection, Map)} without metadata. */
  public static void write(Path file, Collection<HostTensor> tensors) throws IOException {
    write(file, tensors, Map.of());
  }

  /**
   * Writes {@code tensors} (sorted by name) and {@code metadata} (may be null or empty) to one
   * safetensors file, atomically replacing any existing file. Tensor bytes are streamed; a tensor
   * may be a mapping of the very file being replaced.
   *
   * @throws IllegalArgumentException on duplicate tensor names or a tensor named __metadata__
   */
  public static void write(Path file, Collection<HostTensor> tensors, Map<String, String> metadata)
      throws IOException {
    writeSorted(file, sortedUnique(tensors.stream().map(StreamedTensor::of).toList()), metadata);
  }

  /**
   * Writes a checkpoint directory the way {@code save_pretrained} does: everything in
   * {@code model.safetensors} if it fits in {@code maxShardBytes}, otherwise
   * {@code model-0000i-of-0000N.safetensors} shards plus {@code model.safetensors.index.json}
   * ({@code {"metadata": {"total_size": bytes}, "weight_map": {tensor: shard}}}, keys sorted,
   * 2-space indent). {@code metadata} goes into every shard's {@code __metadata__}. Weight files of
   * an earlier save in {@code dir} that this save does not overwrite are deleted afterwards, so
   * {@link #readCheckpoint} cannot pick up a stale layout. Each file is replaced atomically; the set
   * of files as a whole is not (neither is it in transformers).
   */
  public static void writeSharded(
      Path dir, Collection<HostTensor> tensors, long maxShardBytes, Map<String, String> metadata)
      throws IOException {
    writeShardedStreamed(dir, tensors.stream().map(StreamedTensor::of).toList(), maxShardBytes, metadata);
  }

  /**
   * {@link #writeSharded} for tensors whose bytes are produced while the file is written
   * ({@link StreamedTensor}): the same files byte for byte as writing the same tensors held in
   * memory, but only the bodies' own buffers are ever in memory. Each body is called once, in
   * name order; one that writes more or fewer bytes than its shape needs is refused, naming it.
   *
   * @return the weight files written (the single file, or the shards and the index)
   */
  public static List<Path> writeShardedStreamed(
      Path dir, Collection<StreamedTensor> tensors, long maxShardBytes, Map<String, String> metadata)
      throws IOException {
    if (maxShardBytes <= 0) {
      throw new IllegalArgumentException("maxShardBytes must be positive: " + maxShardBytes);
    }
    List<StreamedTensor> sorted = sortedUnique(tensors);
    List<List<StreamedTensor>> shards = split(sorted, StreamedTensor::byteSize, maxShardBytes);
    Files.createDirectories(dir);

    if (shards.size() <= 1) {
      writeSorted(dir.resolve(SINGLE_FILE), sorted, metadata);
      deleteStale(dir, Set.of(SINGLE_FILE));
      return List.of(dir.resolve(SINGLE_FILE));
    }

    int n = shards.size();
    Set<String> written = new HashSet<>();
    List<Path> files = new ArrayList<>();
    Map<String, String> weightMap = new TreeMap<>();
    long totalSize = 0;
    for (int i = 0; i < n; i++) {
      String shardName = String.format("model-%05d-of-%05d.safetensors", i + 1, n);
      writeSorted(dir.resolve(shardName), shards.get(i), metadata);
      written.add(shardName);
      files.add(dir.resolve(shardName));
      for (StreamedTensor t : shards.get(i)) {
        weightMap.put(t.name(), shardName);
        totalSize += t.byteSize();
      }
    }
    // A stale model.safetensors would shadow the index (readers prefer it): remove it first.
    Files.deleteIfExists(dir.resolve(SINGLE_FILE));

    JsonObject meta = new JsonObject();
    meta.addProperty("total_size", totalSize);
    JsonObject wm = new JsonObject();
    weightMap.forEach(wm::addProperty);
    JsonObject index = new JsonObject();
    index.add("metadata", meta);
    index.add("weight_map", wm);
    AtomicFiles.writeString(dir.resolve(INDEX_FILE), PRETTY.toJson(index) + "\n");
    written.add(INDEX_FILE);
    files.add(dir.resolve(INDEX_FILE));
    deleteStale(dir, written);
    return files;
  }

  /** huggingface_hub's greedy split, over tensors already sorted by name. */
  static List<List<HostTensor>> split(List<HostTensor> sorted, long maxShardBytes) {
    return split(sorted, HostTensor::byteSize, maxShardBytes);
  }

  private static <T> List<List<T>> split(List<T> sorted, ToLongFunction<T> size, long maxShardBytes) {
    List<List<T>> shards = new ArrayList<>();
    List<T> current = new ArrayList<>();
    long currentSize = 0;
    for (T t : sorted) {
      long bytes = size.applyAsLong(t);
      if (!current.isEmpty() && currentSize + bytes > maxShardBytes) {
        shards.add(current);
        current = new ArrayList<>();
        currentSize = 0;
      }
      current.add(t);
      currentSize += bytes;
    }
    if (!current.isEmpty()) {
      shards.add(current);
    }
    return shards;
  }

  /** Deletes weight files of an earlier save (single file, shards, index) not in {@code keep}. */
  private static void deleteStale(Path dir, Set<String> keep) throws IOException {
    List<Path> stale;
    try (Stream<Path> s = Files.list(dir)) {
      stale = s.filter(p -> {
        String name = p.getFileName().toString();
        boolean weightFile = name.equals(SINGLE_FILE) || name.equals(INDEX_FILE)
            || SHARD_NAME.matcher(name).matches();
        return weightFile && !keep.contains(name);
      }).toList();
    }
    for (Path p : stale) {
      Files.deleteIfExists(p);
    }
  }

  private static void writeSorted(Path file, List<StreamedTensor> sorted, Map<String, String> metadata)
      throws IOException {
    byte[] header = SafeTensorsHeader.encode(sorted, metadata);
    AtomicFiles.write(file, ch -> {
      ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      prefix.putLong(0, header.length);
      AtomicFiles.writeFully(ch, prefix);
      AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
      for (StreamedTensor t : sorted) {
        long start = ch.position();
        t.body().writeTo(ch);
        long wrote = ch.position() - start;
        if (wrote != t.byteSize()) {
          throw new IllegalStateException("tensor '" + t.name() + "': its body wrote " + wrote + " bytes, but shape "
              + java.util.Arrays.toString(t.shape()) + " of " + t.dtype() + " needs " + t.byteSize());
        }
      }
    });
  }

  static void writeInSlices(FileChannel ch, ByteBuffer chunk) throws IOException {
    if (chunk.isDirect()) {
      AtomicFiles.writeFully(ch, chunk); // mapped or direct: no intermediate copy in the JDK
      return;
    }
    while (chunk.hasRemaining()) {
      int n = Math.min(WRITE_SLICE, chunk.remaining());
      ByteBuffer slice = chunk.slice().limit(n);
      AtomicFiles.writeFully(ch, slice);
      chunk.position(chunk.position() + n);
    }
  }

  private static List<StreamedTensor> sortedUnique(Collection<StreamedTensor> tensors) {
    List<StreamedTensor> sorted = new ArrayList<>(tensors);
    sorted.sort(Comparator.comparing(StreamedTensor::name));
    for (int i = 0; i < sorted.size(); i++) {
      String name = sorted.get(i).name();
      if (name.equals(SafeTensorsHeader.METADATA_KEY)) {
        throw new IllegalArgumentException("a tensor may not be named " + name);
      }
      if (i > 0 && name.equals(sorted.get(i - 1).name())) {
        throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
      }
    }
    return sorted;
  }
}
