package ai.minitron.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.minitron.model.Scalars;

/**
 * Logit distillation losses between a teacher's and a student's next-token distributions
 * (docs/architecture.md, "Distillation"; Hinton et al. 2015 for the temperature; Agarwal et al. 2024 "GKD" for the
 * generalised JSD). With p = softmax(z_teacher / τ) and q = softmax(z_student / τ), per token:
 *
 * <ul>
 *   <li>FORWARD_KL: KL(p ‖ q) = Σ p (log p − log q), times τ² (Minitron's choice, Table 15);
 *   <li>REVERSE_KL: KL(q ‖ p), times τ²;
 *   <li>JSD: β KL(p ‖ m) + (1 − β) KL(q ‖ m), m = β p + (1 − β) q;
 *   <li>TV: ½ Σ |p − q|;
 *   <li>TOP_K_KL: KL over the teacher's k most likely tokens plus one "rest" bucket holding the
 *       remaining mass of each distribution (so it is 0 exactly when the buckets agree, and works
 *       from cached top-k teacher log-probabilities);
 *   <li>CE: cross-entropy of the student to the data (no teacher).
 * </ul>
 * Every divergence is exactly 0 when student and teacher logits are equal. Losses are averaged over
 * the tokens the mask keeps.
 */
public final class KdLoss {
    /** The divergence family. */
    public enum Kind {
        FORWARD_KL,
        REVERSE_KL,
        JSD,
        TV,
        TOP_K_KL,
        CE
    }

    /**
     * @param temperature τ (≥ 1 softens); KL losses are scaled by τ² so gradients keep their size
     * @param beta the JSD mixing weight β in (0, 1)
     * @param topK k for TOP_K_KL
     */
    public record Config(Kind kind, double temperature, double beta, int topK) implements java.io.Serializable {
        public Config {
            if (temperature <= 0) {
                throw new IllegalArgumentException("temperature must be > 0, got " + temperature);
            }
            if (kind == Kind.JSD && !(beta > 0 && beta < 1)) {
                throw new IllegalArgumentException("JSD beta must be in (0, 1), got " + beta);
            }
            if (kind == Kind.TOP_K_KL && topK < 1) {
                throw new IllegalArgumentException("top-k must be >= 1, got " + topK);
            }
        }

        public static Config forwardKl(double temperature) {
            return new Config(Kind.FORWARD_KL, temperature, 0.5, 0);
        }
    }

    private KdLoss() {}

    /**
     * Per-token divergence [B, T] between full teacher and student logits [B, T, V].
     * Not for CE (which needs targets: use {@link ai.minitron.model.LmLoss}).
     */
    public static NDArray perToken(Config cfg, NDArray teacherLogits, NDArray studentLogits) {
        double tau = cfg.temperature();
        NDArray logP = Scalars.div(teacherLogits, tau).logSoftmax(-1); // [B,T,V]
        NDArray logQ = Scalars.div(studentLogits, tau).logSoftmax(-1);
        return switch (cfg.kind()) {
            case FORWARD_KL -> Scalars.mul(kl(logP, logQ), tau * tau);
            case REVERSE_KL -> Scalars.mul(kl(logQ, logP), tau * tau);
            case JSD -> {
                NDArray p = logP.exp();
                NDArray q = logQ.exp();
                NDArray m = Scalars.mul(p, cfg.beta()).add(Scalars.mul(q, 1 - cfg.beta()));
                NDArray logM = m.log();
                yield Scalars.mul(kl(logP, logM), cfg.beta()).add(Scalars.mul(kl(logQ, logM), 1 - cfg.beta()));
            }
            case TV -> Scalars.mul(logP.exp().sub(logQ.exp()).abs().sum(new int[] {-1}), 0.5);
            case TOP_K_KL -> {
                NDArray idx = topKIndices(teacherLogits, cfg.topK()); // [B,T,k]
                yield Scalars.mul(topKKl(logP.gather(idx, -1), logQ, idx), tau * tau);
            }
            case CE -> throw new IllegalArgumentException("CE is not a divergence between distributions; use LmLoss");
        };
    }

    /**
     * TOP_K_KL from cached teacher log-probabilities: {@code teacherLogP} [B, T, k] at {@code idx}
     * [B, T, k] (log-softmax over the full vocabulary at the distillation temperature).
     */
    public static NDArray topKKl(NDArray teacherLogP, NDArray studentLogQ, NDArray idx) {
        NDArray pK = teacherLogP.exp(); // [B,T,k]
        NDArray qK = studentLogQ.gather(idx, -1).exp();
        NDArray pRest = Scalars.maximum(pK.sum(new int[] {-1}).neg().add(1), 1e-12); // [B,T]
        NDArray qRest = Scalars.maximum(qK.sum(new int[] {-1}).neg().add(1), 1e-12);
        NDArray head = pK.mul(teacherLogP.sub(Scalars.maximum(qK, 1e-30).log())).sum(new int[] {-1});
        NDArray tail = pRest.mul(pRest.log().sub(qRest.log()));
        return head.add(tail);
    }

    /** Indices [B, T, k] of the k largest logits of the last axis. */
    public static NDArray topKIndices(NDArray logits, int k) {
        return logits.argSort(-1, false).get(":, :, :{}", k).toType(DataType.INT64, false);
    }

    /** KL(a ‖ b) over the last axis from log-probabilities: Σ exp(a) (a − b) -> [B, T]. */
    static NDArray kl(NDArray logA, NDArray logB) {
        return logA.exp().mul(logA.sub(logB)).sum(new int[] {-1});
    }

    /** Rows (tokens) per chunk of {@link #forwardKlMean}: 256 × a 49,152-token vocabulary is 50 MB of float32. */
    public static final int DEFAULT_CHUNK_ROWS = 256;

    /**
     * Forward KL(p ‖ q) × τ², averaged over all B × T tokens -> scalar, the same value and gradient as
     * {@code mean(perToken(forwardKl(τ), teacher, student), null)} but computed over chunks of {@code chunkRows}
     * tokens, so that besides the logits only one full-vocabulary tensor exists at a time: the gradient G [B, T, V]
     * of the loss with respect to the student's logits, {@code τ (q − p) / (B T)} with p = softmax(z_t / τ) and
     * q = softmax(z_s / τ). Each chunk's log-softmaxes, probabilities and KL rows are made and freed inside the
     * chunk, without autograd. The result is {@code z_s · G + (KL − stop(z_s · G))}: its value is the KL and its
     * gradient with respect to z_s is G (the dot product of the flattened arrays leaves no [B, T, V] product).
     *
     * @param teacherLogits [B, T, V] (no gradient flows into it)
     * @param studentLogits [B, T, V], typically recording a gradient
     */
    public static NDArray forwardKlMean(NDArray teacherLogits, NDArray studentLogits, double temperature,
            int chunkRows) {
        if (chunkRows < 1) {
            throw new IllegalArgumentException("KL chunk rows must be >= 1, got " + chunkRows);
        }
        if (!teacherLogits.getShape().equals(studentLogits.getShape())) {
            throw new IllegalArgumentException("teacher logits " + teacherLogits.getShape() + " and student logits "
                    + studentLogits.getShape() + " differ in shape");
        }
        long v = studentLogits.getShape().getLastDimension();
        long n = studentLogits.size() / v; // tokens
        NDArray t2 = teacherLogits.stopGradient().reshape(n, v);
        NDArray s2 = studentLogits.stopGradient().reshape(n, v);
        NDArray grad = studentLogits.getManager().zeros(s2.getShape(), s2.getDataType()); // G [N, V]
        NDArray perRow = studentLogits.getManager().zeros(new ai.djl.ndarray.types.Shape(n), s2.getDataType()); // [N]
        double tau = temperature;
        for (long from = 0; from < n; from += chunkRows) {
            long to = Math.min(n, from + chunkRows);
            try (NDScope chunk = new NDScope()) {
                chunk.suppressNotUsedWarning();
                NDIndex rows = new NDIndex("{}:{}", from, to);
                NDArray logP = Scalars.div(t2.get(rows), tau).logSoftmax(-1); // [C,V]
                NDArray logQ = Scalars.div(s2.get(rows), tau).logSoftmax(-1);
                NDArray p = logP.exp();
                perRow.set(rows, p.mul(logP.sub(logQ)).sum(new int[] {-1})); // KL per token [C]
                grad.set(rows, Scalars.mul(logQ.exp().sub(p), tau / n)); // τ (q − p) / N
            }
        }
        NDArray kl = Scalars.mul(perRow.mean(), tau * tau); // scalar, no gradient
        NDArray surrogate = studentLogits.reshape(-1).dot(grad.reshape(-1)); // gradient G
        return surrogate.add(kl.sub(surrogate.stopGradient()));
    }

    /** Mean over kept tokens (mask [B, T] of 1/0, or null) -> scalar. */
    public static NDArray mean(NDArray perToken, NDArray mask) {
        if (mask == null) {
            return perToken.mean();
        }
        NDArray m = mask.toType(perToken.getDataType(), false);
        return perToken.mul(m).sum().div(m.sum());
    }
}
