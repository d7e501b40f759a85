package ai.minitron.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.Weights;
import ai.minitron.prune.Pruner;
import ai.minitron.prune.PrunePlan;
import ai.minitron.prune.StaticScores;
import ai.minitron.stats.ArrowIo;
import ai.minitron.train.BatchSource;
import ai.minitron.train.TrainConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

class DistillerTest {
    static final ModelConfig TEACHER = new ModelConfig(Architecture.LLAMA, 40, 32, 64, 3, 4, 2, 8, 64, 10000.0, 1.0,
            1e-5, "silu", true, false, false, "float32", null);

    @TempDir
    Path tmp;

    static BatchSource data(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[][] rows = new long[16][17];
        for (long[] row : rows) {
            for (int j = 0; j < row.length; j++) {
                row[j] = r.nextInt(40);
            }
        }
        return new BatchSource() {
            @Override
            public long[][] batch(long index, int b) {
                long[][] out = new long[b][];
                for (int i = 0; i < b; i++) {
                    out[i] = rows[(int) ((index * b + i) % rows.length)].clone();
                }
                return out;
            }

            @Override
            public int seqLen() {
                return 16;
            }

            @Override
            public long size() {
                return rows.length;
            }
        };
    }

    @Test
    void aStudentEqualToItsTeacherHasZeroKl() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights t = Weights.random(TEACHER, m, 1, DataType.FLOAT32);
            Distiller d = new Distiller(TEACHER, t, TEACHER, Distiller.Options.forwardKl());
            Distiller.Validation v = d.validate(t, data(2), 2, 4, 0, 0);
            assertEquals(0, v.klToTeacher(), 1e-6);
        }
    }

    @Test
    void distillationPullsAPrunedStudentTowardsTheTeacher() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights t = Weights.random(TEACHER, m, 1, DataType.FLOAT32);
            // A teacher whose every layer matters (random init leaves the residual stream to the embedding).
            SplittableRandom r = new SplittableRandom(5);
            for (String n : new java.util.ArrayList<>(t.names())) {
                float[] v = t.get(n).toFloatArray();
                for (int i = 0; i < v.length; i++) {
                    v[i] += (float) ((r.nextDouble() - 0.5) * (n.contains("norm") ? 0.2 : 0.6));
                }
                t.put(n, m.create(v, t.get(n).getShape()));
            }
            var keep = Pruner.select(TEACHER, PrunePlan.keepAll().withMlp(32).withLayers(2, PrunePlan.Depth.LOWEST),
                    StaticScores.firstK(TEACHER));
            Pruner.Pruned s = Pruner.apply(TEACHER, t, keep);
            Distiller d = new Distiller(TEACHER, t, s.config(), Distiller.Options.forwardKl());
            BatchSource train = data(3);
            double before = d.validate(s.weights(), train, 2, 4, 0, 0).klToTeacher();
            TrainConfig tc = new TrainConfig(30, 4, 16, 1, 3e-3, 3e-4, 3, 0.0, 0.9, 0.95, 1e-8, 1.0, 10, 2, 0, 7);
            List<Distiller.Validation> log = d.run(s.weights(), tc, train, train, tmp.resolve("kd"), null);
            double after = log.get(log.size() - 1).klToTeacher();
            assertTrue(after < 0.7 * before, "KL to teacher should fall: " + before + " -> " + after);
            assertEquals(3, log.size());
            Table metrics = ArrowIo.read(tmp.resolve("kd/distill_metrics.arrow"));
            assertEquals(3, metrics.rowCount());
            assertEquals(30L * 4 * 16, metrics.longColumn("student_tokens").getLong(2));
            assertEquals(metrics.longColumn("student_tokens").getLong(2), metrics.longColumn("teacher_tokens").getLong(2));
        }
    }

    @Test
    void differentVocabulariesAreRefusedUnlessAligned() {
        ModelConfig other = new ModelConfig(Architecture.LLAMA, 48, 32, 64, 3, 4, 2, 8, 64, 10000.0, 1.0, 1e-5, "silu",
                true, false, false, "float32", null);
        try (NDManager m = NDManager.newBaseManager()) {
            Weights t = Weights.random(TEACHER, m, 1, DataType.FLOAT32);
            var e = assertThrows(IllegalArgumentException.class,
                    () -> new Distiller(TEACHER, t, other, Distiller.Options.forwardKl()));
            assertTrue(e.getMessage().contains("vocab_size 40") && e.getMessage().contains("48"), e.getMessage());
            Weights s = Weights.random(other, m, 2, DataType.FLOAT32);
            Distiller d = new Distiller(TEACHER, t, other,
                    new Distiller.Options(KdLoss.Config.forwardKl(1), 1, 0, true));
            assertTrue(Double.isFinite(d.validate(s, data(1), 1, 2, 0, 0).klToTeacher()));
        }
    }
}
