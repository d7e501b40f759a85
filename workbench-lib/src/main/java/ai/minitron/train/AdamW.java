package ai.minitron.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.minitron.io.HostTensor;
import ai.minitron.model.Scalars;
import ai.minitron.model.Weights;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam with decoupled weight decay (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"),
 * step for step as PyTorch's {@code torch.optim.AdamW}:
 *
 * <pre>
 *   m = b1 m + (1 - b1) g            v = b2 v + (1 - b2) g^2
 *   p = p (1 - lr wd)                                  (matrices only: no decay on norms and biases)
 *   p = p - (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * </pre>
 *
 * Moments live on the weights' device in float32. Updates happen outside any GradientCollector, in
 * place, inside an NDScope so no temporary outlives the step.
 */
public final class AdamW {
    /** Hyper-parameters; the learning rate comes from the schedule at each step. */
    public record Hyper(double beta1, double beta2, double eps, double weightDecay) {
        public static Hyper defaults() {
            return new Hyper(0.9, 0.95, 1e-8, 0.1);
        }
    }

    private final Hyper hyper;
    private final Map<String, NDArray> expAvg = new LinkedHashMap<>();
    private final Map<String, NDArray> expAvgSq = new LinkedHashMap<>();
    private long step;

    public AdamW(Hyper hyper) {
        this.hyper = hyper;
    }

    public Hyper hyper() {
        return hyper;
    }

    /** Number of updates applied so far (t in the bias corrections). */
    public long stepCount() {
        return step;
    }

    /** Whether a tensor gets weight decay: matrices (projections, embeddings) yes; vectors no. */
    public static boolean decays(String name, NDArray p) {
        return p.getShape().dimension() >= 2;
    }

    /** Applies one update to every weight from its accumulated gradient. */
    public void step(Weights w, double lr) {
        step(java.util.List.of(w), lr);
    }

    /**
     * One update of several parameter groups at once (the model and, e.g., a distillation
     * projection trained with it): one step count, moments keyed by tensor name (names must differ).
     */
    public void step(java.util.List<Weights> groups, double lr) {
        step++;
        double bc1 = 1 - Math.pow(hyper.beta1(), step);
        double bc2 = 1 - Math.pow(hyper.beta2(), step);
        double stepSize = lr / bc1;
        double sqrtBc2 = Math.sqrt(bc2);
        for (Weights w : groups) {
            stepGroup(w, lr, stepSize, sqrtBc2);
        }
    }

    private void stepGroup(Weights w, double lr, double stepSize, double sqrtBc2) {
        for (var e : w.asMap().entrySet()) {
            String name = e.getKey();
            NDArray p = e.getValue();
            NDArray m = expAvg.computeIfAbsent(name, k -> zerosLike(w, p));
            NDArray v = expAvgSq.computeIfAbsent(name, k -> zerosLike(w, p));
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray g = p.getGradient();
                m.muli(hyper.beta1()).addi(Scalars.mul(g, 1 - hyper.beta1()));
                v.muli(hyper.beta2()).addi(g.square().muli(1 - hyper.beta2()));
                if (hyper.weightDecay() > 0 && decays(name, p)) {
                    p.muli(1 - lr * hyper.weightDecay());
                }
                NDArray denom = v.sqrt().divi(sqrtBc2).addi(hyper.eps());
                p.subi(m.div(denom).muli(stepSize));
            }
        }
    }

    private static NDArray zerosLike(Weights w, NDArray p) {
        NDArray z = w.manager().zeros(p.getShape(), p.getDataType());
        NDScope.unregister(z);
        return z;
    }

    /** Optimizer state as host tensors ("exp_avg.NAME", "exp_avg_sq.NAME"), for checkpoints. */
    public Map<String, HostTensor> state() {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (var e : expAvg.entrySet()) {
            out.put("exp_avg." + e.getKey(), host("exp_avg." + e.getKey(), e.getValue()));
            out.put("exp_avg_sq." + e.getKey(), host("exp_avg_sq." + e.getKey(), expAvgSq.get(e.getKey())));
        }
        return out;
    }

    private static HostTensor host(String name, NDArray a) {
        return HostTensor.ofFloats(name, a.getShape().getShape(), a.toFloatArray());
    }

    /** Restores state saved by {@link #state()} for the given weights and step count. */
    public void load(Map<String, HostTensor> state, Weights w, long stepCount, String source) {
        load(state, java.util.List.of(w), stepCount, source);
    }

    /** Restores state saved by {@link #state()} for several parameter groups (see {@link #step(java.util.List, double)}). */
    public void load(Map<String, HostTensor> state, java.util.List<Weights> groups, long stepCount, String source) {
        expAvg.clear();
        expAvgSq.clear();
        for (Weights w : groups) {
            loadGroup(state, w, source);
        }
        this.step = stepCount;
    }

    private void loadGroup(Map<String, HostTensor> state, Weights w, String source) {
        for (var e : w.asMap().entrySet()) {
            HostTensor m = state.get("exp_avg." + e.getKey());
            HostTensor v = state.get("exp_avg_sq." + e.getKey());
            if (m == null || v == null) {
                throw new IllegalArgumentException(source + ": optimizer state has no moments for '" + e.getKey()
                        + "' (a checkpoint of another model?)");
            }
            if (!java.util.Arrays.equals(m.shape(), e.getValue().getShape().getShape())) {
                throw new IllegalArgumentException(source + ": optimizer moment for '" + e.getKey() + "' has shape "
                        + java.util.Arrays.toString(m.shape()) + " but the weight is " + e.getValue().getShape());
            }
            expAvg.put(e.getKey(), w.manager().create(m.toFloats(), e.getValue().getShape()));
            expAvgSq.put(e.getKey(), w.manager().create(v.toFloats(), e.getValue().getShape()));
        }
    }
}
