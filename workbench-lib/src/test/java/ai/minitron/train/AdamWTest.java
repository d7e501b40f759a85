package ai.minitron.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import ai.minitron.model.Weights;
import org.junit.jupiter.api.Test;

/** AdamW against a hand-computed reference (the update rule written out in doubles). */
class AdamWTest {
    @Test
    void threeStepsMatchHandComputedReference() {
        double lr = 0.01;
        AdamW.Hyper h = new AdamW.Hyper(0.9, 0.95, 1e-8, 0.1);
        float[] p0 = {0.5f, -1.0f, 2.0f, 0.25f};
        float[] b0 = {0.1f, -0.2f};
        double[][] grads = {{1, -2, 0.5, 0}, {0.3, 0.3, -1, 4}, {-0.7, 1e-3, 2, -2}};
        double[][] bgrads = {{1, -1}, {0.5, 2}, {-3, 0.1}};
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.empty(m);
            w.put("proj.weight", m.create(p0, new ai.djl.ndarray.types.Shape(2, 2)));
            w.put("norm.weight", m.create(b0));
            w.setRequiresGradient(true);
            AdamW opt = new AdamW(h);
            for (double[] g : grads) {
                int s = java.util.Arrays.asList(grads).indexOf(g);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray lossW = w.get("proj.weight").mul(m.create(toF(g), new ai.djl.ndarray.types.Shape(2, 2))).sum();
                    NDArray lossB = w.get("norm.weight").mul(m.create(toF(bgrads[s]))).sum();
                    gc.backward(lossW.add(lossB));
                }
                opt.step(w, lr);
                GradClip.zero(w);
            }
            double[] expW = reference(p0, grads, lr, h, true);
            double[] expB = reference(b0, bgrads, lr, h, false);
            float[] gotW = w.get("proj.weight").toFloatArray();
            float[] gotB = w.get("norm.weight").toFloatArray();
            for (int i = 0; i < 4; i++) {
                assertEquals(expW[i], gotW[i], 1e-6, "weight " + i);
            }
            for (int i = 0; i < 2; i++) {
                assertEquals(expB[i], gotB[i], 1e-6, "vector (no decay) " + i);
            }
            assertEquals(3, opt.stepCount());
        }
    }

    /** torch.optim.AdamW's update, written out. */
    static double[] reference(float[] init, double[][] grads, double lr, AdamW.Hyper h, boolean decay) {
        double[] p = new double[init.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = init[i];
        }
        double[] m = new double[p.length];
        double[] v = new double[p.length];
        for (int t = 1; t <= grads.length; t++) {
            for (int i = 0; i < p.length; i++) {
                double g = grads[t - 1][i];
                m[i] = h.beta1() * m[i] + (1 - h.beta1()) * g;
                v[i] = h.beta2() * v[i] + (1 - h.beta2()) * g * g;
                if (decay) {
                    p[i] *= 1 - lr * h.weightDecay();
                }
                double mhat = m[i] / (1 - Math.pow(h.beta1(), t));
                double vhat = v[i] / (1 - Math.pow(h.beta2(), t));
                p[i] -= lr * mhat / (Math.sqrt(vhat) + h.eps());
            }
        }
        return p;
    }

    private static float[] toF(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    @Test
    void scheduleWarmsUpThenFollowsCosine() {
        LrSchedule s = new LrSchedule(1.0, 0.1, 10, 110);
        assertEquals(0.1, s.at(0), 1e-12);
        assertEquals(1.0, s.at(9), 1e-12);
        assertEquals(1.0, s.at(10), 1e-12);
        assertEquals(0.55, s.at(60), 1e-12);
        assertEquals(0.1, s.at(110), 1e-12);
        assertEquals(0.1, s.at(500), 1e-12);
    }
}
