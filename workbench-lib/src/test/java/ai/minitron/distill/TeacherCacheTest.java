package ai.minitron.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.Weights;
import ai.minitron.stats.ArrowIo;
import ai.minitron.train.BatchSource;
import ai.minitron.train.GradClip;
import ai.minitron.train.TrainConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/** A cached teacher gives the live teacher's loss and gradients, refuses foreign data, and resumes its build. */
class TeacherCacheTest {
    static final ModelConfig C = DistillerTest.TEACHER; // vocab 40

    @TempDir
    Path tmp;

    static TeacherCache build(Weights t, BatchSource data, int k, double tau, Path dir) {
        TeacherCache.build(C, t, "test-teacher", "random-rows", data, data.size(), k, tau, 3, 5, dir, null);
        return TeacherCache.open(dir);
    }

    static NDArray[] inputsOf(NDManager m, long[][] rows) {
        long[][] in = new long[rows.length][];
        long[][] tg = new long[rows.length][];
        for (int r = 0; r < rows.length; r++) {
            in[r] = Arrays.copyOf(rows[r], rows[r].length - 1);
            tg[r] = Arrays.copyOfRange(rows[r], 1, rows[r].length);
        }
        return new NDArray[] {m.create(in), m.create(tg)};
    }

    /** Loss and the gradients of two student tensors. */
    static double[][] lossAndGrads(Distiller d, Weights s, NDArray[] io) {
        s.setRequiresGradient(true);
        GradClip.zero(s);
        double loss;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray l = d.terms(s, null, io[0], io[1]).total();
            loss = l.toType(DataType.FLOAT64, false).getDouble();
            gc.backward(l);
        }
        double[][] out = {{loss}, grad(s, "model.embed_tokens.weight"),
                grad(s, "model.layers.2.mlp.down_proj.weight")};
        s.setRequiresGradient(false);
        return out;
    }

    static double[] grad(Weights s, String name) {
        return s.get(name).getGradient().toType(DataType.FLOAT64, false).toDoubleArray();
    }

    @Test
    void aCacheOfTheWholeVocabularyGivesTheLiveForwardKlAndItsGradients() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights t = Weights.random(C, m, 1, DataType.FLOAT32);
            Weights s = Weights.random(C, m, 2, DataType.FLOAT32);
            BatchSource data = DistillerTest.data(3);
            TeacherCache cache = build(t, data, 40, 2.0, tmp.resolve("cache"));
            assertEquals(4, cache.manifest().shards().size(), "16 samples in shards of 5");
            assertEquals(16L * 16, cache.manifest().teacher_tokens());
            Distiller.Options o = new Distiller.Options(KdLoss.Config.forwardKl(2.0), 1, 0, false);
            Distiller live = new Distiller(C, t, C, o);
            Distiller cached = new Distiller(C, t, C, o).withCache(cache);
            NDArray[] io = inputsOf(m, data.batch(1, 4));
            double[][] a = lossAndGrads(live, s, io);
            double[][] b = lossAndGrads(cached, s, io);
            assertTrue(a[0][0] > 1e-3, "a non-trivial loss: " + a[0][0]);
            for (int i = 0; i < a.length; i++) {
                for (int j = 0; j < a[i].length; j++) {
                    assertEquals(a[i][j], b[i][j], 1e-5, "term " + i + " element " + j);
                }
            }
        }
    }

    @Test
    void aTopKCacheGivesKdLossTopKKlOnLiveLogits() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights t = Weights.random(C, m, 1, DataType.FLOAT32);
            Weights s = Weights.random(C, m, 2, DataType.FLOAT32);
            BatchSource data = DistillerTest.data(3);
            TeacherCache cache = build(t, data, 8, 1.5, tmp.resolve("cache"));
            for (int k : new int[] {8, 5}) { // k = the cache's, and a smaller k read from the same cache
                Distiller.Options o = new Distiller.Options(new KdLoss.Config(KdLoss.Kind.TOP_K_KL, 1.5, 0.5, k), 1, 0,
                        false);
                NDArray[] io = inputsOf(m, data.batch(2, 4));
                double[][] live = lossAndGrads(new Distiller(C, t, C, o), s, io);
                double[][] cached = lossAndGrads(new Distiller(C, t, C, o).withCache(cache), s, io);
                assertEquals(live[0][0], cached[0][0], 1e-5, "top-" + k + " KL");
                for (int j = 0; j < live[2].length; j++) {
                    assertEquals(live[2][j], cached[2][j], 1e-5, "top-" + k + " gradient " + j);
                }
            }
        }
    }

    @Test
    void distillingFromTheCacheNeedsNoTeacherForwardAndCountsTheCachePass() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights t = Weights.random(C, m, 1, DataType.FLOAT32);
            Weights s = Weights.random(C, m, 2, DataType.FLOAT32);
            BatchSource data = DistillerTest.data(3);
            TeacherCache cache = build(t, data, 40, 1.0, tmp.resolve("cache"));
            // No live teacher weights at all: training can only use the cache.
            Distiller d = new Distiller(C, null, C, Distiller.Options.forwardKl()).withCache(cache);
            TrainConfig tc = TrainConfig.builder().steps(6).batchSize(4).seqLen(16).lr(3e-3).minLr(3e-4).warmupSteps(1)
                    .evalEvery(3).seed(7).build();
            List<Distiller.Validation> log = d.run(s, tc, data, data, tmp.resolve("run"), null);
            Table tbl = ArrowIo.read(tmp.resolve("run/distill_metrics.arrow"));
            assertEquals(2, tbl.rowCount());
            assertEquals(6L * 4 * 16, tbl.longColumn("student_tokens").getLong(1));
            assertEquals(0L, tbl.longColumn("teacher_tokens").getLong(1));
            assertEquals(16L * 16, tbl.longColumn("teacher_cache_tokens").getLong(1));
            assertEquals(16L * 16, tbl.longColumn("teacher_tokens_total").getLong(1));
            assertTrue(Double.isNaN(log.get(1).klToTeacher()), "no live teacher to validate against");
            assertTrue(Double.isFinite(log.get(1).valLoss()));
        }
    }

    @Test
    void foreignDataAndMismatchedSettingsAreRefused() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights t = Weights.random(C, m, 1, DataType.FLOAT32);
            Weights s = Weights.random(C, m, 2, DataType.FLOAT32);
            TeacherCache cache = build(t, DistillerTest.data(3), 8, 1.0, tmp.resolve("cache"));
            Distiller.Options o = new Distiller.Options(new KdLoss.Config(KdLoss.Kind.TOP_K_KL, 1.0, 0.5, 8), 1, 0, false);
            Distiller d = new Distiller(C, t, C, o).withCache(cache);
            NDArray[] other = inputsOf(m, DistillerTest.data(4).batch(0, 2));
            var e = assertThrows(IllegalArgumentException.class, () -> d.terms(s, null, other[0], other[1]));
            assertTrue(e.getMessage().contains("is not in the teacher cache"), e.getMessage());
            TrainConfig tc8 = TrainConfig.builder().steps(2).batchSize(2).seqLen(8).lr(1e-3).minLr(1e-4).warmupSteps(1)
                    .seed(1).build();
            e = assertThrows(IllegalArgumentException.class, () -> d.run(s, tc8, null, null, tmp.resolve("x"), null));
            assertTrue(e.getMessage().contains("seq_len 16") && e.getMessage().contains("--seq-len 8"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new Distiller(C, t, C,
                    new Distiller.Options(new KdLoss.Config(KdLoss.Kind.TOP_K_KL, 2.0, 0.5, 8), 1, 0, false)).withCache(cache));
            assertTrue(e.getMessage().contains("temperature"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new Distiller(C, t, C,
                    new Distiller.Options(new KdLoss.Config(KdLoss.Kind.TOP_K_KL, 1.0, 0.5, 9), 1, 0, false)).withCache(cache));
            assertTrue(e.getMessage().contains("--top-k <= 8"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> new Distiller(C, t, C, Distiller.Options.forwardKl()).withCache(cache));
            assertTrue(e.getMessage().contains("not FORWARD_KL"), e.getMessage());
            var is = new IntermediateLoss.Config(IntermediateLoss.Kind.COSINE, IntermediateLoss.defaultMap(3, 3), false, 1,
                    false);
            e = assertThrows(IllegalArgumentException.class,
                    () -> new Distiller(C, t, C, o.withIntermediate(is)).withCache(cache));
            assertTrue(e.getMessage().contains("hidden states"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> TeacherCache.open(tmp));
            assertTrue(e.getMessage().contains("not a teacher cache"), e.getMessage());
        }
    }

    @Test
    void anInterruptedBuildResumesAfterItsCompleteShards() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights t = Weights.random(C, m, 1, DataType.FLOAT32);
            BatchSource data = DistillerTest.data(3);
            Path dir = tmp.resolve("cache");
            build(t, data, 8, 1.0, dir);
            byte[] manifest = Files.readAllBytes(dir.resolve(TeacherCache.MANIFEST));
            var kept = Files.getLastModifiedTime(dir.resolve("shard-00000.safetensors"));
            byte[] lastShard = Files.readAllBytes(dir.resolve("shard-00003.safetensors"));
            // Simulate a crash before the last shard and the manifest were written.
            Files.delete(dir.resolve("shard-00003.safetensors"));
            Files.delete(dir.resolve(TeacherCache.MANIFEST));
            Thread.sleep(20);
            build(t, data, 8, 1.0, dir);
            assertEquals(kept, Files.getLastModifiedTime(dir.resolve("shard-00000.safetensors")), "complete shard kept");
            assertTrue(Arrays.equals(lastShard, Files.readAllBytes(dir.resolve("shard-00003.safetensors"))));
            assertTrue(Arrays.equals(manifest, Files.readAllBytes(dir.resolve(TeacherCache.MANIFEST))));
            // Another k in the same directory rewrites every shard.
            build(t, data, 4, 1.0, dir);
            assertNotEquals(kept, Files.getLastModifiedTime(dir.resolve("shard-00000.safetensors")));
            assertEquals(4, TeacherCache.open(dir).manifest().top_k());
        }
    }
}
