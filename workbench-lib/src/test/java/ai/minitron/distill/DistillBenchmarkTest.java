package ai.minitron.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.model.Weights;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The distillation benchmark counts FLOPs by hand-checkable formula and really trains; no timing is asserted. */
class DistillBenchmarkTest {
    @Test
    void forwardFlopsMatchAHandCount() {
        // STUDENT: per layer q 512 + k 256 + v 256 + o 512 and MLP 3 x 512 weights; lm_head (tied) 640.
        double matmulWeights = 2 * 1536 + 2 * 1536 + 640;
        double perToken = 2 * matmulWeights;
        double attention = 2 * 2 * 2 * 25 * 4 * 8; // QK^T and PV: 2 products x 2 flops x L x T^2 x heads x head_dim
        assertEquals(2 * (perToken * 5 + attention), DistillBenchmark.forwardFlops(IntermediateLossTest.STUDENT, 2, 5));
    }

    @Test
    void runsRealDistillationStepsAndSamplesMemory() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights t = Weights.random(IntermediateLossTest.TEACHER, m, 1, DataType.FLOAT32);
            Weights s = Weights.random(IntermediateLossTest.STUDENT, m, 2, DataType.FLOAT32);
            float[] before = s.get("model.layers.1.mlp.up_proj.weight").toFloatArray();
            var is = new IntermediateLoss.Config(IntermediateLoss.Kind.MSE, IntermediateLoss.defaultMap(3, 2), true, 0,
                    true);
            Distiller d = new Distiller(IntermediateLossTest.TEACHER, t, IntermediateLossTest.STUDENT,
                    Distiller.Options.forwardKl().withIntermediate(is));
            DistillBenchmark.Result r = DistillBenchmark.run(d, IntermediateLossTest.TEACHER, IntermediateLossTest.STUDENT,
                    s, 2, 8, 1, 6, 50.0);
            assertEquals(6, r.stepSeconds().length);
            assertTrue(Arrays.stream(r.stepSeconds()).allMatch(x -> x > 0));
            assertEquals(DistillBenchmark.forwardFlops(IntermediateLossTest.TEACHER, 2, 8)
                    + 3 * DistillBenchmark.forwardFlops(IntermediateLossTest.STUDENT, 2, 8), r.flopsPerStep());
            assertEquals(r.gflops() / 50.0, r.fractionOfMatmul(), 1e-12);
            assertEquals(6, r.rssMb().length, "RSS sampled after every timed step (Linux)");
            assertEquals(6, r.mallocMb().length, "native memory in use sampled after every timed step (glibc)");
            assertTrue(r.mallocMb()[0] > 0);
            assertTrue(r.liveArrays()[0] > 0);
            assertEquals(r.liveArrays()[0], r.liveArrays()[5], "no array outlives its step (IS loss and projection included)");
            assertFalse(Arrays.equals(before, s.get("model.layers.1.mlp.up_proj.weight").toFloatArray()),
                    "the benchmark trains the student");
            assertTrue(r.toString().contains("of matmul"), r.toString());
        }
    }
}
