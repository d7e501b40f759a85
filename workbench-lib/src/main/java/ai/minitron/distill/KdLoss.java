package ai.minitron.distill;

import ai.djl.ndarray.NDArray;
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

    /** Mean over kept tokens (mask [B, T] of 1/0, or null) -> scalar. */
    public static NDArray mean(NDArray perToken, NDArray mask) {
        if (mask == null) {
            return perToken.mean();
        }
        NDArray m = mask.toType(perToken.getDataType(), false);
        return perToken.mul(m).sum().div(m.sum());
    }
}
