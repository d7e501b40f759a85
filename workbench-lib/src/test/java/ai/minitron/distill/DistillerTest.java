package ai.minitron.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.Weights;
import ai.minitron.prune.Pruner;
import ai.minitron.prune.PrunePlan;
import ai.minitron.prune.UnitScores;
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
    static final ModelConfig TEACHER = ModelConfig.builder(Architecture.LLAMA).vocabSize(40).hiddenSize(32)
            .intermediateSize(64).numHiddenLayers(3).numAttentionHeads(4).numKeyValueHeads(2).headDim(8)
            .maxPositionEmbeddings(64).normEps(1e-5).tieWordEmbeddings(true).build();

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
        return BatchSource.ofRows(rows);
    }

    /** A random teacher whose every layer matters (random init leaves the residual stream to the embedding). */
    static Weights teacher(NDManager m) {
        Weights t = Weights.random(TEACHER, m, 1, DataType.FLOAT32);
        SplittableRandom r = new SplittableRandom(5);
        for (String n : new java.util.ArrayList<>(t.names())) {
            float[] v = t.get(n).toFloatArray();
            for (int i = 0; i < v.length; i++) {
                v[i] += (float) ((r.nextDouble() - 0.5) * (n.contains("norm") ? 0.2 : 0.6));
            }
            t.put(n, m.create(v, t.get(n).getShape()));
        }
        return t;
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
            Weights t = teacher(m);
            Pruner.Pruned s = shallowStudent(t);
            Distiller d = new Distiller(TEACHER, t, s.config(), Distiller.Options.forwardKl());
            BatchSource train = data(3);
            double before = d.validate(s.weights(), train, 2, 4, 0, 0).klToTeacher();
            TrainConfig tc = TrainConfig.builder().steps(30).batchSize(4).seqLen(16).lr(3e-3).minLr(3e-4).warmupSteps(3)
                    .evalEvery(10).evalBatches(2).seed(7).build();
            List<Distiller.Validation> log = d.run(s.weights(), tc, train, train, tmp.resolve("kd"), null);
            double after = log.get(log.size() - 1).klToTeacher();
            assertTrue(after < 0.7 * before, "KL to teacher should fall: " + before + " -> " + after);
            assertEquals(3, log.size());
            Table metrics = ArrowIo.read(tmp.resolve("kd/distill_metrics.arrow"));
            assertEquals(3, metrics.rowCount());
            assertEquals(30L * 4 * 16, metrics.longColumn("student_tokens").getLong(2));
            assertEquals(metrics.longColumn("student_tokens").getLong(2), metrics.longColumn("teacher_tokens").getLong(2));
            assertEquals(0L, metrics.longColumn("teacher_correction_tokens").getLong(2));
            assertEquals(0L, metrics.longColumn("teacher_cache_tokens").getLong(2));
            Table steps = ArrowIo.read(tmp.resolve("kd/metrics.arrow"));
            double firstLoss = steps.doubleColumn("loss").getDouble(0);
            double lastLoss = steps.doubleColumn("loss").getDouble(steps.rowCount() - 1);
            assertTrue(lastLoss < 0.7 * firstLoss, "distillation loss should fall: " + firstLoss + " -> " + lastLoss);
        }
    }

    /**
     * {@code n} sequences of 17 tokens sampled from the teacher itself (temperature 1, first token
     * uniform), so that the teacher is the data's true distribution and a student's validation loss
     * can only fall by getting closer to it.
     */
    static BatchSource teacherSamples(Weights t, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[][] rows = new long[n][17];
        for (long[] row : rows) {
            row[0] = r.nextInt(TEACHER.vocabSize());
        }
        for (int j = 1; j < 17; j++) {
            long[][] prefix = new long[n][];
            for (int i = 0; i < n; i++) {
                prefix[i] = java.util.Arrays.copyOf(rows[i], j);
            }
            float[] p; // [n, V]: next-token probabilities after each prefix
            try (NDManager m = t.manager().newSubManager()) {
                p = DecoderLM.forward(TEACHER, t, m.create(prefix)).get(":, -1, :").softmax(-1).toFloatArray();
            }
            int v = TEACHER.vocabSize();
            for (int i = 0; i < n; i++) {
                double u = r.nextDouble();
                int tok = v - 1;
                for (int k = 0; k < v; k++) {
                    u -= p[i * v + k];
                    if (u <= 0) {
                        tok = k;
                        break;
                    }
                }
                rows[i][j] = tok;
            }
        }
        return BatchSource.ofRows(rows);
    }

    /**
     * The acceptance run: 300 steps of forward-KL distillation of a pruned tiny teacher (MLP halved,
     * one of three layers dropped) on text sampled from the teacher; validation on held-out samples.
     */
    @Test
    void threeHundredStepsOfDistillationLowerHeldOutKlAndLoss() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights t = teacher(m);
            Pruner.Pruned s = shallowStudent(t);
            BatchSource train = teacherSamples(t, 512, 11);
            BatchSource val = teacherSamples(t, 64, 12); // held out: never trained on
            Distiller d = new Distiller(TEACHER, t, s.config(), Distiller.Options.forwardKl());
            Distiller.Validation teacherSelf = new Distiller(TEACHER, t, TEACHER, Distiller.Options.forwardKl())
                    .validate(t, val, 4, 16, 0, 0);
            Distiller.Validation before = d.validate(s.weights(), val, 4, 16, 0, 0);
            TrainConfig tc = TrainConfig.builder().steps(300).batchSize(8).seqLen(16).lr(3e-3).minLr(3e-4)
                    .warmupSteps(10).evalEvery(100).evalBatches(4).seed(7).build();
            List<Distiller.Validation> log = d.run(s.weights(), tc, train, val, tmp.resolve("kd300"), null);
            assertEquals(3, log.size(), "validated at steps 100, 200, 300");
            Distiller.Validation after = log.get(log.size() - 1);
            assertEquals(300L * 8 * 16, after.studentTokens());
            System.out.printf("300-step distillation, held out: KL %.4f -> %.4f, loss %.4f -> %.4f (teacher %.4f)%n",
                    before.klToTeacher(), after.klToTeacher(), before.valLoss(), after.valLoss(), teacherSelf.valLoss());
            assertTrue(after.klToTeacher() < 0.5 * before.klToTeacher(),
                    "held-out KL to the teacher should at least halve: " + before.klToTeacher() + " -> " + after.klToTeacher());
            assertTrue(after.valLoss() < before.valLoss() - 0.5 * (before.valLoss() - teacherSelf.valLoss()),
                    "held-out loss should close at least half of the gap to the teacher's own loss ("
                            + teacherSelf.valLoss() + "): " + before.valLoss() + " -> " + after.valLoss());
            Table steps = ArrowIo.read(tmp.resolve("kd300/metrics.arrow"));
            assertEquals(300, steps.rowCount());
            double first = mean(steps.doubleColumn("loss").asDoubleArray(), 0, 20);
            double last = mean(steps.doubleColumn("loss").asDoubleArray(), 280, 300);
            assertTrue(last < 0.5 * first, "training KL (mean of 20 steps) should at least halve: " + first + " -> " + last);
        }
    }

    private static double mean(double[] v, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += v[i];
        }
        return s / (to - from);
    }

    /** An MLP- and depth-pruned student of {@link #teacher}: MLP 64 -> 32, layers 3 -> 2 (same hidden size). */
    static Pruner.Pruned shallowStudent(Weights t) {
        var keep = Pruner.select(TEACHER, PrunePlan.keepAll().withMlp(32).withLayers(2, PrunePlan.Depth.LOWEST),
                UnitScores.firstK(TEACHER));
        return Pruner.apply(TEACHER, t, keep);
    }

    /** A hidden- and depth-pruned student of {@link #teacher}: needs the projection (32 -> 24 channels). */
    static Pruner.Pruned narrowStudent(Weights t) {
        var keep = Pruner.select(TEACHER, PrunePlan.keepAll().withHidden(24).withLayers(2, PrunePlan.Depth.LOWEST),
                UnitScores.firstK(TEACHER));
        return Pruner.apply(TEACHER, t, keep);
    }

    @Test
    void theIntermediateLossTrainsTheProjectionAndResumesExactly() {
        var is = new IntermediateLoss.Config(IntermediateLoss.Kind.COSINE, IntermediateLoss.defaultMap(3, 2), true, 0,
                true);
        Distiller.Options o = Distiller.Options.forwardKl().withIntermediate(is);
        TrainConfig tc = TrainConfig.builder().steps(8).batchSize(4).seqLen(16).lr(3e-3).minLr(3e-4).warmupSteps(2)
                .evalEvery(4).checkpointEvery(4).seed(7).build();
        List<Distiller.Validation> straight;
        float[] straightProjection;
        float[] straightStudent;
        List<Double> straightLoss;
        try (NDManager m = NDManager.newBaseManager()) {
            Weights t = teacher(m);
            Pruner.Pruned s = narrowStudent(t);
            Distiller d = new Distiller(TEACHER, t, s.config(), o);
            straight = d.run(s.weights(), tc, data(3), data(3), tmp.resolve("straight"), null);
            Weights proj = d.projection(s.weights());
            straightProjection = proj.get(IntermediateLoss.PROJECTION).toFloatArray();
            assertEquals(24 * 32, straightProjection.length);
            float[] identity = IntermediateLoss.newProjection(m, 24, 32, DataType.FLOAT32)
                    .get(IntermediateLoss.PROJECTION).toFloatArray();
            assertTrue(!java.util.Arrays.equals(identity, straightProjection), "the projection is trained");
            straightStudent = s.weights().get("model.layers.1.mlp.up_proj.weight").toFloatArray();
            straightLoss = ArrowIo.read(tmp.resolve("straight/metrics.arrow")).doubleColumn("loss").asList();
            assertTrue(s.weights().names().stream().noneMatch(n -> n.startsWith("distill.")),
                    "the projection is not part of the student");
        }
        Path out = tmp.resolve("interrupted");
        try (NDManager m = NDManager.newBaseManager()) {
            Weights t = teacher(m);
            Pruner.Pruned s = narrowStudent(t);
            Distiller d = new Distiller(TEACHER, t, s.config(), o);
            assertThrows(IllegalStateException.class, () -> d.run(s.weights(), tc, data(3), data(3), out,
                    new ai.minitron.train.TrainLoop.Listener() {
                        @Override
                        public void onStep(ai.minitron.train.TrainLoop.StepMetrics sm) {
                            if (sm.step() == 6) {
                                throw new IllegalStateException("simulated crash");
                            }
                        }
                    }));
        }
        try (NDManager m = NDManager.newBaseManager()) {
            Weights t = teacher(m);
            Pruner.Pruned s = narrowStudent(t);
            Distiller d = new Distiller(TEACHER, t, s.config(), o);
            List<Distiller.Validation> resumed = d.run(s.weights(), tc, data(3), data(3), out, null);
            // Resumed and uninterrupted runs are bitwise identical here (measured 5 times, twice under a load of 4).
            // The 1 % differences between identical runs seen before came from the scalar use-after-free that
            // model.Scalars fixes. The 0.1 % tolerance leaves room for BLAS reduction order on other machines only:
            // a resume that lost the projection, its moments or the data position is off by far more.
            assertEquals(straight.size(), resumed.size(), "validation log restored and continued");
            for (int i = 0; i < straight.size(); i++) {
                double kl = straight.get(i).klToTeacher();
                assertEquals(kl, resumed.get(i).klToTeacher(), 1e-3 * kl, "KL at validation " + i);
            }
            List<Double> loss = ArrowIo.read(out.resolve("metrics.arrow")).doubleColumn("loss").asList();
            assertEquals(straightLoss.size(), loss.size());
            for (int i = 0; i < straightLoss.size(); i++) {
                assertEquals(straightLoss.get(i), loss.get(i), 1e-3 * straightLoss.get(i), "loss at step " + (i + 1));
            }
            float[] init = IntermediateLoss.newProjection(m, 24, 32, DataType.FLOAT32).get(IntermediateLoss.PROJECTION)
                    .toFloatArray();
            float[] p = d.projection(s.weights()).get(IntermediateLoss.PROJECTION).toFloatArray();
            assertTrue(distance(p, straightProjection) < 1e-3 * distance(init, straightProjection),
                    "projection after resume = uninterrupted: " + distance(p, straightProjection) + " vs trained "
                            + distance(init, straightProjection));
            float[] w = s.weights().get("model.layers.1.mlp.up_proj.weight").toFloatArray();
            float[] w0 = narrowStudent(teacher(m)).weights().get("model.layers.1.mlp.up_proj.weight").toFloatArray();
            assertTrue(distance(w, straightStudent) < 1e-3 * distance(w0, straightStudent),
                    "student after resume = uninterrupted: " + distance(w, straightStudent) + " vs trained "
                            + distance(w0, straightStudent));
            // The same output directory without the IS loss is a different run: refused clearly.
            Distiller plain = new Distiller(TEACHER, t, s.config(), Distiller.Options.forwardKl());
            var e = assertThrows(IllegalArgumentException.class,
                    () -> plain.run(s.weights(), tc, data(3), data(3), out, null));
            assertTrue(e.getMessage().contains("auxiliary"), e.getMessage());
        }
    }

    static double distance(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) (a[i] - b[i]) * (a[i] - b[i]);
        }
        return Math.sqrt(s);
    }

    @Test
    void teacherCorrectionLowersTheTeachersLossAndIsDistilledFrom() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights t = teacher(m);
            float[] original = t.get("model.layers.0.mlp.up_proj.weight").toFloatArray();
            BatchSource train = data(3);
            TrainConfig tc = TrainConfig.builder().steps(20).batchSize(4).seqLen(16).lr(3e-3).minLr(3e-4).warmupSteps(2)
                    .evalBatches(2).seed(7).build();
            double before = ai.minitron.train.ValidationLoss.batchMean(TEACHER, t, train, 4, 4);
            TeacherCorrection.Result r = TeacherCorrection.run(TEACHER, t, null, 15L * 4 * 16, tc, train, train,
                    tmp.resolve("run"), m, null);
            assertEquals(15L * 4 * 16, r.tokens());
            double after = ai.minitron.train.ValidationLoss.batchMean(TEACHER, r.weights(), train, 4, 4);
            assertTrue(after < before - 0.1, "the corrected teacher fits the distillation data better: " + before
                    + " -> " + after);
            assertTrue(java.util.Arrays.equals(original, t.get("model.layers.0.mlp.up_proj.weight").toFloatArray()),
                    "the original teacher is untouched");
            assertTrue(java.nio.file.Files.isRegularFile(tmp.resolve("run/teacher-corrected/config.json")));
            // A second run (e.g. a resumed distillation) loads the corrected teacher instead of training again.
            TeacherCorrection.Result again = TeacherCorrection.run(TEACHER, t, null, 15L * 4 * 16, tc, train, train,
                    tmp.resolve("run"), m, null);
            assertTrue(java.util.Arrays.equals(r.weights().get("model.layers.0.mlp.up_proj.weight").toFloatArray(),
                    again.weights().get("model.layers.0.mlp.up_proj.weight").toFloatArray()));
            // The distiller measures KL against the corrected teacher: 0 for a student equal to it.
            Distiller d = new Distiller(TEACHER, again.weights(), TEACHER, Distiller.Options.forwardKl())
                    .correctedOn(again.tokens());
            Distiller.Validation v = d.validate(r.weights(), train, 2, 4, 0, 0);
            assertEquals(0, v.klToTeacher(), 1e-6);
            assertEquals(15L * 4 * 16, v.teacherCorrectionTokens());
            assertTrue(new Distiller(TEACHER, t, TEACHER, Distiller.Options.forwardKl())
                    .validate(r.weights(), train, 2, 4, 0, 0).klToTeacher() > 1e-3);
        }
    }

    @Test
    void differentVocabulariesAreRefusedUnlessAligned() {
        ModelConfig other = TEACHER.toBuilder().vocabSize(48).build();
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

    @Test
    void alignedVocabulariesCompareTheSharedPrefix() {
        // A teacher with 8 padding tokens past the student's 40: the student is the teacher's prefix.
        ModelConfig padded = TEACHER.toBuilder().vocabSize(48).build();
        try (NDManager m = NDManager.newBaseManager()) {
            Weights t = Weights.random(padded, m, 1, DataType.FLOAT32);
            Weights s = Weights.random(TEACHER, m, 1, DataType.FLOAT32);
            for (String n : t.names()) {
                NDArray a = t.get(n);
                s.put(n, n.equals("model.embed_tokens.weight") ? a.get(":40, :").duplicate() : a.duplicate());
            }
            Distiller d = new Distiller(padded, t, TEACHER, new Distiller.Options(KdLoss.Config.forwardKl(1), 1, 0, true));
            assertEquals(0, d.validate(s, data(1), 2, 4, 0, 0).klToTeacher(), 1e-6);
            Weights other = Weights.random(TEACHER, m, 2, DataType.FLOAT32);
            assertTrue(d.validate(other, data(1), 2, 4, 0, 0).klToTeacher() > 1e-4);
        }
    }

    @Test
    void validatesTheStudentOncePerValidationStepAndReturnsWhatItLogs() {
        TrainConfig tc = TrainConfig.builder().steps(4).batchSize(4).seqLen(16).lr(3e-3).minLr(3e-4).warmupSteps(1)
                .evalEvery(2).evalBatches(2).checkpointEvery(2).seed(7).build();
        java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
        BatchSource rows = data(3);
        BatchSource val = new BatchSource() { // counts the validation batches read
            @Override
            public long[][] batch(long index, int batchSize) {
                reads.incrementAndGet();
                return rows.batch(index, batchSize);
            }

            @Override
            public int seqLen() {
                return rows.seqLen();
            }

            @Override
            public long size() {
                return rows.size();
            }
        };
        Path out = tmp.resolve("once");
        try (NDManager m = NDManager.newBaseManager()) {
            Weights t = teacher(m);
            Pruner.Pruned s = shallowStudent(t);
            Distiller d = new Distiller(TEACHER, t, s.config(), Distiller.Options.forwardKl());
            List<Distiller.Validation> log = d.run(s.weights(), tc, data(2), val, out, null);
            assertEquals(2, log.size(), "validations at steps 2 and 4");
            assertEquals(2 * 2, reads.get(), "each validation step reads its 2 batches once");
            assertEquals(log, Distiller.read(ArrowIo.read(out.resolve("distill_metrics.arrow"))));
            var valLoss = ArrowIo.read(out.resolve("metrics.arrow")).doubleColumn("val_loss");
            assertEquals(log.get(0).valLoss(), valLoss.getDouble(1), "the loop's metrics hold the same validation loss");
            assertEquals(log.get(1).valLoss(), valLoss.getDouble(3));
            // a finished run opened again returns its whole log without validating again
            assertEquals(log, d.run(s.weights(), tc, data(2), val, out, null));
            assertEquals(2 * 2, reads.get());
        }
    }
}
