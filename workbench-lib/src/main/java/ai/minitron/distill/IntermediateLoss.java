package ai.minitron.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.Scalars;
import ai.minitron.model.Weights;
import ai.minitron.tap.Site;
import ai.minitron.tap.Taps;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Intermediate-state distillation loss L_is of Minitron (arXiv 2407.14679 §3, "Retraining with
 * distillation"): the student's hidden states at chosen layers are pulled towards the teacher's at
 * mapped layers,
 *
 * <pre>
 *   L_is = 1/|H| Σ_{(t, s) ∈ H} loss(h_s^student W^T, h_t^teacher)        W: [H_teacher, H_student]
 * </pre>
 *
 * through ONE learned linear projection W shared by every pair (the student may be narrower than the
 * teacher after hidden-channel pruning), with loss = cosine distance (1 − cos, averaged over tokens)
 * or mean squared error (averaged over tokens and teacher channels).
 *
 * <p>The hidden state of layer l is taken POST-NORM: the output of layer l as the next computation
 * reads it, i.e. the next layer's input_layernorm output (tap {@link Site#INPUT_NORM_OUT} of layer
 * l + 1), or the final norm's output ({@link Site#FINAL_NORM_OUT}) for the last layer. Normalised
 * states have a comparable scale in both models, so an MSE is meaningful, and they are what lm_head or
 * the next block actually consumes. The optional embedding loss compares the embedding output the same
 * way (the input_layernorm output of layer 0) as one more pair.
 *
 * <p>Default layer map ({@link #defaultMap}): the paper distils the last layers and maps them
 * depth-proportionally when depth is pruned; we take the student's last min(4, L_s) layers and map
 * student layer s to teacher layer round((s + 1) · L_t / L_s) − 1, so the last layer maps to the last
 * layer, an unpruned depth maps layer to layer, and a halved depth maps s to 2s + 1.
 *
 * <p>α is fixed, or dynamic: α = L_logits / L_is computed from detached values, so α·L_is has the
 * logit loss's magnitude while its gradient is α ∇L_is (the paper's choice).
 */
public final class IntermediateLoss {
    /** Name of the shared projection inside its auxiliary {@link Weights} (never exported with the student). */
    public static final String PROJECTION = "distill.is_projection.weight";

    /** Layers to map by default: the student's last {@value}. */
    public static final int DEFAULT_MAPPED_LAYERS = 4;

    /** The per-pair distance. */
    public enum Kind {
        COSINE,
        MSE
    }

    /** One mapped pair of layers (0-based). */
    public record LayerPair(int teacher, int student) implements java.io.Serializable {}

    /**
     * @param map teacher layer -> student layer pairs
     * @param embedding also compare the embedding outputs
     * @param weight α when fixed; ignored when {@code dynamic}
     * @param dynamic α = L_logits / L_is (detached) at every step
     */
    public record Config(Kind kind, List<LayerPair> map, boolean embedding, double weight, boolean dynamic)
            implements java.io.Serializable {
        public Config {
            map = List.copyOf(map);
            if (map.isEmpty() && !embedding) {
                throw new IllegalArgumentException("the intermediate-state loss needs a layer map or the embedding loss");
            }
            if (!dynamic && !(weight >= 0 && Double.isFinite(weight))) {
                throw new IllegalArgumentException("intermediate-state weight must be >= 0 or 'dynamic', got " + weight);
            }
        }

        /** Checks the map against the two depths. */
        public void check(ModelConfig teacher, ModelConfig student) {
            for (LayerPair p : map) {
                if (p.teacher() < 0 || p.teacher() >= teacher.numHiddenLayers()) {
                    throw new IllegalArgumentException("layer map " + p.teacher() + ":" + p.student()
                            + ": teacher layer out of range (the teacher has " + teacher.numHiddenLayers() + " layers)");
                }
                if (p.student() < 0 || p.student() >= student.numHiddenLayers()) {
                    throw new IllegalArgumentException("layer map " + p.teacher() + ":" + p.student()
                            + ": student layer out of range (the student has " + student.numHiddenLayers() + " layers)");
                }
            }
        }
    }

    private IntermediateLoss() {}

    /** The default map (see the class comment): the student's last layers, depth-proportional. */
    public static List<LayerPair> defaultMap(int teacherLayers, int studentLayers) {
        List<LayerPair> out = new ArrayList<>();
        for (int s = Math.max(0, studentLayers - DEFAULT_MAPPED_LAYERS); s < studentLayers; s++) {
            int t = (int) Math.round((s + 1) * (double) teacherLayers / studentLayers) - 1;
            out.add(new LayerPair(Math.max(0, Math.min(teacherLayers - 1, t)), s));
        }
        return out;
    }

    /** Parses "7:7,6:5" (teacher:student pairs). */
    public static List<LayerPair> parseMap(String spec) {
        List<LayerPair> out = new ArrayList<>();
        for (String part : spec.split(",")) {
            String[] ts = part.trim().split(":");
            try {
                if (ts.length != 2) {
                    throw new NumberFormatException();
                }
                out.add(new LayerPair(Integer.parseInt(ts[0].trim()), Integer.parseInt(ts[1].trim())));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--layer-map: '" + part + "' is not TEACHER:STUDENT (e.g. 7:7,6:5)");
            }
        }
        return out;
    }

    /** Parses "cosine" / "mse". */
    public static Kind parseKind(String s) {
        try {
            return Kind.valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--is-loss: '" + s + "' is not cosine or mse");
        }
    }

    /**
     * A new projection [H_teacher, H_student], initialised to the rectangular identity (so with equal
     * widths the student's states are compared as they are), in its own auxiliary weights.
     */
    public static Weights newProjection(NDManager parent, int studentHidden, int teacherHidden, DataType dtype) {
        Weights w = Weights.empty(parent);
        float[] eye = new float[teacherHidden * studentHidden];
        for (int i = 0; i < Math.min(teacherHidden, studentHidden); i++) {
            eye[i * studentHidden + i] = 1f;
        }
        NDArray a = w.manager().create(eye, new Shape(teacherHidden, studentHidden));
        w.put(PROJECTION, dtype == DataType.FLOAT32 ? a : a.toType(dtype, false));
        return w;
    }

    /** A forward pass's logits [B, T, V] and post-norm states [B, T, H] by layer (−1 = embedding). */
    public record Capture(NDArray logits, Map<Integer, NDArray> states) {}

    /**
     * Runs the model once, keeping the post-norm states of {@code layers} (and of the embedding when
     * asked). The kept arrays are the forward's own intermediates (gradients flow through them); they
     * live as long as the scope the forward runs in.
     */
    public static Capture forward(ModelConfig c, Weights w, NDArray ids, Iterable<Integer> layers, boolean embedding) {
        Map<Integer, NDArray> states = new LinkedHashMap<>();
        TreeSet<Integer> wanted = new TreeSet<>();
        layers.forEach(wanted::add);
        int last = c.numHiddenLayers() - 1;
        Taps taps = new Taps();
        taps.on(Site.INPUT_NORM_OUT, (site, l, v) -> {
            if (l == 0 && embedding) {
                states.put(-1, v);
            }
            if (l > 0 && wanted.contains(l - 1)) {
                states.put(l - 1, v);
            }
        });
        if (wanted.contains(last)) {
            taps.on(Site.FINAL_NORM_OUT, (site, l, v) -> states.put(last, v));
        }
        NDArray logits = DecoderLM.forward(c, w, ids, null, null, taps);
        return new Capture(logits, states);
    }

    /** Per-pair distance between projected student states [B, T, H_t] and teacher states [B, T, H_t] -> scalar. */
    public static NDArray distance(Kind kind, NDArray projectedStudent, NDArray teacher) {
        return switch (kind) {
            case MSE -> projectedStudent.sub(teacher).square().mean();
            case COSINE -> {
                NDArray dot = projectedStudent.mul(teacher).sum(new int[] {-1}); // [B,T]
                // eps inside the sqrt: d sqrt(x)/dx is infinite at 0, which would turn a zero state into NaN gradients
                NDArray ns = projectedStudent.square().sum(new int[] {-1}).add(1e-16).sqrt();
                NDArray nt = teacher.square().sum(new int[] {-1}).add(1e-16).sqrt();
                yield dot.div(Scalars.maximum(ns.mul(nt), 1e-8)).neg().add(1).mean();
            }
        };
    }

    /**
     * L_is: the mean over mapped pairs (and the embedding pair) of the distance between the projected
     * student state and the teacher state -> scalar.
     */
    public static NDArray loss(Config cfg, Capture teacher, Capture student, Weights projection) {
        NDArray w = projection.get(PROJECTION); // [H_t, H_s]
        NDArray sum = null;
        int n = 0;
        List<LayerPair> pairs = new ArrayList<>(cfg.map());
        if (cfg.embedding()) {
            pairs.add(new LayerPair(-1, -1));
        }
        for (LayerPair p : pairs) {
            NDArray t = teacher.states().get(p.teacher());
            NDArray s = student.states().get(p.student());
            if (t == null || s == null) {
                throw new IllegalStateException("no hidden state captured for pair " + p);
            }
            NDArray d = distance(cfg.kind(), Weights.linear(s, w, null), t.stopGradient());
            sum = sum == null ? d : sum.add(d);
            n++;
        }
        return Scalars.div(sum, n);
    }

    /** The teacher layers a config needs. */
    public static List<Integer> teacherLayers(Config cfg) {
        return cfg.map().stream().map(LayerPair::teacher).toList();
    }

    /** The student layers a config needs. */
    public static List<Integer> studentLayers(Config cfg) {
        return cfg.map().stream().map(LayerPair::student).toList();
    }

    /** Dynamic α = L_logits / L_is from detached values (a constant: carries no gradient). */
    public static NDArray dynamicAlpha(NDArray logitLoss, NDArray isLoss) {
        return logitLoss.stopGradient().div(Scalars.maximum(isLoss.stopGradient(), 1e-12));
    }
}
