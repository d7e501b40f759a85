package ai.minitron.io.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.io.CheckpointFormatException;
import ai.minitron.io.HalfFloats;
import ai.minitron.io.HostTensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader on small GGUF files written by {@link GgufWriter}, good and deliberately broken. */
class GgufFileTest {
    @TempDir
    Path tmp;

    /** A file with every metadata type and three tensors (F32, F16, Q8_0). */
    static GgufWriter sample() {
        GgufWriter w = new GgufWriter();
        w.put("general.architecture", GgufValue.string("llama"));
        w.put("u8", GgufValue.of(GgufValueType.UINT8, 250));
        w.put("i8", GgufValue.of(GgufValueType.INT8, -5));
        w.put("u16", GgufValue.of(GgufValueType.UINT16, 65000));
        w.put("i16", GgufValue.of(GgufValueType.INT16, -300));
        w.put("u32", GgufValue.uint32(4_000_000_000L));
        w.put("i32", GgufValue.of(GgufValueType.INT32, -7));
        w.put("f32", GgufValue.float32(1e-5f));
        w.put("bool", GgufValue.of(GgufValueType.BOOL, true));
        w.put("str", GgufValue.string("héllo ✓"));
        w.put("u64", GgufValue.of(GgufValueType.UINT64, 1L << 40));
        w.put("i64", GgufValue.of(GgufValueType.INT64, -(1L << 40)));
        w.put("f64", GgufValue.of(GgufValueType.FLOAT64, Math.PI));
        w.put("strs", GgufValue.array(GgufValueType.STRING, List.of("a", "b c", "")));
        w.put("ints", GgufValue.array(GgufValueType.INT32, List.of(1, -2, 3)));
        w.put("nested", GgufValue.array(GgufValueType.ARRAY,
                List.of(GgufValue.array(GgufValueType.UINT8, List.of(1, 2)), GgufValue.array(GgufValueType.BOOL, List.of(false)))));
        w.addF32("a", new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6});
        ByteBuffer f16 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : new float[] {0.5f, -2f, 65504f, 0f}) {
            f16.putShort(HalfFloats.floatToHalf(v));
        }
        w.addTensor("b", GgmlType.F16, new long[] {4}, f16.array());
        ByteBuffer q8 = ByteBuffer.allocate(34).order(ByteOrder.LITTLE_ENDIAN).putShort(HalfFloats.floatToHalf(0.5f));
        for (int i = 0; i < 32; i++) {
            q8.put((byte) (i - 16));
        }
        w.addTensor("c", GgmlType.Q8_0, new long[] {32, 1}, q8.array());
        return w;
    }

    Path write(byte[] bytes) throws IOException {
        Path p = tmp.resolve("t" + System.nanoTime() + ".gguf");
        Files.write(p, bytes);
        return p;
    }

    CheckpointFormatException bad(byte[] bytes) throws IOException {
        Path p = write(bytes);
        var e = assertThrows(CheckpointFormatException.class, () -> GgufFile.open(p).close());
        assertTrue(e.getMessage().contains(p.toString()), "message names the file: " + e.getMessage());
        return e;
    }

    @Test
    void readsEveryMetadataTypeAndTensor() throws IOException {
        Path p = write(sample().toBytes());
        try (GgufFile g = GgufFile.open(p)) {
            GgufMetadata md = g.metadata();
            assertEquals(3, g.version());
            assertEquals(32, g.alignment());
            assertEquals(0, g.dataOffset() % 32);
            assertEquals(250, md.getLong("u8"));
            assertEquals(-5, md.getLong("i8"));
            assertEquals(65000, md.getLong("u16"));
            assertEquals(-300, md.getLong("i16"));
            assertEquals(4_000_000_000L, md.getLong("u32"));
            assertEquals(-7, md.getLong("i32"));
            assertEquals(1e-5f, (float) md.getDouble("f32"));
            assertEquals(1e-5, md.getDecimal("f32", 0));
            assertTrue(md.getBoolean("bool", false));
            assertEquals("héllo ✓", md.getString("str"));
            assertEquals(1L << 40, md.getLong("u64"));
            assertEquals(-(1L << 40), md.getLong("i64"));
            assertEquals(Math.PI, md.getDouble("f64"));
            assertEquals(List.of("a", "b c", ""), md.getStrings("strs"));
            assertArrayEquals(new long[] {1, -2, 3}, md.getLongs("ints"));
            List<?> nested = md.get("nested").asList();
            assertArrayEquals(new long[] {1, 2}, ((GgufValue) nested.get(0)).asLongs());
            assertEquals(List.of("general.architecture", "u8", "i8"), md.keys().stream().limit(3).toList());

            assertEquals(3, g.tensors().size());
            GgufTensorInfo a = g.tensor("a");
            assertArrayEquals(new long[] {3, 2}, a.dims());
            assertArrayEquals(new long[] {2, 3}, a.shape());
            assertEquals(GgmlType.F32, a.type());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, g.dequantize("a"));
            HostTensor b = g.toHostTensor("b");
            assertArrayEquals(new long[] {4}, b.shape());
            assertArrayEquals(new float[] {0.5f, -2f, 65504f, 0f}, b.toFloats());
            float[] c = g.dequantize("c");
            assertEquals(32, c.length);
            assertEquals(-8f, c[0]);
            assertEquals(7.5f, c[31]);
            for (GgufTensorInfo t : g.tensors()) {
                assertEquals(0, t.offset() % 32, t.name());
            }
            float[] row = new float[3];
            g.dequantizeRows("a", 1, 1, row, 0);
            assertArrayEquals(new float[] {4, 5, 6}, row);
        }
    }

    @Test
    void honoursCustomAlignment() throws IOException {
        GgufWriter w = sample();
        w.put("general.alignment", GgufValue.uint32(64));
        try (GgufFile g = GgufFile.open(write(w.toBytes()))) {
            assertEquals(64, g.alignment());
            assertEquals(0, g.dataOffset() % 64);
            assertEquals(64, g.tensor("b").offset());
            assertArrayEquals(new float[] {0.5f, -2f, 65504f, 0f}, g.dequantize("b"));
        }
        w.put("general.alignment", GgufValue.uint32(48));
        assertTrue(bad(w.toBytes()).getMessage().contains("power of two"));
    }

    @Test
    void badMagic() throws IOException {
        byte[] b = sample().toBytes();
        b[0] = 'X';
        assertTrue(bad(b).getMessage().contains("bad magic"));
        assertTrue(bad("{\"__metadata__\": {}}".getBytes()).getMessage().contains("not a GGUF file"));
        assertTrue(bad(new byte[] {'G', 'G'}).getMessage().contains("too short"));
    }

    @Test
    void unsupportedVersions() throws IOException {
        byte[] b = sample().toBytes();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 1);
        assertTrue(bad(b).getMessage().contains("version 1"));
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 7);
        assertTrue(bad(b).getMessage().contains("unsupported GGUF version 7"));
        ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN).putInt(4, 3);
        assertTrue(bad(b).getMessage().contains("big-endian"));
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 2);
        try (GgufFile g = GgufFile.open(write(b))) {
            assertEquals(2, g.version()); // v2 and v3 share the layout
        }
    }

    @Test
    void truncatedAnywhereIsAClearError() throws IOException {
        byte[] full = sample().toBytes();
        int dataStart;
        try (GgufFile g = GgufFile.open(write(full))) {
            dataStart = (int) g.dataOffset();
        }
        // Every cut inside the header, and a few inside the data section.
        for (int cut = 4; cut < full.length; cut += cut < dataStart ? 1 : 13) {
            var e = bad(Arrays.copyOf(full, cut));
            String m = e.getMessage();
            assertTrue(m.contains("truncated") || m.contains("past the end") || m.contains("cannot fit")
                    || m.contains("more than the rest"), "cut at " + cut + ": " + m);
        }
    }

    @Test
    void tensorBeyondTheEndOfTheFile() throws IOException {
        GgufWriter w = new GgufWriter();
        w.addRaw("w", new long[] {4}, GgmlType.F32.id(), new byte[16]);
        byte[] b = w.toBytes();
        int offsetAt = findTensorOffsetField(b, "w");
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(offsetAt, 1L << 20);
        var e = bad(b);
        assertTrue(e.getMessage().contains("tensor 'w'") && e.getMessage().contains("past the end"), e.getMessage());
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(offsetAt, 8);
        assertTrue(bad(b).getMessage().contains("not a multiple of the alignment"));
    }

    /** Byte position of a tensor info's offset field (the last 8 bytes of its entry). */
    private static int findTensorOffsetField(byte[] file, String name) {
        byte[] needle = name.getBytes();
        for (int i = 0; i + 8 + needle.length < file.length; i++) {
            if (ByteBuffer.wrap(file, i, 8).order(ByteOrder.LITTLE_ENDIAN).getLong() == needle.length
                    && Arrays.equals(Arrays.copyOfRange(file, i + 8, i + 8 + needle.length), needle)) {
                int p = i + 8 + needle.length;
                int nDims = ByteBuffer.wrap(file, p, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
                return p + 4 + 8 * nDims + 4;
            }
        }
        throw new AssertionError("tensor info not found");
    }

    @Test
    void unknownTensorTypeIsListedButNotRead() throws IOException {
        GgufWriter w = new GgufWriter();
        w.addF32("ok", new long[] {2}, new float[] {1, 2});
        w.addRaw("weird", new long[] {8}, 99, new byte[32]);
        w.addRaw("iq", new long[] {256}, GgmlType.IQ2_XXS.id(), new byte[66]);
        Path p = write(w.toBytes());
        try (GgufFile g = GgufFile.open(p)) {
            assertEquals(3, g.tensors().size());
            assertEquals(null, g.tensor("weird").type());
            assertEquals("unknown type 99", g.tensor("weird").typeName());
            assertArrayEquals(new float[] {1, 2}, g.dequantize("ok"));
            var e = assertThrows(CheckpointFormatException.class, () -> g.dequantize("weird"));
            assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("'weird'")
                    && e.getMessage().contains("99"), e.getMessage());
            var e2 = assertThrows(CheckpointFormatException.class, () -> g.dequantize("iq"));
            assertTrue(e2.getMessage().contains("IQ2_XXS") && e2.getMessage().contains("'iq'"), e2.getMessage());
            var e3 = assertThrows(CheckpointFormatException.class, () -> g.tensor("nope"));
            assertTrue(e3.getMessage().contains("'nope'"));
        }
    }

    @Test
    void structuralErrors() throws IOException {
        GgufWriter w = new GgufWriter();
        w.addRaw("q", new long[] {16}, GgmlType.Q4_0.id(), new byte[9]);
        assertTrue(bad(w.toBytes()).getMessage().contains("not a multiple of the Q4_0 block size 32"));

        GgufWriter dims = new GgufWriter();
        dims.addRaw("five", new long[] {1, 1, 1, 1, 1}, GgmlType.F32.id(), new byte[4]);
        assertTrue(bad(dims.toBytes()).getMessage().contains("5 dimensions"));

        GgufWriter dup = new GgufWriter();
        dup.addF32("x", new long[] {1}, new float[] {1});
        dup.addF32("x", new long[] {1}, new float[] {2});
        assertTrue(bad(dup.toBytes()).getMessage().contains("duplicate tensor name 'x'"));

        byte[] b = sample().toBytes(); // the first key's value type -> 77
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(24 + 8 + "general.architecture".length(), 77);
        assertTrue(bad(b).getMessage().contains("unknown value type 77"));

        byte[] huge = sample().toBytes(); // tensor count absurdly large
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(8, Long.MAX_VALUE);
        assertTrue(bad(huge).getMessage().contains("cannot fit"));

        var e = assertThrows(CheckpointFormatException.class, () -> {
            try (GgufFile g = GgufFile.open(write(sample().toBytes()))) {
                g.metadata().getLong("str");
            }
        });
        assertTrue(e.getMessage().contains("'str'") && e.getMessage().contains("STRING"), e.getMessage());
        var missing = assertThrows(CheckpointFormatException.class, () -> {
            try (GgufFile g = GgufFile.open(write(sample().toBytes()))) {
                g.metadata().getString("llama.block_count");
            }
        });
        assertTrue(missing.getMessage().contains("'llama.block_count' is missing"));
    }

    @Test
    void noTwoGibibyteLimit() throws IOException {
        // A sparse file: a 2.2e9-byte I8 tensor first, a small F32 tensor after it beyond 2^31.
        long pad = 2_200_000_000L; // a multiple of the 32-byte alignment
        ByteBuffer h = ByteBuffer.allocate(128).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(GgufFile.MAGIC).putInt(3).putLong(2).putLong(0);
        h.putLong(3).put("pad".getBytes()).putInt(1).putLong(pad).putInt(GgmlType.I8.id()).putLong(0);
        h.putLong(1).put("x".getBytes()).putInt(2).putLong(2).putLong(2).putInt(GgmlType.F32.id()).putLong(pad);
        long dataStart = GgufFile.align(h.position(), 32);
        Path file = tmp.resolve("huge.gguf");
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(dataStart + pad + 16);
            raf.write(h.array(), 0, h.position());
            raf.seek(dataStart + pad);
            ByteBuffer x = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f)
                    .putFloat(3.25f).putFloat(1e-3f);
            raf.write(x.array());
        }
        try (GgufFile g = GgufFile.open(file)) {
            assertEquals(dataStart, g.dataOffset());
            assertArrayEquals(new float[] {1.5f, -2f, 3.25f, 1e-3f}, g.dequantize("x"));
            GgufTensorInfo big = g.tensor("pad");
            assertEquals(pad, big.byteSize());
            assertThrows(IllegalArgumentException.class, () -> g.rawData(big)); // one mapping holds < 2 GiB
            float[] row = new float[2];
            g.dequantizeRows("x", 1, 1, row, 0);
            assertArrayEquals(new float[] {3.25f, 1e-3f}, row);
        }
    }

    @Test
    void missingFile() {
        assertThrows(NoSuchFileException.class, () -> GgufFile.open(tmp.resolve("absent.gguf")));
    }

    @Test
    void writerRoundTripIsStable() throws IOException {
        byte[] once = sample().toBytes();
        GgufWriter again = new GgufWriter();
        try (GgufFile g = GgufFile.open(write(once))) {
            g.metadata().asMap().forEach(again::put);
            for (GgufTensorInfo t : g.tensors()) {
                ByteBuffer raw = g.rawData(t);
                byte[] bytes = new byte[raw.remaining()];
                raw.get(bytes);
                again.addTensor(t.name(), t.type(), t.dims(), bytes);
            }
            assertFalse(g.tensors().isEmpty());
        }
        assertArrayEquals(once, again.toBytes());
    }
}
