package ai.minitron.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.Weights;
import ai.minitron.stats.ArrowIo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

class TrainLoopTest {
    @TempDir
    Path tmp;

    static ModelConfig tiny() {
        return ModelConfig.builder(Architecture.LLAMA).vocabSize(32).hiddenSize(32).intermediateSize(64)
                .numHiddenLayers(2).numAttentionHeads(4).numKeyValueHeads(2).headDim(8).maxPositionEmbeddings(64)
                .normEps(1e-5).build();
    }

    /** A fixed set of {@code rows} random sequences, served by index: something to overfit. */
    static BatchSource memorise(int rows, int seqLen, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[][] data = new long[rows][seqLen + 1];
        for (long[] row : data) {
            for (int j = 0; j < row.length; j++) {
                row[j] = 1 + r.nextInt(31);
            }
        }
        return BatchSource.ofRows(data);
    }

    static TrainConfig config(int steps, int checkpointEvery) {
        return TrainConfig.builder().steps(steps).batchSize(4).seqLen(16).gradAccum(2).lr(3e-3).minLr(3e-4)
                .warmupSteps(5).weightDecay(0.01).evalEvery(10).checkpointEvery(checkpointEvery).seed(42).build();
    }

    @Test
    void lossFallsOnATinyOverfitRun() {
        ModelConfig c = tiny();
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(c, m, 1, DataType.FLOAT32);
            BatchSource data = memorise(8, 16, 3);
            List<TrainLoop.StepMetrics> h = new TrainLoop(c, w, config(60, 0), data, data,
                    TrainLoop.languageModelling(c), tmp.resolve("run"), null).run();
            double first = h.get(0).loss();
            double last = h.get(h.size() - 1).loss();
            assertTrue(first > Math.log(32) - 0.5, "starts near uniform: " + first);
            assertTrue(last < 0.5 * first, "loss should at least halve: " + first + " -> " + last);
            Table metrics = ArrowIo.read(tmp.resolve("run/metrics.arrow"));
            assertEquals(60, metrics.rowCount());
            assertEquals(List.of("step", "tokens", "lr", "loss", "val_loss", "grad_norm", "tokens_per_s"),
                    metrics.columnNames());
            assertEquals(60L * 4 * 2 * 16, metrics.longColumn("tokens").getLong(59));
        }
    }

    @Test
    void resumeAfterInterruptionFollowsTheUninterruptedTrajectory() {
        ModelConfig c = tiny();
        BatchSource data = memorise(16, 16, 5);
        List<TrainLoop.StepMetrics> straight;
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(c, m, 1, DataType.FLOAT32);
            straight = new TrainLoop(c, w, config(12, 4), data, data, TrainLoop.languageModelling(c),
                    tmp.resolve("straight"), null).run();
        }
        Path out = tmp.resolve("interrupted");
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(c, m, 1, DataType.FLOAT32);
            TrainLoop.Listener crash = s -> {
                if (s.step() == 6) {
                    throw new IllegalStateException("simulated crash");
                }
            };
            assertThrows(IllegalStateException.class, () -> new TrainLoop(c, w, config(12, 4), data, data,
                    TrainLoop.languageModelling(c), out, crash).run());
        }
        List<TrainLoop.StepMetrics> resumed;
        long[] resumedAt = {-1};
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(c, m, 999, DataType.FLOAT32); // different init: must be overwritten
            resumed = new TrainLoop(c, w, config(12, 4), data, data, TrainLoop.languageModelling(c), out,
                    new TrainLoop.Listener() {
                        @Override
                        public void onStep(TrainLoop.StepMetrics s) {}

                        @Override
                        public void onResume(long step) {
                            resumedAt[0] = step;
                        }
                    }).run();
        }
        assertEquals(4, resumedAt[0], "resumes from the last checkpoint (step 4)");
        assertEquals(12, resumed.size(), "history restored from the checkpoint plus new steps");
        for (int i = 4; i < 12; i++) {
            assertEquals(straight.get(i).loss(), resumed.get(i).loss(), 1e-5, "loss at step " + (i + 1));
        }
    }

    @Test
    void resumingAnotherModelsCheckpointIsRefused() {
        ModelConfig c = tiny();
        BatchSource data = memorise(8, 16, 5);
        Path out = tmp.resolve("run");
        try (NDManager m = NDManager.newBaseManager()) {
            new TrainLoop(c, Weights.random(c, m, 1, DataType.FLOAT32), config(2, 1), data, null,
                    TrainLoop.languageModelling(c), out, null).run();
        }
        ModelConfig other = c.withShape(32, 48, 2, 4, 2);
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(other, m, 1, DataType.FLOAT32);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TrainLoop(other, w,
                    config(4, 1), data, null, TrainLoop.languageModelling(other), out, null).run());
            assertTrue(e.getMessage().contains("another model"), e.getMessage());
        }
        assertTrue(Files.exists(out.resolve("checkpoint/model.safetensors")), "nothing overwritten");
    }

    @Test
    void nativeMemoryDoesNotGrowOverManySteps() {
        assertTrue(NativeMemory.mallocStatsAvailable(), "glibc mallinfo2 is needed for this check");
        ModelConfig c = tiny();
        BatchSource data = memorise(8, 16, 3);
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(c, m, 1, DataType.FLOAT32);
            int[] at = {100, 250, 400};
            long[] malloc = new long[at.length];
            long[] rss = new long[at.length];
            int[] arrays = new int[at.length];
            new TrainLoop(c, w, config(400, 0), data, null, TrainLoop.languageModelling(c), tmp.resolve("mem"), s -> {
                for (int i = 0; i < at.length; i++) {
                    if (s.step() == at[i]) {
                        malloc[i] = NativeMemory.mallocInUseBytes();
                        rss[i] = NativeMemory.rssKb();
                        arrays[i] = liveArrays(m);
                    }
                }
            }).run();
            System.out.printf("steps 100 / 250 / 400: malloc in use %d / %d / %d kB, resident %d / %d / %d kB%n",
                    malloc[0] / 1024, malloc[1] / 1024, malloc[2] / 1024, rss[0], rss[1], rss[2]);
            // 150 steps that each allocate well over 1 MB of temporaries would add 150 MB or more if any of it
            // leaked. (Resident memory is not asserted: it also grows while the Java heap's pages are first
            // touched, tens of MB in a cold JVM, without any leak.)
            long growth = malloc[2] - malloc[1];
            assertTrue(growth < 2L << 20, "native memory in use grew by " + growth / 1024 + " kB between steps 250 and 400");
            assertEquals(arrays[0], arrays[2], "arrays alive under the model's manager at step 100 vs 400");
        }
    }

    @Test
    void aCorruptCheckpointIsAClearErrorAndIsNotOverwritten() throws Exception {
        ModelConfig c = tiny();
        BatchSource data = memorise(8, 16, 5);
        Path out = tmp.resolve("corrupt");
        try (NDManager m = NDManager.newBaseManager()) {
            new TrainLoop(c, Weights.random(c, m, 1, DataType.FLOAT32), config(2, 1), data, null,
                    TrainLoop.languageModelling(c), out, null).run();
        }
        Path weights = out.resolve("checkpoint/model.safetensors");
        Files.write(weights, new byte[] {1, 2, 3});
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(c, m, 1, DataType.FLOAT32);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TrainLoop(c, w,
                    config(4, 1), data, null, TrainLoop.languageModelling(c), out, null).run());
            assertTrue(e.getMessage().contains("corrupt checkpoint") && e.getMessage().contains("checkpoint"),
                    e.getMessage());
        }
        assertEquals(3, Files.size(weights), "the bad checkpoint is left for inspection, not overwritten");
    }

    @Test
    void aSequenceLengthBeyondTheContextIsRefused() {
        ModelConfig c = tiny(); // max_position_embeddings = 64
        BatchSource data = memorise(8, 100, 5);
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(c, m, 1, DataType.FLOAT32);
            TrainConfig tc = TrainConfig.builder().steps(2).batchSize(2).seqLen(100).lr(1e-3).minLr(1e-4).seed(1)
                    .build();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TrainLoop(c, w, tc,
                    data, null, TrainLoop.languageModelling(c), tmp.resolve("ctx"), null));
            assertTrue(e.getMessage().contains("max_position_embeddings = 64"), e.getMessage());
        }
    }

    @Test
    void rowBatchesCycleInOrderAndRefuseRaggedRows() {
        BatchSource b = BatchSource.ofRows(new long[][] {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}});
        assertEquals(2, b.seqLen());
        assertEquals(3, b.size());
        assertEquals(java.util.List.of(7L, 8L, 9L, 1L, 2L, 3L), java.util.Arrays.stream(b.batch(1, 2))
                .flatMap(r -> java.util.Arrays.stream(r).boxed()).toList(), "batch 1 of 2 = rows 2, 0");
        var e = assertThrows(IllegalArgumentException.class, () -> BatchSource.ofRows(new long[][] {{1, 2}, {3}}));
        assertTrue(e.getMessage().contains("row 1 holds 1 tokens"), e.getMessage());
    }

    static int liveArrays(NDManager m) {
        return ((ai.djl.ndarray.BaseNDManager) m).getManagedArrays().size();
    }
}
