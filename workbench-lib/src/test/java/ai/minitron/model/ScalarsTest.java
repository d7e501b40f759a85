package ai.minitron.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * The gradient through array-with-number arithmetic survives a garbage collection between the forward
 * and the backward pass (see {@link Scalars} for the DJL hazard this guards against).
 */
class ScalarsTest {
    /** Frees every unreachable Java direct buffer and refills the freed native memory with junk. */
    private static void collectAndScribble() throws InterruptedException {
        System.gc();
        Thread.sleep(20);
        List<ByteBuffer> junk = new ArrayList<>();
        for (int j = 0; j < 2000; j++) {
            ByteBuffer b = ByteBuffer.allocateDirect(4 + j % 8);
            while (b.hasRemaining()) {
                b.put((byte) 0x7f);
            }
            junk.add(b);
        }
    }

    /** d/dx sum(op(x)) at x = [1, 2, 3] with a GC between forward and backward, 10 times. */
    private static float[][] gradients(BiFunction<NDArray, Double, NDArray> op, double v) throws Exception {
        float[][] out = new float[10][];
        try (NDManager m = NDManager.newBaseManager()) {
            for (int i = 0; i < out.length; i++) {
                NDArray x = m.create(new float[] {1, 2, 3});
                x.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray y = op.apply(x, v).sum();
                    collectAndScribble();
                    gc.backward(y);
                    out[i] = x.getGradient().toFloatArray();
                }
            }
        }
        return out;
    }

    @Test
    void gradientsThroughScalarOpsSurviveAGarbageCollection() throws Exception {
        for (float[] g : gradients(Scalars::mul, 3.0)) {
            assertArrayEquals(new float[] {3, 3, 3}, g, "d(3x)/dx");
        }
        for (float[] g : gradients(Scalars::div, 4.0)) {
            assertArrayEquals(new float[] {0.25f, 0.25f, 0.25f}, g, "d(x/4)/dx");
        }
        for (float[] g : gradients(Scalars::maximum, 2.5)) {
            assertArrayEquals(new float[] {0, 0, 1}, g, "d max(x, 2.5)/dx");
        }
        for (float[] g : gradients(Scalars::minimum, 2.5)) {
            assertArrayEquals(new float[] {1, 1, 0}, g, "d min(x, 2.5)/dx");
        }
        for (float[] g : gradients(Scalars::pow, 2.0)) {
            assertArrayEquals(new float[] {2, 4, 6}, g, 1e-6f, "d x^2/dx");
        }
    }

    @Test
    void scalarsTakeTheArraysDtype() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray d = m.create(new double[] {1.5});
            assertEquals(DataType.FLOAT64, Scalars.mul(d, 1.0 / 3).getDataType());
            assertEquals(0.5, Scalars.mul(d, 1.0 / 3).getDouble(0), 1e-15, "no float32 rounding of the number");
            NDArray i = m.create(new long[] {-2, 5});
            assertArrayEquals(new long[] {0, 5}, Scalars.maximum(i, 0).toLongArray());
        }
    }
}
