package ai.minitron.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.TensorSchema;
import ai.minitron.config.UnitLayout;
import ai.minitron.io.HostTensor;
import ai.minitron.io.SafeTensors;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The streaming pruner ({@link CheckpointPruner}) writes exactly the files the loaded path writes
 * ({@link Pruner#apply} then {@link LanguageModel#save}) for F32 checkpoints, keeps BF16 and F16 as
 * stored bytes, and refuses non-finite kept values by tensor name.
 */
class CheckpointPrunerTest {
    @TempDir
    Path tmp;

    /** Plans touching every axis, depth by each rule, and the head residual. */
    static List<PrunePlan> plans(ModelConfig c) {
        int g = c.queriesPerKvHead();
        return List.of(
                PrunePlan.keepAll().withHidden(16).withHeadsPerGroup(Math.max(1, g / 2)).withMlp(17)
                        .withLayers(2, PrunePlan.Depth.LOWEST),
                PrunePlan.keepAll().withKvGroups(1).withMlp(40).withLayers(2, PrunePlan.Depth.CONTIGUOUS),
                PrunePlan.keepAll().withKeepLayers(List.of(0, 2)),
                PrunePlan.keepAll().withHidden(20).withHeadsPerGroup(1).withHeadResidual(true),
                PrunePlan.keepAll().withHeadsPerGroup(Math.max(1, g / 2)).withHeadResidual(true)
                        .withKeepLayers(List.of(1, 2)));
    }

    @Test
    void writesTheLoadedPathsFilesByteForByteForF32() throws Exception {
        int cases = 0;
        for (ModelConfig c : List.of(PrunerTest.LLAMA, PrunerTest.NEMOTRON)) {
            try (NDManager m = NDManager.newBaseManager()) {
                Weights w = PrunerTest.randomish(c, m, 11);
                Path parent = tmp.resolve("parent-" + c.architecture());
                new LanguageModel(c, w, null, TensorDType.F32).save(parent, TensorDType.F32);
                int i = 0;
                for (PrunePlan plan : plans(c)) {
                    for (long shard : new long[] {LanguageModel.DEFAULT_MAX_SHARD_BYTES, 4096}) {
                        KeepSet k = Pruner.select(c, plan, UnitScores.random(c, 100 + i));
                        Path loaded = tmp.resolve("loaded-" + c.architecture() + "-" + i + "-" + shard);
                        Path streamed = tmp.resolve("streamed-" + c.architecture() + "-" + i + "-" + shard);
                        Pruner.Pruned p = Pruner.apply(c, w, k, plan);
                        new LanguageModel(p.config(), p.weights(), null, TensorDType.F32).save(loaded, TensorDType.F32,
                                shard);
                        // a tiny block: rows are read in several blocks and output flushed mid-tensor
                        CheckpointPruner.Result r = CheckpointPruner.write(parent, c, k, plan, null, streamed, shard, 256,
                                ai.minitron.progress.Progress.NONE);
                        assertEquals(p.config(), r.config());
                        assertSameFiles(loaded, streamed, c + " " + plan + " shard " + shard);
                        assertEquals(TensorSchema.expectedShapes(p.config()).values().stream()
                                .mapToLong(TensorSchema::numel).sum() * 4, r.bytesWritten());
                        p.weights().close();
                        cases++;
                    }
                    i++;
                }
            }
        }
        assertEquals(20, cases);
    }

    @Test
    void theCommittedPrunedExportIsWhatStreamingMakesOfItsParent() throws Exception {
        ModelConfig c = ModelConfig.load(PrunedExportFixture.PARENT.resolve("config.json"));
        KeepSet k = PruningRecord.read(PrunedExportFixture.MODEL);
        Path out = tmp.resolve("export");
        CheckpointPruner.write(PrunedExportFixture.PARENT, c, k, PrunedExportFixture.plan(), null, out);
        for (String f : List.of("model.safetensors", "config.json")) {
            assertEquals(-1, Files.mismatch(PrunedExportFixture.MODEL.resolve(f), out.resolve(f)), f);
        }
    }

    @Test
    void bf16AndF16StayAsStoredWithExactBits() throws Exception {
        ModelConfig c = PrunerTest.LLAMA;
        for (TensorDType dtype : List.of(TensorDType.BF16, TensorDType.F16)) {
            Path parent = tmp.resolve("parent-" + dtype);
            try (NDManager m = NDManager.newBaseManager()) {
                new LanguageModel(c, PrunerTest.randomish(c, m, 5), null, dtype).save(parent, dtype);
            }
            PrunePlan plan = PrunePlan.keepAll().withHidden(15).withHeadsPerGroup(3).withKvGroups(1).withMlp(23)
                    .withKeepLayers(List.of(1, 3));
            KeepSet k = Pruner.select(c, plan, UnitScores.random(c, 8));
            Path out = tmp.resolve("child-" + dtype);
            CheckpointPruner.Result r = CheckpointPruner.write(parent, c, k, plan, null, out);
            assertEquals(dtype, r.dtype());
            assertTrue(Files.readString(out.resolve("config.json")).contains(LanguageModel.torchDtypeName(dtype)));
            Map<String, HostTensor> from = SafeTensors.readCheckpoint(parent);
            Map<String, HostTensor> to = SafeTensors.readCheckpoint(out);
            assertEquals(TensorSchema.expectedShapes(r.config()).keySet(), to.keySet());
            for (HostTensor t : to.values()) {
                assertEquals(dtype, t.dtype(), t.name());
                String src = Pruner.parentName(k, t.name());
                assertArrayEquals(expectedBits(c, k, from.get(src), t.name()), bits(t), t.name());
            }
        }
    }

    @Test
    void aSaveDtypeConvertsAsTheLoadedPathDoes() throws Exception {
        ModelConfig c = PrunerTest.LLAMA;
        Path parent = tmp.resolve("parent");
        Weights w;
        NDManager m = NDManager.newBaseManager();
        try (m) {
            w = PrunerTest.randomish(c, m, 6);
            new LanguageModel(c, w, null, TensorDType.F32).save(parent, TensorDType.F32);
            PrunePlan plan = PrunePlan.keepAll().withHidden(12).withMlp(30).withHeadResidual(true).withHeadsPerGroup(2);
            KeepSet k = Pruner.select(c, plan, UnitScores.random(c, 2));
            Pruner.Pruned p = Pruner.apply(c, w, k, plan);
            for (TensorDType dtype : List.of(TensorDType.BF16, TensorDType.F16)) {
                Path loaded = tmp.resolve("loaded-" + dtype);
                Path streamed = tmp.resolve("streamed-" + dtype);
                new LanguageModel(p.config(), p.weights(), null, dtype).save(loaded, dtype);
                CheckpointPruner.write(parent, c, k, plan, dtype, streamed);
                assertSameFiles(loaded, streamed, "F32 -> " + dtype);
            }
        }
    }

    @Test
    void aNonFiniteKeptValueIsRefusedNamingTheTensor() throws Exception {
        ModelConfig c = PrunerTest.LLAMA;
        for (TensorDType dtype : List.of(TensorDType.F32, TensorDType.BF16)) {
            Path parent = tmp.resolve("parent-" + dtype);
            Map<String, HostTensor> tensors = new LinkedHashMap<>();
            try (NDManager m = NDManager.newBaseManager()) {
                tensors.putAll(PrunerTest.randomish(c, m, 7).toHost(dtype));
            }
            String name = "model.layers.2.mlp.up_proj.weight";
            HostTensor t = tensors.get(name);
            ByteBuffer b = ByteBuffer.allocate((int) t.byteSize()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.put(t.bytes());
            int s = dtype.byteSize();
            int at = (c.hiddenSize() * 5 + 3) * s; // row 5, column 3: both kept below
            if (s == 4) {
                b.putFloat(at, Float.NaN);
            } else {
                b.putShort(at, (short) 0x7F80); // +inf in BF16
            }
            b.flip();
            tensors.put(name, HostTensor.ofBytes(name, dtype, t.shape(), b.asReadOnlyBuffer()));
            SafeTensors.writeSharded(parent, new ArrayList<>(tensors.values()), Long.MAX_VALUE, Map.of("format", "pt"));
            Files.writeString(parent.resolve("config.json"), c.toJsonString());
            KeepSet k = Pruner.select(c, PrunePlan.keepAll().withMlp(39), UnitScores.firstK(c));
            Path out = tmp.resolve("out-" + dtype);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> CheckpointPruner.write(parent, c, k, PrunePlan.keepAll(), null, out));
            assertTrue(e.getMessage().contains("'" + name + "'") && e.getMessage().contains("non-finite"), e.getMessage());
        }
    }

    // ------------------------------------------------------------------------------ helpers

    static void assertSameFiles(Path expected, Path actual, String what) throws Exception {
        List<String> a;
        List<String> b;
        try (var s = Files.list(expected)) {
            a = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        try (var s = Files.list(actual)) {
            b = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertEquals(a, b, what);
        for (String f : a) {
            assertEquals(-1, Files.mismatch(expected.resolve(f), actual.resolve(f)), what + ": " + f);
        }
    }

    /** The raw 16-bit patterns of a 2-byte tensor. */
    static short[] bits(HostTensor t) {
        short[] v = new short[(int) t.numel()];
        t.bytes().asShortBuffer().get(v);
        return v;
    }

    /** Computed independently of the copier: element (r, c) of the child is parent element (rows[r], cols[c]). */
    static short[] expectedBits(ModelConfig c, KeepSet k, HostTensor parent, String childName) {
        int j = UnitLayout.layerOf(childName);
        String src = Pruner.parentName(k, childName);
        int[] rows = null;
        int[] cols = null;
        for (UnitLayout.Cut cut : UnitLayout.cuts(c, src)) {
            int[] idx = Pruner.expand(Pruner.kept(k, cut.axis(), j), cut.block());
            if (cut.dim() == UnitLayout.Dim.COLUMNS) {
                cols = idx;
            } else {
                rows = idx;
            }
        }
        short[] p = bits(parent);
        long[] shape = parent.shape();
        int nCols = shape.length == 2 ? (int) shape[1] : 1;
        int[] rr = rows != null ? rows : java.util.stream.IntStream.range(0, (int) shape[0]).toArray();
        int[] cc = cols != null ? cols : java.util.stream.IntStream.range(0, nCols).toArray();
        short[] out = new short[rr.length * cc.length];
        for (int r = 0; r < rr.length; r++) {
            for (int col = 0; col < cc.length; col++) {
                out[r * cc.length + col] = p[rr[r] * nCols + cc[col]];
            }
        }
        return out;
    }
}
