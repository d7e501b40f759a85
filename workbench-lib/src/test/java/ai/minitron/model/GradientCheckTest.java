package ai.minitron.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.minitron.TestConfigs;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.TensorSchema;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Autograd through the whole forward against central finite differences, in float64, for every
 * weight tensor of two small models that between them use every architectural feature.
 */
class GradientCheckTest {
    static Stream<ModelConfig> configs() {
        return Stream.of(TestConfigs.llamaBiased(), TestConfigs.nemotronTied());
    }

    @ParameterizedTest
    @MethodSource("configs")
    void gradientsMatchFiniteDifferences(ModelConfig c) {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(c, m, 7, DataType.FLOAT64);
            // Random weights of larger scale so norms, biases and the MLP all matter.
            SplittableRandom r = new SplittableRandom(11);
            for (String n : w.names()) {
                NDArray a = w.get(n);
                double[] d = a.toDoubleArray();
                for (int i = 0; i < d.length; i++) {
                    d[i] += (r.nextDouble() - 0.5) * 0.6;
                }
                w.put(n, m.create(d, a.getShape()));
            }
            long[][] tokens = {{1, 5, 3, 7, 2, 0}, {4, 4, 9, 1, 6, 8}};
            long[][] targets = {{5, 3, 7, 2, 0, 9}, {4, 9, 1, 6, 8, 2}};
            NDArray ids = m.create(tokens);
            NDArray tg = m.create(targets);
            NDArray mask = m.create(new long[][] {{1, 1, 1, 1, 1, 1}, {0, 0, 1, 1, 1, 1}});

            w.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = LmLoss.mean(DecoderLM.forward(c, w, ids, mask, null, ai.minitron.tap.Taps.NONE), tg, mask);
                gc.backward(loss);
            }
            int checked = 0;
            for (String n : TensorSchema.expectedShapes(c).keySet()) {
                NDArray param = w.get(n);
                double[] grad = param.getGradient().toDoubleArray();
                double[] base = param.toDoubleArray();
                Shape shape = param.getShape();
                // A few entries per tensor: the largest-gradient one and two random ones.
                int[] picks = {argMaxAbs(grad), r.nextInt(base.length), r.nextInt(base.length)};
                for (int i : picks) {
                    double fd = finiteDifference(c, w, n, base, shape, i, ids, tg, mask, m);
                    double err = Math.abs(fd - grad[i]);
                    assertTrue(err <= 1e-7 + 1e-5 * Math.abs(fd),
                            c.architecture() + " " + n + "[" + i + "]: autograd " + grad[i] + " vs finite difference " + fd);
                    checked++;
                }
                w.put(n, m.create(base, shape)); // restore a clean leaf
            }
            assertTrue(checked >= 3 * TensorSchema.expectedShapes(c).size());
        }
    }

    private static double finiteDifference(ModelConfig c, Weights w, String name, double[] base, Shape shape, int i,
            NDArray ids, NDArray tg, NDArray mask, NDManager m) {
        double h = 1e-6;
        double[] plus = base.clone();
        plus[i] += h;
        double[] minus = base.clone();
        minus[i] -= h;
        w.put(name, m.create(plus, shape));
        double lp = LmLoss.mean(DecoderLM.forward(c, w, ids, mask, null, ai.minitron.tap.Taps.NONE), tg, mask).getDouble();
        w.put(name, m.create(minus, shape));
        double lm = LmLoss.mean(DecoderLM.forward(c, w, ids, mask, null, ai.minitron.tap.Taps.NONE), tg, mask).getDouble();
        return (lp - lm) / (2 * h);
    }

    private static int argMaxAbs(double[] g) {
        int best = 0;
        for (int i = 1; i < g.length; i++) {
            if (Math.abs(g[i]) > Math.abs(g[best])) {
                best = i;
            }
        }
        return best;
    }
}
