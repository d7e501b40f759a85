package ai.minitron.tap;

import ai.djl.ndarray.NDArray;

/**
 * Receives an activation at a {@link Site} during a forward pass. The array belongs to the forward
 * pass: reduce it (or {@code duplicate()} it) inside the call; do not keep a reference.
 */
@FunctionalInterface
public interface TapListener {
    /**
     * @param layer the layer index, or -1 for {@link Site#FINAL_NORM_OUT}
     * @param value the activation, shape per {@link Site}
     */
    void onActivation(Site site, int layer, NDArray value);
}
