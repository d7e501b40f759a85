package ai.minitron.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Each divergence against its formula written out in doubles, zero at equality, and its gradient. */
class KdLossTest {
    static final int V = 7;

    static double[] randomLogits(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (r.nextDouble() - 0.5) * 6;
        }
        return v;
    }

    static double[] softmax(double[] z, double tau) {
        double max = Double.NEGATIVE_INFINITY;
        for (double x : z) {
            max = Math.max(max, x / tau);
        }
        double sum = 0;
        double[] p = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            p[i] = Math.exp(z[i] / tau - max);
            sum += p[i];
        }
        for (int i = 0; i < z.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    static double kl(double[] p, double[] q) {
        double s = 0;
        for (int i = 0; i < p.length; i++) {
            s += p[i] * Math.log(p[i] / q[i]);
        }
        return s;
    }

    static double value(NDManager m, KdLoss.Config c, double[] t, double[] s) {
        NDArray tl = m.create(t, new Shape(1, 1, V));
        NDArray sl = m.create(s, new Shape(1, 1, V));
        return KdLoss.mean(KdLoss.perToken(c, tl, sl), null).getDouble();
    }

    @Test
    void everyDivergenceMatchesItsFormula() {
        double[] t = randomLogits(1, V);
        double[] s = randomLogits(2, V);
        double tau = 2.0;
        double[] p = softmax(t, tau);
        double[] q = softmax(s, tau);
        try (NDManager m = NDManager.newBaseManager()) {
            assertEquals(tau * tau * kl(p, q), value(m, new KdLoss.Config(KdLoss.Kind.FORWARD_KL, tau, 0.5, 0), t, s), 1e-12);
            assertEquals(tau * tau * kl(q, p), value(m, new KdLoss.Config(KdLoss.Kind.REVERSE_KL, tau, 0.5, 0), t, s), 1e-12);
            double beta = 0.3;
            double[] mix = new double[V];
            double tv = 0;
            for (int i = 0; i < V; i++) {
                mix[i] = beta * p[i] + (1 - beta) * q[i];
                tv += 0.5 * Math.abs(p[i] - q[i]);
            }
            assertEquals(beta * kl(p, mix) + (1 - beta) * kl(q, mix),
                    value(m, new KdLoss.Config(KdLoss.Kind.JSD, tau, beta, 0), t, s), 1e-12);
            assertEquals(tv, value(m, new KdLoss.Config(KdLoss.Kind.TV, tau, 0.5, 0), t, s), 1e-12);
            // Top-k: k buckets of the teacher's most likely tokens plus the rest.
            int k = 3;
            Integer[] order = java.util.stream.IntStream.range(0, V).boxed()
                    .sorted((a, b) -> Double.compare(t[b], t[a])).toArray(Integer[]::new);
            double pr = 1;
            double qr = 1;
            double top = 0;
            for (int j = 0; j < k; j++) {
                int i = order[j];
                top += p[i] * Math.log(p[i] / q[i]);
                pr -= p[i];
                qr -= q[i];
            }
            double expected = tau * tau * (top + pr * Math.log(pr / qr));
            assertEquals(expected, value(m, new KdLoss.Config(KdLoss.Kind.TOP_K_KL, tau, 0.5, k), t, s), 1e-9);
            // With k = V the top-k KL is the full forward KL.
            assertEquals(tau * tau * kl(p, q), value(m, new KdLoss.Config(KdLoss.Kind.TOP_K_KL, tau, 0.5, V), t, s), 1e-9);
        }
    }

    @Test
    void everyDivergenceIsZeroWhenStudentEqualsTeacher() {
        double[] t = randomLogits(3, V);
        try (NDManager m = NDManager.newBaseManager()) {
            for (KdLoss.Kind kind : new KdLoss.Kind[] {KdLoss.Kind.FORWARD_KL, KdLoss.Kind.REVERSE_KL, KdLoss.Kind.JSD,
                    KdLoss.Kind.TV, KdLoss.Kind.TOP_K_KL}) {
                assertEquals(0, value(m, new KdLoss.Config(kind, 1.5, 0.5, 2), t, t), 1e-12, kind.toString());
            }
        }
    }

    @Test
    void forwardKlGradientMatchesFiniteDifferences() {
        double[] t = randomLogits(4, V);
        double[] s = randomLogits(5, V);
        KdLoss.Config c = new KdLoss.Config(KdLoss.Kind.FORWARD_KL, 2.0, 0.5, 0);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray sl = m.create(s, new Shape(1, 1, V));
            sl.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(KdLoss.mean(KdLoss.perToken(c, m.create(t, new Shape(1, 1, V)), sl), null));
            }
            double[] g = sl.getGradient().toDoubleArray();
            for (int i = 0; i < V; i++) {
                double h = 1e-6;
                double[] plus = s.clone();
                plus[i] += h;
                double[] minus = s.clone();
                minus[i] -= h;
                double fd = (value(m, c, t, plus) - value(m, c, t, minus)) / (2 * h);
                assertEquals(fd, g[i], 1e-7, "d/dz_" + i);
            }
        }
    }

    @Test
    void badOptionsAreNamed() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new KdLoss.Config(KdLoss.Kind.JSD, 1, 1.5, 0))
                .getMessage().contains("beta"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new KdLoss.Config(KdLoss.Kind.FORWARD_KL, 0, 0.5, 0))
                .getMessage().contains("temperature"));
    }

    /**
     * The chunked forward KL ({@link KdLoss#forwardKlMean}) equals the unchunked formula in value and in its
     * gradient with respect to the student's logits, at τ = 2, over chunks that do not divide the token count
     * (3 rows of 10), a single chunk, and one row per chunk; and the gradient equals the closed form τ (q − p) / N.
     */
    @Test
    void chunkedForwardKlEqualsTheUnchunkedLossAndGradient() {
        int b = 2;
        int t = 5;
        int v = 11;
        double tau = 2.0;
        double[] tz = randomLogits(11, b * t * v);
        double[] sz = randomLogits(12, b * t * v);
        try (NDManager m = NDManager.newBaseManager()) {
            double[] ref = lossAndGradient(m, tz, sz, b, t, v, -1, tau);
            for (int chunk : new int[] {3, 10, 1, 64}) {
                double[] got = lossAndGradient(m, tz, sz, b, t, v, chunk, tau);
                assertEquals(ref[0], got[0], 1e-12, "value, chunk " + chunk);
                for (int i = 1; i < ref.length; i++) {
                    assertEquals(ref[i], got[i], 1e-12, "gradient element " + (i - 1) + ", chunk " + chunk);
                }
            }
            // closed form of the gradient, row by row in doubles
            for (int r = 0; r < b * t; r++) {
                double[] p = softmax(java.util.Arrays.copyOfRange(tz, r * v, (r + 1) * v), tau);
                double[] q = softmax(java.util.Arrays.copyOfRange(sz, r * v, (r + 1) * v), tau);
                for (int j = 0; j < v; j++) {
                    assertEquals(tau * (q[j] - p[j]) / (b * t), ref[1 + r * v + j], 1e-12);
                }
            }
            assertTrue(ref[0] > 0);
        }
    }

    /** {value, d value / d student logits...} of the forward KL mean; chunk < 0 = the unchunked perToken formula. */
    private static double[] lossAndGradient(NDManager m, double[] tz, double[] sz, int b, int t, int v, int chunk,
            double tau) {
        NDArray tl = m.create(tz, new Shape(b, t, v));
        NDArray sl = m.create(sz, new Shape(b, t, v));
        sl.setRequiresGradient(true);
        double value;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray loss = chunk < 0 ? KdLoss.mean(KdLoss.perToken(KdLoss.Config.forwardKl(tau), tl, sl), null)
                    : KdLoss.forwardKlMean(tl, sl, tau, chunk);
            value = loss.getDouble();
            gc.backward(loss);
        }
        double[] g = sl.getGradient().toDoubleArray();
        double[] out = new double[1 + g.length];
        out[0] = value;
        System.arraycopy(g, 0, out, 1, g.length);
        return out;
    }
}
