package ai.minitron.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.TinyIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.BooleanColumn;
import tech.tablesaw.api.ColumnType;
import tech.tablesaw.api.DateColumn;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.FloatColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.ShortColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

class ArrowIoTest {

  @TempDir Path dir;

  /** A table with one column of every supported type, a missing value every few rows per column. */
  private static Table everyType(String name, int rows, long seed) {
    Random rnd = new Random(seed);
    ShortColumn s = ShortColumn.create("s");
    IntColumn i = IntColumn.create("i");
    LongColumn l = LongColumn.create("l");
    FloatColumn f = FloatColumn.create("f");
    DoubleColumn d = DoubleColumn.create("d");
    StringColumn str = StringColumn.create("str");
    BooleanColumn b = BooleanColumn.create("b");
    String[] words = {"attn.head", "mlp", "hidden", "héllo ✓ 日本語", "🦙", "a,b\"c\nd"};
    for (int r = 0; r < rows; r++) {
      if (r % 7 == 3) s.appendMissing(); else s.append((short) (rnd.nextInt(65535) - 32767));
      if (r % 5 == 1) i.appendMissing(); else i.append(r == 0 ? Integer.MAX_VALUE : rnd.nextInt());
      if (r % 11 == 2) l.appendMissing(); else l.append(r == 0 ? Long.MAX_VALUE : rnd.nextLong());
      if (r % 13 == 4) f.appendMissing(); else f.append(r == 0 ? Float.MIN_VALUE : rnd.nextFloat());
      if (r % 3 == 0) d.appendMissing();
      else d.append(r == 1 ? -0.0 : r == 2 ? Double.MAX_VALUE : rnd.nextGaussian() * 1e-300);
      if (r % 4 == 2) str.appendMissing(); else str.append(words[rnd.nextInt(words.length)] + r);
      if (r % 6 == 5) b.appendMissing(); else b.append(rnd.nextBoolean());
    }
    return Table.create(name, s, i, l, f, d, str, b);
  }

  private static void assertSameTable(Table expected, Table actual) {
    assertEquals(expected.columnNames(), actual.columnNames());
    assertEquals(expected.types(), actual.types());
    assertEquals(expected.rowCount(), actual.rowCount());
    for (int c = 0; c < expected.columnCount(); c++) {
      Column<?> e = expected.column(c);
      Column<?> a = actual.column(c);
      for (int r = 0; r < expected.rowCount(); r++) {
        // Boxed equals: exact for doubles (-0.0 != 0.0), NaN (Tablesaw's missing) equals NaN.
        if (e.isMissing(r) != a.isMissing(r) || !Objects.equals(e.get(r), a.get(r))) {
          fail("column '" + e.name() + "' row " + r + ": expected " + e.get(r) + " but was "
              + a.get(r));
        }
      }
    }
  }

  @Test
  void roundTripsEveryTypeWithMissingValuesAcrossSeveralBatches() throws Exception {
    int rows = 2 * ArrowIo.BATCH_ROWS + 1234; // three record batches, the last one partial
    Table t = everyType("ignored", rows, 42);
    Path file = dir.resolve("importance.arrow");

    ArrowIo.write(t, file);
    Table back = ArrowIo.read(file);

    assertEquals("importance", back.name());
    assertEquals(
        List.of(ColumnType.SHORT, ColumnType.INTEGER, ColumnType.LONG, ColumnType.FLOAT,
            ColumnType.DOUBLE, ColumnType.STRING, ColumnType.BOOLEAN),
        back.types());
    assertSameTable(t, back);
    assertTrue(back.doubleColumn("d").isMissing(0), "missing double survives");
    assertEquals(-0.0, back.doubleColumn("d").getDouble(1)); // sign of zero kept exactly
    assertEquals(Long.MAX_VALUE, back.longColumn("l").getLong(0));
    assertNull(back.booleanColumn("b").get(5), "missing boolean survives");

    // It really is streamed as bounded record batches.
    try (BufferAllocator a = new RootAllocator();
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        ArrowFileReader r = new ArrowFileReader(ch, a)) {
      assertEquals(3, r.getRecordBlocks().size());
      int maxRows = 0;
      while (r.loadNextBatch()) {
        maxRows = Math.max(maxRows, r.getVectorSchemaRoot().getRowCount());
      }
      assertEquals(ArrowIo.BATCH_ROWS, maxRows);
    }
  }

  @Test
  void roundTripsEmptyTableKeepingColumns() {
    Table t = everyType("empty", 0, 1);
    Path file = dir.resolve("empty.arrow");
    ArrowIo.write(t, file);
    Table back = ArrowIo.read(file);
    assertEquals(0, back.rowCount());
    assertSameTable(t, back);
  }

  @Test
  void roundTripsSchemaMetadata() {
    Map<String, String> meta = Map.of(
        "run_id", "run-2024-07-01", "producer", "minitron-workbench", "note", "ünïcode ✓");
    Path file = dir.resolve("m.arrow");
    ArrowIo.write(everyType("m", 10, 3), file, meta);

    assertEquals(meta, ArrowIo.metadata(file));
    assertEquals(10, ArrowIo.read(file).rowCount());

    ArrowIo.write(everyType("m", 10, 3), file);
    assertEquals(Map.of(), ArrowIo.metadata(file), "no metadata after a plain write");
  }

  @Test
  void fileIsAStandardArrowIpcFile() throws Exception {
    Path file = dir.resolve("interop.arrow");
    ArrowIo.write(everyType("interop", 100, 5), file, Map.of("k", "v"));

    byte[] bytes = Files.readAllBytes(file);
    byte[] magic = "ARROW1".getBytes(StandardCharsets.US_ASCII);
    assertArrayEquals(magic, Arrays.copyOfRange(bytes, 0, 6), "leading magic");
    assertArrayEquals(magic, Arrays.copyOfRange(bytes, bytes.length - 6, bytes.length),
        "trailing magic");

    // A plain Arrow reader (no ArrowIo) sees the documented physical types and nulls.
    try (BufferAllocator a = new RootAllocator();
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        ArrowFileReader r = new ArrowFileReader(ch, a)) {
      Schema schema = r.getVectorSchemaRoot().getSchema();
      assertEquals(
          List.of(new ArrowType.Int(16, true), new ArrowType.Int(32, true),
              new ArrowType.Int(64, true), new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE),
              new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE), ArrowType.Utf8.INSTANCE,
              ArrowType.Bool.INSTANCE),
          schema.getFields().stream().map(Field::getType).collect(Collectors.toList()));
      assertEquals("v", schema.getCustomMetadata().get("k"));
      assertTrue(r.loadNextBatch());
      VectorSchemaRoot root = r.getVectorSchemaRoot();
      assertEquals(100, root.getRowCount());
      assertTrue(root.getVector("d").isNull(0), "Tablesaw missing is an Arrow null");
      assertFalse(root.getVector("d").isNull(1));
      assertTrue(root.getVector("i").isNull(1));
    }
  }

  @Test
  void readingANonArrowFileNamesTheFile() throws Exception {
    Path text = dir.resolve("notes-not-arrow.arrow");
    Files.writeString(text, "run_id,score\nabc,1.0\n".repeat(10));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ArrowIo.read(text));
    assertTrue(e.getMessage().contains("notes-not-arrow.arrow"), e.getMessage());

    Path empty = dir.resolve("zero-bytes.arrow");
    Files.write(empty, new byte[0]);
    e = assertThrows(IllegalArgumentException.class, () -> ArrowIo.metadata(empty));
    assertTrue(e.getMessage().contains("zero-bytes.arrow"), e.getMessage());

    // Right magic at both ends, garbage footer in between: still a clean message.
    Path good = dir.resolve("good.arrow");
    ArrowIo.write(everyType("good", 50, 9), good);
    byte[] bytes = Files.readAllBytes(good);
    for (int k = bytes.length - 40; k < bytes.length - 6; k++) {
      bytes[k] = (byte) 0x7f;
    }
    Path corrupt = dir.resolve("corrupt-footer.arrow");
    Files.write(corrupt, bytes);
    e = assertThrows(IllegalArgumentException.class, () -> ArrowIo.read(corrupt));
    assertTrue(e.getMessage().contains("corrupt-footer.arrow"), e.getMessage());
  }

  @Test
  void readingAMissingFileNamesTheFile() {
    Path missing = dir.resolve("does-not-exist.arrow");
    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> ArrowIo.read(missing));
    assertTrue(e.getMessage().contains("does-not-exist.arrow"), e.getMessage());
  }

  @Test
  void unsupportedColumnTypesAreNamed() throws Exception {
    // Writing: a Tablesaw type with no mapping; nothing is left behind.
    Path file = dir.resolve("dates.arrow");
    Table dates = Table.create("dates", DateColumn.create("day", List.of(LocalDate.of(2024, 1, 1))));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ArrowIo.write(dates, file));
    assertTrue(e.getMessage().contains("'day'"), e.getMessage());
    assertTrue(e.getMessage().contains("dates.arrow"), e.getMessage());
    assertEmptyDir();

    // Reading: a foreign file with an Int(8) column.
    Path foreign = dir.resolve("foreign.arrow");
    Schema schema = new Schema(List.of(
        new Field("tiny", FieldType.nullable(new ArrowType.Int(8, true)), null)));
    try (BufferAllocator a = new RootAllocator();
        VectorSchemaRoot root = VectorSchemaRoot.create(schema, a);
        FileChannel ch = FileChannel.open(foreign, StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE);
        ArrowFileWriter w = new ArrowFileWriter(root, null, ch)) {
      w.start();
      ((TinyIntVector) root.getVector(0)).setSafe(0, 7);
      root.setRowCount(1);
      w.writeBatch();
      w.end();
    }
    e = assertThrows(IllegalArgumentException.class, () -> ArrowIo.read(foreign));
    assertTrue(e.getMessage().contains("foreign.arrow"), e.getMessage());
    assertTrue(e.getMessage().contains("'tiny'"), e.getMessage());
  }

  @Test
  void appendCreatesThenExtendsAndKeepsMetadata() {
    Path file = dir.resolve("train_log.arrow");
    Table first = everyType("log", 5, 10);
    ArrowIo.append(first, file);
    assertSameTable(first, ArrowIo.read(file));

    ArrowIo.write(ArrowIo.read(file), file, Map.of("run_id", "r1"));
    Table second = everyType("other-name", 3, 11);
    ArrowIo.append(second, file);

    Table back = ArrowIo.read(file);
    assertEquals(8, back.rowCount());
    assertSameTable(first, back.inRange(0, 5));
    assertSameTable(second, back.inRange(5, 8));
    assertEquals(Map.of("run_id", "r1"), ArrowIo.metadata(file));
    assertEquals(List.of("train_log.arrow"), listDir());
  }

  @Test
  void appendRejectsADifferentSchemaNamingTheColumn() {
    Path file = dir.resolve("metrics.arrow");
    ArrowIo.write(Table.create("metrics",
        IntColumn.create("step", 1, 2), DoubleColumn.create("loss", 2.5, 2.25)), file);

    Table wrongType = Table.create("x",
        IntColumn.create("step", new int[] {3}), FloatColumn.create("loss", new float[] {2.0f}));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ArrowIo.append(wrongType, file));
    assertTrue(e.getMessage().contains("'loss'"), e.getMessage());
    assertTrue(e.getMessage().contains("metrics.arrow"), e.getMessage());

    Table missingCol = Table.create("x", IntColumn.create("step", new int[] {3}));
    e = assertThrows(IllegalArgumentException.class, () -> ArrowIo.append(missingCol, file));
    assertTrue(e.getMessage().contains("'loss'"), e.getMessage());

    Table extraCol = Table.create("x", IntColumn.create("step", new int[] {3}),
        DoubleColumn.create("loss", new double[] {2.0}),
        DoubleColumn.create("lr", new double[] {1e-4}));
    e = assertThrows(IllegalArgumentException.class, () -> ArrowIo.append(extraCol, file));
    assertTrue(e.getMessage().contains("'lr'"), e.getMessage());

    assertEquals(2, ArrowIo.read(file).rowCount(), "failed appends leave the file unchanged");
  }

  @Test
  void writeIsAtomicLeavesNoTempFilesAndOverwrites() {
    Path file = dir.resolve("scores.arrow");
    ArrowIo.write(everyType("a", 1000, 1), file);
    assertEquals(List.of("scores.arrow"), listDir());

    Table replacement = everyType("b", 17, 2);
    ArrowIo.write(replacement, file);
    assertEquals(List.of("scores.arrow"), listDir());
    assertSameTable(replacement, ArrowIo.read(file));

    // Parent directories are created on demand.
    Path nested = dir.resolve("run1/layer3/importance.arrow");
    ArrowIo.write(replacement, nested);
    assertEquals(17, ArrowIo.read(nested).rowCount());
  }

  private List<String> listDir() {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    } catch (java.io.IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void assertEmptyDir() {
    assertEquals(List.of(), listDir());
  }
}
