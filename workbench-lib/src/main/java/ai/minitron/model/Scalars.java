package ai.minitron.model;

import ai.djl.ndarray.NDArray;

/**
 * Array-with-number arithmetic that is safe under autograd. Use these instead of DJL's
 * {@code NDArray.mul(Number)}, {@code div(Number)}, {@code maximum(Number)}, {@code minimum(Number)}
 * and {@code pow(Number)} everywhere a gradient may flow.
 *
 * <p>Why: DJL 0.36's PyTorch engine implements {@code x.mul(2.0)} by wrapping the number in a tensor
 * whose memory is a Java direct buffer (torch {@code from_blob}, no ownership), multiplying, and
 * closing that tensor at once. PyTorch's autograd keeps the scalar for the backward pass (the
 * gradient of {@code x * s} is {@code grad * s}); once a garbage collection frees the Java buffer,
 * the backward pass reads freed memory. Measured here: with a GC between forward and backward,
 * the gradient of {@code (3x).sum()} came back 0 or infinity instead of 3, and a CI run failed with a
 * NaN gradient norm. {@code add} and {@code sub} are safe (their backward never reads the number).
 *
 * <p>The fix: the scalar is copied into libtorch-owned memory ({@code toType(dtype, copy=true)}),
 * which the autograd graph keeps alive by reference counting; the Java-backed original is closed
 * right after the copy. {@code ScalarsTest} proves the hazard and the fix, and
 * {@code NoUnsafeScalarOpsTest} scans the compiled library for the unsafe calls.
 */
public final class Scalars {
    private Scalars() {}

    /** A 0-dim array holding {@code v} in {@code like}'s dtype, in libtorch-owned memory. */
    public static NDArray of(NDArray like, double v) {
        try (NDArray javaBacked = like.getManager().create(v)) {
            return javaBacked.toType(like.getDataType(), true);
        }
    }

    /** x * v */
    public static NDArray mul(NDArray x, double v) {
        try (NDArray s = of(x, v)) {
            return x.mul(s);
        }
    }

    /** x / v */
    public static NDArray div(NDArray x, double v) {
        try (NDArray s = of(x, v)) {
            return x.div(s);
        }
    }

    /** max(x, v) element-wise */
    public static NDArray maximum(NDArray x, double v) {
        try (NDArray s = of(x, v)) {
            return x.maximum(s);
        }
    }

    /** min(x, v) element-wise */
    public static NDArray minimum(NDArray x, double v) {
        try (NDArray s = of(x, v)) {
            return x.minimum(s);
        }
    }

    /** x ^ v element-wise */
    public static NDArray pow(NDArray x, double v) {
        try (NDArray s = of(x, v)) {
            return x.pow(s);
        }
    }
}
