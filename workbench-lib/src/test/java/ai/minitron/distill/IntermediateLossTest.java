package ai.minitron.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.Weights;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The intermediate-state loss: hand-computed values, finite-difference gradients, invariants, dynamic α. */
class IntermediateLossTest {
    static final ModelConfig TEACHER = ModelConfig.builder(Architecture.LLAMA).vocabSize(40).hiddenSize(24)
            .intermediateSize(48).numHiddenLayers(3).numAttentionHeads(4).numKeyValueHeads(2).headDim(8)
            .maxPositionEmbeddings(64).normEps(1e-5).tieWordEmbeddings(true).build();
    static final ModelConfig STUDENT = ModelConfig.builder(Architecture.LLAMA).vocabSize(40).hiddenSize(16)
            .intermediateSize(32).numHiddenLayers(2).numAttentionHeads(4).numKeyValueHeads(2).headDim(8)
            .maxPositionEmbeddings(64).normEps(1e-5).tieWordEmbeddings(true).build();

    @Test
    void cosineAndMseMatchHandComputedValues() {
        try (NDManager m = NDManager.newBaseManager()) {
            // Two tokens of width 2: projected student (1,0),(0,2); teacher (1,1),(0,1).
            NDArray s = m.create(new double[] {1, 0, 0, 2}, new Shape(1, 2, 2));
            NDArray t = m.create(new double[] {1, 1, 0, 1}, new Shape(1, 2, 2));
            // cos = 1/√2 and 1 -> mean(1 − cos) = (1 − 1/√2) / 2
            assertEquals((1 - 1 / Math.sqrt(2)) / 2, IntermediateLoss.distance(IntermediateLoss.Kind.COSINE, s, t)
                    .getDouble(), 1e-12);
            // squared errors 0,1,0,1 -> mean 0.5
            assertEquals(0.5, IntermediateLoss.distance(IntermediateLoss.Kind.MSE, s, t).getDouble(), 1e-12);
        }
    }

    @Test
    void lossProjectsTheStudentAndAveragesOverPairs() {
        try (NDManager m = NDManager.newBaseManager()) {
            // Student states width 2, teacher width 3; W [3, 2].
            double[] w = {1, 2, 0, 1, -1, 0.5};
            Weights proj = Weights.empty(m);
            proj.put(IntermediateLoss.PROJECTION, m.create(w, new Shape(3, 2)));
            double[] s1 = {0.5, -1};
            double[] s2 = {2, 1};
            double[] t1 = {1, 0, 2};
            double[] t2 = {-1, 1, 1};
            IntermediateLoss.Capture st = new IntermediateLoss.Capture(null,
                    Map.of(0, m.create(s1, new Shape(1, 1, 2)), 1, m.create(s2, new Shape(1, 1, 2))));
            IntermediateLoss.Capture te = new IntermediateLoss.Capture(null,
                    Map.of(2, m.create(t1, new Shape(1, 1, 3)), 5, m.create(t2, new Shape(1, 1, 3))));
            List<IntermediateLoss.LayerPair> map = List.of(new IntermediateLoss.LayerPair(2, 0),
                    new IntermediateLoss.LayerPair(5, 1));
            double[] p1 = project(w, s1);
            double[] p2 = project(w, s2);
            double mse = (mse(p1, t1) + mse(p2, t2)) / 2;
            double cos = ((1 - cos(p1, t1)) + (1 - cos(p2, t2))) / 2;
            assertEquals(mse, IntermediateLoss.loss(new IntermediateLoss.Config(IntermediateLoss.Kind.MSE, map, false, 1,
                    false), te, st, proj).getDouble(), 1e-12);
            assertEquals(cos, IntermediateLoss.loss(new IntermediateLoss.Config(IntermediateLoss.Kind.COSINE, map, false,
                    1, false), te, st, proj).getDouble(), 1e-12);
        }
    }

    static double[] project(double[] w, double[] s) {
        int out = w.length / s.length;
        double[] y = new double[out];
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < s.length; j++) {
                y[i] += w[i * s.length + j] * s[j];
            }
        }
        return y;
    }

    static double mse(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - b[i]) * (a[i] - b[i]);
        }
        return s / a.length;
    }

    static double cos(double[] a, double[] b) {
        double d = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            d += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return d / Math.sqrt(na * nb);
    }

    @Test
    void defaultMapTakesTheLastLayersDepthProportionally() {
        assertEquals(List.of(new IntermediateLoss.LayerPair(4, 4), new IntermediateLoss.LayerPair(5, 5),
                new IntermediateLoss.LayerPair(6, 6), new IntermediateLoss.LayerPair(7, 7)),
                IntermediateLoss.defaultMap(8, 8));
        assertEquals(List.of(new IntermediateLoss.LayerPair(1, 0), new IntermediateLoss.LayerPair(3, 1),
                new IntermediateLoss.LayerPair(5, 2), new IntermediateLoss.LayerPair(7, 3)),
                IntermediateLoss.defaultMap(8, 4));
        assertEquals(List.of(new IntermediateLoss.LayerPair(1, 0), new IntermediateLoss.LayerPair(2, 1)),
                IntermediateLoss.defaultMap(3, 2));
        assertEquals(List.of(new IntermediateLoss.LayerPair(7, 7), new IntermediateLoss.LayerPair(6, 5)),
                IntermediateLoss.parseMap("7:7, 6:5"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> IntermediateLoss.parseMap("7-7"))
                .getMessage().contains("--layer-map"));
        var cfg = new IntermediateLoss.Config(IntermediateLoss.Kind.COSINE, IntermediateLoss.parseMap("2:2"), false, 1,
                false);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> cfg.check(TEACHER, STUDENT)).getMessage()
                .contains("student layer out of range"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> IntermediateLoss.parseKind("l1")).getMessage()
                .contains("--is-loss"));
    }

    @Test
    void cosineLossIsZeroWhenTheStudentIsTheTeacherThroughTheIdentity() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights t = Weights.random(TEACHER, m, 3, DataType.FLOAT32);
            var is = new IntermediateLoss.Config(IntermediateLoss.Kind.COSINE, IntermediateLoss.defaultMap(3, 3), true, 1,
                    false);
            Distiller d = new Distiller(TEACHER, t, TEACHER, Distiller.Options.forwardKl().withIntermediate(is));
            NDArray[] io = batch(m, 11, 2, 6);
            Distiller.Terms terms = d.terms(t, d.projection(t), io[0], io[1]);
            assertEquals(0, terms.intermediate().getFloat(), 1e-6);
            assertEquals(0, terms.logits().getFloat(), 1e-6);
            // A different student is not at zero.
            Weights other = Weights.random(TEACHER, m, 4, DataType.FLOAT32);
            assertTrue(d.terms(other, d.projection(t), io[0], io[1]).intermediate().getFloat() > 0.05);
        }
    }

    static NDArray[] batch(NDManager m, long seed, int b, int t) {
        SplittableRandom r = new SplittableRandom(seed);
        long[][] in = new long[b][t];
        long[][] tg = new long[b][t];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                in[i][j] = r.nextInt(40);
                tg[i][j] = r.nextInt(40);
            }
        }
        return new NDArray[] {m.create(in), m.create(tg)};
    }

    /** Random non-identity weights in float64 (random init leaves most layers near the identity). */
    static Weights perturbed(ModelConfig c, NDManager m, long seed) {
        Weights w = Weights.random(c, m, seed, DataType.FLOAT64);
        SplittableRandom r = new SplittableRandom(seed + 100);
        for (String n : new java.util.ArrayList<>(w.names())) {
            double[] v = w.get(n).toDoubleArray();
            for (int i = 0; i < v.length; i++) {
                v[i] += (r.nextDouble() - 0.5) * 0.4;
            }
            w.put(n, m.create(v, w.get(n).getShape()));
        }
        return w;
    }

    @Test
    void gradientsMatchFiniteDifferencesForStudentAndProjection() {
        for (IntermediateLoss.Kind kind : IntermediateLoss.Kind.values()) {
            try (NDManager m = NDManager.newBaseManager()) {
                Weights t = perturbed(TEACHER, m, 1);
                Weights s = perturbed(STUDENT, m, 2);
                var is = new IntermediateLoss.Config(kind, IntermediateLoss.parseMap("1:0,2:1"), true, 0.7, false);
                Distiller d = new Distiller(TEACHER, t, STUDENT,
                        new Distiller.Options(KdLoss.Config.forwardKl(2.0), 1.0, 0.3, false, is));
                Weights proj = d.projection(s);
                // A non-trivial projection.
                double[] pv = proj.get(IntermediateLoss.PROJECTION).toDoubleArray();
                SplittableRandom r = new SplittableRandom(9);
                for (int i = 0; i < pv.length; i++) {
                    pv[i] += (r.nextDouble() - 0.5) * 0.5;
                }
                proj.put(IntermediateLoss.PROJECTION, m.create(pv, new Shape(24, 16)));
                assertEquals(DataType.FLOAT64, proj.get(IntermediateLoss.PROJECTION).getDataType());
                NDArray[] io = batch(m, 5, 2, 5);
                s.setRequiresGradient(true);
                proj.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    Distiller.Terms terms = d.terms(s, proj, io[0], io[1]);
                    assertTrue(terms.intermediate().getDouble() > 0);
                    gc.backward(terms.total());
                }
                checkFd(d, s, proj, s, "model.layers.0.self_attn.q_proj.weight", io, m, kind);
                checkFd(d, s, proj, s, "model.layers.1.mlp.down_proj.weight", io, m, kind);
                checkFd(d, s, proj, s, "model.embed_tokens.weight", io, m, kind);
                checkFd(d, s, proj, s, "model.layers.0.post_attention_layernorm.weight", io, m, kind);
                checkFd(d, s, proj, proj, IntermediateLoss.PROJECTION, io, m, kind);
            }
        }
    }

    private static void checkFd(Distiller d, Weights s, Weights proj, Weights owner, String name, NDArray[] io,
            NDManager m, IntermediateLoss.Kind kind) {
        NDArray a = owner.get(name);
        double[] g = a.getGradient().toDoubleArray();
        double[] v0 = a.toDoubleArray();
        Shape shape = a.getShape();
        SplittableRandom r = new SplittableRandom(name.hashCode());
        double h = 1e-6;
        for (int trial = 0; trial < 4; trial++) {
            int i = r.nextInt(v0.length);
            double[] plus = v0.clone();
            plus[i] += h;
            owner.put(name, m.create(plus, shape));
            double lp = d.terms(s, proj, io[0], io[1]).total().getDouble();
            double[] minus = v0.clone();
            minus[i] -= h;
            owner.put(name, m.create(minus, shape));
            double lm = d.terms(s, proj, io[0], io[1]).total().getDouble();
            double fd = (lp - lm) / (2 * h);
            assertEquals(fd, g[i], 1e-6 + 1e-5 * Math.abs(fd), kind + " d/d" + name + "[" + i + "]");
        }
        owner.put(name, m.create(v0, shape));
    }

    @Test
    void dynamicAlphaIsTheRatioAndCarriesNoGradient() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights t = perturbed(TEACHER, m, 1);
            Weights s = perturbed(STUDENT, m, 2);
            NDArray[] io = batch(m, 6, 2, 5);
            var dyn = new IntermediateLoss.Config(IntermediateLoss.Kind.MSE, IntermediateLoss.parseMap("2:1"), false, 0,
                    true);
            Distiller dd = new Distiller(TEACHER, t, STUDENT, Distiller.Options.forwardKl().withIntermediate(dyn));
            Weights proj = dd.projection(s);
            s.setRequiresGradient(true);
            proj.setRequiresGradient(true);
            double alpha;
            double[] gDynamic;
            double[] gProjDynamic;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                Distiller.Terms terms = dd.terms(s, proj, io[0], io[1]);
                double kd = terms.logits().getDouble();
                double is = terms.intermediate().getDouble();
                alpha = terms.alpha().getDouble();
                assertEquals(kd / is, alpha, 1e-12);
                assertEquals(2 * kd, terms.total().getDouble(), 1e-12); // α·L_is has the logit loss's value
                gc.backward(terms.total());
            }
            gDynamic = s.get("model.layers.0.mlp.up_proj.weight").getGradient().toDoubleArray();
            gProjDynamic = proj.get(IntermediateLoss.PROJECTION).getGradient().toDoubleArray();
            // The same loss with α frozen at that value as a fixed weight has the same gradients.
            var fixed = new IntermediateLoss.Config(IntermediateLoss.Kind.MSE, IntermediateLoss.parseMap("2:1"), false,
                    alpha, false);
            Distiller df = new Distiller(TEACHER, t, STUDENT, Distiller.Options.forwardKl().withIntermediate(fixed));
            ai.minitron.train.GradClip.zero(List.of(s, proj));
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(df.terms(s, proj, io[0], io[1]).total());
            }
            double[] gFixed = s.get("model.layers.0.mlp.up_proj.weight").getGradient().toDoubleArray();
            double[] gProjFixed = proj.get(IntermediateLoss.PROJECTION).getGradient().toDoubleArray();
            for (int i = 0; i < gFixed.length; i++) {
                assertEquals(gFixed[i], gDynamic[i], 1e-12, "up_proj grad " + i);
            }
            for (int i = 0; i < gProjFixed.length; i++) {
                assertEquals(gProjFixed[i], gProjDynamic[i], 1e-12, "projection grad " + i);
            }
            assertTrue(assertThrows(IllegalArgumentException.class, () -> new Distiller(TEACHER, t, STUDENT,
                    new Distiller.Options(KdLoss.Config.forwardKl(1), 0, 1, false, dyn))).getMessage().contains("dynamic"));
        }
    }
}
