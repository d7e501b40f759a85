package ai.minitron.stats;

import ai.minitron.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.LargeVarCharVector;
import org.apache.arrow.vector.SmallIntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import tech.tablesaw.api.BooleanColumn;
import tech.tablesaw.api.ColumnType;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.FloatColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.ShortColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

/**
 * Tablesaw tables as Apache Arrow IPC <em>files</em> (the random-access format, {@code .arrow},
 * "ARROW1" magic at both ends), so that every statistic the workbench keeps can be opened as-is by
 * pyarrow, pandas, polars or DuckDB, and read back here as a Tablesaw table.
 *
 * <p>Type mapping (one-to-one, so a round trip preserves column types exactly):
 *
 * <pre>
 *   SHORT   <-> Int(16, signed)          FLOAT   <-> FloatingPoint(SINGLE)
 *   INTEGER <-> Int(32, signed)          DOUBLE  <-> FloatingPoint(DOUBLE)
 *   LONG    <-> Int(64, signed)          STRING  <-> Utf8   (LargeUtf8 is also accepted on read)
 *   BOOLEAN <-> Bool (Bit)
 * </pre>
 *
 * Tablesaw's missing values become Arrow nulls and back. Tablesaw encodes "missing" in-band, so the
 * sentinels are not distinguishable from it: a NaN in a DOUBLE/FLOAT column, an empty string, and
 * {@code Integer.MIN_VALUE} (likewise for SHORT/LONG) are written as null, and such a value read
 * from a foreign file becomes missing.
 *
 * <p>Files are written atomically ({@link AtomicFiles}: temporary sibling, fsync, atomic rename) in
 * record batches of at most {@value #BATCH_ROWS} rows, so large tables stream through a bounded
 * buffer. Each call uses its own {@link RootAllocator}; vectors are closed before it. Arrow 19 on
 * Java 17 needs {@code --add-opens=java.base/java.nio=ALL-UNNAMED} on the JVM command line.
 */
public final class ArrowIo {

  /** Upper bound on the rows of one record batch. */
  public static final int BATCH_ROWS = 1 << 16;

  private static final byte[] MAGIC = "ARROW1".getBytes(StandardCharsets.US_ASCII);

  private ArrowIo() {}

  // ---------------------------------------------------------------------------------------------
  // write

  /** Writes {@code table} to {@code file} (replacing it atomically), without schema metadata. */
  public static void write(Table table, Path file) {
    write(table, file, Map.of());
  }

  /**
   * Writes {@code table} to {@code file} as an Arrow IPC file whose schema carries
   * {@code schemaMetadata} (e.g. run id, producer, units), replacing any existing file atomically.
   *
   * @throws IllegalArgumentException if a column has a type Arrow I/O does not support
   * @throws UncheckedIOException if the file cannot be written
   */
  public static void write(Table table, Path file, Map<String, String> schemaMetadata) {
    List<Field> fields = new ArrayList<>();
    for (Column<?> col : table.columns()) {
      fields.add(new Field(col.name(), FieldType.nullable(arrowType(col, file)), null));
    }
    Schema schema = new Schema(fields, schemaMetadata == null ? Map.of() : schemaMetadata);
    try {
      AtomicFiles.write(file, ch -> writeArrow(table, schema, new KeepOpen(ch)));
    } catch (UnsupportedOperationException e) {
      throw missingJvmFlag("write", file, e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write Arrow file " + file + ": " + e.getMessage(), e);
    }
  }

  private static void writeArrow(Table table, Schema schema, WritableByteChannel out)
      throws IOException {
    int rows = table.rowCount();
    try (BufferAllocator allocator = new RootAllocator();
        VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator);
        ArrowFileWriter writer =
            new ArrowFileWriter(root, new DictionaryProvider.MapDictionaryProvider(), out)) {
      writer.start();
      for (int start = 0; start < rows; start += BATCH_ROWS) {
        int n = Math.min(BATCH_ROWS, rows - start);
        for (int c = 0; c < table.columnCount(); c++) {
          FieldVector v = root.getVector(c);
          v.reset();
          fill(v, table.column(c), start, n);
          v.setValueCount(n);
        }
        root.setRowCount(n);
        writer.writeBatch();
      }
      writer.end();
    }
  }

  /** Copies rows [start, start + n) of {@code col} into {@code v} at [0, n). */
  private static void fill(FieldVector v, Column<?> col, int start, int n) {
    if (col instanceof IntColumn c) {
      IntVector iv = (IntVector) v;
      for (int i = 0; i < n; i++) {
        if (c.isMissing(start + i)) iv.setNull(i);
        else iv.setSafe(i, c.getInt(start + i));
      }
    } else if (col instanceof LongColumn c) {
      BigIntVector lv = (BigIntVector) v;
      for (int i = 0; i < n; i++) {
        if (c.isMissing(start + i)) lv.setNull(i);
        else lv.setSafe(i, c.getLong(start + i));
      }
    } else if (col instanceof ShortColumn c) {
      SmallIntVector sv = (SmallIntVector) v;
      for (int i = 0; i < n; i++) {
        if (c.isMissing(start + i)) sv.setNull(i);
        else sv.setSafe(i, c.getShort(start + i));
      }
    } else if (col instanceof DoubleColumn c) {
      Float8Vector dv = (Float8Vector) v;
      for (int i = 0; i < n; i++) {
        if (c.isMissing(start + i)) dv.setNull(i);
        else dv.setSafe(i, c.getDouble(start + i));
      }
    } else if (col instanceof FloatColumn c) {
      Float4Vector fv = (Float4Vector) v;
      for (int i = 0; i < n; i++) {
        if (c.isMissing(start + i)) fv.setNull(i);
        else fv.setSafe(i, c.getFloat(start + i));
      }
    } else if (col instanceof StringColumn c) {
      VarCharVector sv = (VarCharVector) v;
      for (int i = 0; i < n; i++) {
        if (c.isMissing(start + i)) sv.setNull(i);
        else sv.setSafe(i, c.get(start + i).getBytes(StandardCharsets.UTF_8));
      }
    } else if (col instanceof BooleanColumn c) {
      BitVector bv = (BitVector) v;
      for (int i = 0; i < n; i++) {
        if (c.isMissing(start + i)) bv.setNull(i);
        else bv.setSafe(i, c.get(start + i) ? 1 : 0);
      }
    } else {
      throw new IllegalStateException("unreachable: " + col.type()); // arrowType() rejected it
    }
  }

  private static ArrowType arrowType(Column<?> col, Path file) {
    ColumnType t = col.type();
    if (t == ColumnType.SHORT) return new ArrowType.Int(16, true);
    if (t == ColumnType.INTEGER) return new ArrowType.Int(32, true);
    if (t == ColumnType.LONG) return new ArrowType.Int(64, true);
    if (t == ColumnType.FLOAT) return new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
    if (t == ColumnType.DOUBLE) return new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);
    if (t == ColumnType.STRING) return ArrowType.Utf8.INSTANCE;
    if (t == ColumnType.BOOLEAN) return ArrowType.Bool.INSTANCE;
    throw new IllegalArgumentException(
        "cannot write Arrow file " + file + ": column '" + col.name() + "' has unsupported type "
            + t.name() + " (supported: SHORT, INTEGER, LONG, FLOAT, DOUBLE, STRING, BOOLEAN)");
  }

  // ---------------------------------------------------------------------------------------------
  // read

  /**
   * Reads an Arrow IPC file into a Tablesaw table named after the file (without extension), with
   * the column names and types it was written with and nulls as missing values.
   *
   * @throws UncheckedIOException if the file is missing or unreadable
   * @throws IllegalArgumentException if it is not an Arrow IPC file or has an unsupported column
   */
  public static Table read(Path file) {
    return open(file, (reader, root) -> {
      List<Field> fields = root.getSchema().getFields();
      List<Column<?>> cols = new ArrayList<>(fields.size());
      for (Field f : fields) {
        cols.add(emptyColumn(f, file));
      }
      while (reader.loadNextBatch()) {
        int n = root.getRowCount();
        for (int c = 0; c < cols.size(); c++) {
          appendBatch(root.getVector(c), cols.get(c), n);
        }
      }
      return Table.create(baseName(file), cols);
    });
  }

  /** The schema-level custom metadata of an Arrow IPC file (empty if it has none). */
  public static Map<String, String> metadata(Path file) {
    return open(file, (reader, root) -> {
      Map<String, String> m = root.getSchema().getCustomMetadata();
      return m == null ? Map.of() : Map.copyOf(m);
    });
  }

  private static Column<?> emptyColumn(Field f, Path file) {
    ArrowType t = f.getType();
    String name = f.getName();
    if (f.getDictionary() == null) {
      if (t instanceof ArrowType.Int i && i.getIsSigned()) {
        switch (i.getBitWidth()) {
          case 16: return ShortColumn.create(name);
          case 32: return IntColumn.create(name);
          case 64: return LongColumn.create(name);
          default: break;
        }
      } else if (t instanceof ArrowType.FloatingPoint fp) {
        if (fp.getPrecision() == FloatingPointPrecision.SINGLE) return FloatColumn.create(name);
        if (fp.getPrecision() == FloatingPointPrecision.DOUBLE) return DoubleColumn.create(name);
      } else if (t instanceof ArrowType.Utf8 || t instanceof ArrowType.LargeUtf8) {
        return StringColumn.create(name);
      } else if (t instanceof ArrowType.Bool) {
        return BooleanColumn.create(name);
      }
    }
    String what = f.getDictionary() != null ? "dictionary-encoded " + t : String.valueOf(t);
    throw new IllegalArgumentException(
        "cannot read Arrow file " + file + ": column '" + name + "' has unsupported type " + what
            + " (supported: Int16/32/64 signed, Float32/64, Utf8, LargeUtf8, Bool)");
  }

  /** Appends the first {@code n} values of {@code v} to {@code col} (types fixed by emptyColumn). */
  private static void appendBatch(FieldVector v, Column<?> col, int n) {
    if (col instanceof IntColumn c) {
      IntVector iv = (IntVector) v;
      for (int i = 0; i < n; i++) {
        if (iv.isNull(i)) c.appendMissing();
        else c.append(iv.get(i));
      }
    } else if (col instanceof LongColumn c) {
      BigIntVector lv = (BigIntVector) v;
      for (int i = 0; i < n; i++) {
        if (lv.isNull(i)) c.appendMissing();
        else c.append(lv.get(i));
      }
    } else if (col instanceof ShortColumn c) {
      SmallIntVector sv = (SmallIntVector) v;
      for (int i = 0; i < n; i++) {
        if (sv.isNull(i)) c.appendMissing();
        else c.append(sv.get(i));
      }
    } else if (col instanceof DoubleColumn c) {
      Float8Vector dv = (Float8Vector) v;
      for (int i = 0; i < n; i++) {
        if (dv.isNull(i)) c.appendMissing();
        else c.append(dv.get(i));
      }
    } else if (col instanceof FloatColumn c) {
      Float4Vector fv = (Float4Vector) v;
      for (int i = 0; i < n; i++) {
        if (fv.isNull(i)) c.appendMissing();
        else c.append(fv.get(i));
      }
    } else if (col instanceof StringColumn c) {
      if (v instanceof LargeVarCharVector lv) {
        for (int i = 0; i < n; i++) {
          if (lv.isNull(i)) c.appendMissing();
          else c.append(new String(lv.get(i), StandardCharsets.UTF_8));
        }
      } else {
        VarCharVector sv = (VarCharVector) v;
        for (int i = 0; i < n; i++) {
          if (sv.isNull(i)) c.appendMissing();
          else c.append(new String(sv.get(i), StandardCharsets.UTF_8));
        }
      }
    } else if (col instanceof BooleanColumn c) {
      BitVector bv = (BitVector) v;
      for (int i = 0; i < n; i++) {
        if (bv.isNull(i)) c.appendMissing();
        else c.append(bv.get(i) != 0);
      }
    }
  }

  @FunctionalInterface
  private interface ReaderBody<T> {
    T apply(ArrowFileReader reader, VectorSchemaRoot root) throws IOException;
  }

  /**
   * Opens {@code file} as an Arrow IPC file and runs {@code body}; every failure is turned into an
   * exception whose message names the file, never a bare Netty/flatbuffers one.
   */
  private static <T> T open(Path file, ReaderBody<T> body) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      checkMagic(ch, file);
      try (BufferAllocator allocator = new RootAllocator();
          ArrowFileReader reader = new ArrowFileReader(ch, allocator)) {
        return body.apply(reader, reader.getVectorSchemaRoot());
      }
    } catch (NoSuchFileException e) {
      throw new UncheckedIOException("cannot read Arrow file " + file + ": no such file", e);
    } catch (UnsupportedOperationException e) {
      throw missingJvmFlag("read", file, e);
    } catch (IllegalArgumentException e) {
      if (String.valueOf(e.getMessage()).contains(file.toString())) {
        throw e; // ours: already names the file (and column)
      }
      throw new IllegalArgumentException(
          "cannot read Arrow file " + file + ": " + e.getMessage(), e);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(
          "cannot read Arrow file " + file + ": corrupt or not an Arrow IPC file ("
              + e.getClass().getSimpleName() + ": " + e.getMessage() + ")", e);
    }
  }

  /** An Arrow IPC file starts with "ARROW1" + 2 padding bytes and ends with int32 + "ARROW1". */
  private static void checkMagic(FileChannel ch, Path file) throws IOException {
    long size = ch.size();
    boolean ok = size >= 2L * MAGIC.length + 2 + 4
        && hasMagicAt(ch, 0) && hasMagicAt(ch, size - MAGIC.length);
    if (!ok) {
      throw new IllegalArgumentException(
          "cannot read Arrow file " + file + ": not an Arrow IPC file (no \"ARROW1\" magic at "
              + "start and end; an Arrow stream or a truncated file looks like this)");
    }
  }

  private static boolean hasMagicAt(FileChannel ch, long pos) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(MAGIC.length);
    while (buf.hasRemaining()) {
      if (ch.read(buf, pos + buf.position()) < 0) return false;
    }
    return Arrays.equals(buf.array(), MAGIC);
  }

  // ---------------------------------------------------------------------------------------------
  // append

  /**
   * Appends {@code rows} to the table in {@code file} (creating it if absent) and rewrites it
   * atomically, keeping its schema metadata. For small logs written at checkpoints: the whole file
   * is read and rewritten, and concurrent appenders are not serialised.
   *
   * @throws IllegalArgumentException if {@code rows} does not have the file's columns (same names,
   *     types and order); the message names the offending column
   */
  public static void append(Table rows, Path file) {
    if (!Files.exists(file)) {
      write(rows, file);
      return;
    }
    Map<String, String> meta = metadata(file);
    Table existing = read(file);
    requireSameSchema(existing, rows, file);
    existing.append(rows);
    write(existing, file, meta);
  }

  private static void requireSameSchema(Table existing, Table rows, Path file) {
    String prefix = "cannot append to Arrow file " + file + ": ";
    int n = Math.max(existing.columnCount(), rows.columnCount());
    for (int c = 0; c < n; c++) {
      if (c >= rows.columnCount()) {
        throw new IllegalArgumentException(prefix + "rows lack column '"
            + existing.column(c).name() + "' (" + existing.column(c).type().name() + ")");
      }
      if (c >= existing.columnCount()) {
        throw new IllegalArgumentException(prefix + "rows have extra column '"
            + rows.column(c).name() + "' (" + rows.column(c).type().name() + ")");
      }
      Column<?> want = existing.column(c);
      Column<?> got = rows.column(c);
      if (!want.name().equals(got.name()) || !want.type().equals(got.type())) {
        throw new IllegalArgumentException(prefix + "column " + c + " is '" + want.name() + "' ("
            + want.type().name() + ") in the file but '" + got.name() + "' ("
            + got.type().name() + ") in the rows");
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Arrow 19 on Java 17 cannot wrap its off-heap buffers as NIO buffers unless java.nio is opened
   * to it; it then fails lazily, at the first batch, with this UnsupportedOperationException.
   */
  private static RuntimeException missingJvmFlag(String op, Path file, RuntimeException e) {
    String msg = String.valueOf(e.getMessage());
    if (msg.contains("DirectByteBuffer") || msg.contains("Unsafe")) {
      return new IllegalStateException("cannot " + op + " Arrow file " + file
          + ": Arrow needs the JVM flag --add-opens=java.base/java.nio=ALL-UNNAMED (" + msg + ")",
          e);
    }
    return new IllegalArgumentException(
        "cannot " + op + " Arrow file " + file + ": " + e.getMessage(), e);
  }

  private static String baseName(Path file) {
    String name = file.getFileName().toString();
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }

  /**
   * A view of a channel whose close() does nothing: ArrowFileWriter closes its output, but
   * AtomicFiles still has to fsync the channel afterwards and owns its lifetime.
   */
  private record KeepOpen(WritableByteChannel ch) implements WritableByteChannel {
    @Override
    public int write(ByteBuffer src) throws IOException {
      return ch.write(src);
    }

    @Override
    public boolean isOpen() {
      return ch.isOpen();
    }

    @Override
    public void close() {}
  }
}
