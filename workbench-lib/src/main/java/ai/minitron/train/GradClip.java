package ai.minitron.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.minitron.model.Weights;
import java.util.List;

/**
 * Global-norm gradient clipping (Pascanu et al. 2013), as {@code torch.nn.utils.clip_grad_norm_}:
 * if ||g||_2 over all parameters exceeds {@code maxNorm}, every gradient is scaled by
 * {@code maxNorm / (||g|| + 1e-6)}. (DJL's {@code optClipGrad} is an element-wise clamp, not this.)
 */
public final class GradClip {
    private GradClip() {}

    /** The global L2 norm of all gradients. */
    public static double globalNorm(Weights w) {
        return globalNorm(List.of(w));
    }

    /** The global L2 norm of the gradients of several parameter groups together. */
    public static double globalNorm(List<Weights> groups) {
        double sumSq = 0;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            for (Weights w : groups) {
                for (NDArray p : w.asMap().values()) {
                    sumSq += p.getGradient().toType(DataType.FLOAT64, false).square().sum().getDouble();
                }
            }
        }
        return Math.sqrt(sumSq);
    }

    /** Clips in place and returns the norm before clipping. {@code maxNorm <= 0} disables clipping. */
    public static double clip(Weights w, double maxNorm) {
        return clip(List.of(w), maxNorm);
    }

    /** Clips several parameter groups by their joint norm; returns the norm before clipping. */
    public static double clip(List<Weights> groups, double maxNorm) {
        double norm = globalNorm(groups);
        if (!Double.isFinite(norm)) {
            throw new ArithmeticException("gradient norm is " + norm + ": the loss diverged (lower the learning rate)");
        }
        if (maxNorm > 0 && norm > maxNorm) {
            double scale = maxNorm / (norm + 1e-6);
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                for (Weights w : groups) {
                    for (NDArray p : w.asMap().values()) {
                        p.getGradient().muli(scale);
                    }
                }
            }
        }
        return norm;
    }

    /** Sets every gradient to zero (gradients accumulate across backward calls). */
    public static void zero(Weights w) {
        zero(List.of(w));
    }

    /** Zeroes the gradients of several parameter groups. */
    public static void zero(List<Weights> groups) {
        for (Weights w : groups) {
            zeroGroup(w);
        }
    }

    private static void zeroGroup(Weights w) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            for (NDArray p : w.asMap().values()) {
                NDArray g = p.getGradient();
                g.subi(g);
            }
        }
    }
}
