package ai.minitron.importance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.UnitLayout;
import ai.minitron.model.Weights;
import java.util.function.BiFunction;

/**
 * The per-unit sum of any element-wise score over the weights each prunable unit owns
 * ({@link UnitLayout}: what pruning a unit would remove): the grouping behind the magnitude and
 * Taylor baselines. A layer sums every tensor of model.layers.l. KV groups are not scored, so the
 * k_proj and v_proj rows (and biases) count for the hidden channels and the layer only.
 */
public final class UnitReduction {
    private UnitReduction() {}

    /**
     * Σ over each unit's weights of {@code score(name, W)} (an array shaped like W, computed on the
     * engine), reduced on the engine and summed into float64 on the host.
     */
    public static AxisScores sum(ModelConfig c, Weights w, BiFunction<String, NDArray, NDArray> score) {
        AxisScores out = AxisScores.zeros(c);
        for (String name : w.names()) {
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray s = score.apply(name, w.get(name));
                if (s == null) {
                    continue;
                }
                int layer = UnitLayout.layerOf(name);
                if (layer >= 0) {
                    out.layers()[layer] += total(s);
                }
                for (UnitLayout.Cut cut : UnitLayout.cuts(c, name)) {
                    double[] dst = out.get(cut.axis(), layer);
                    if (dst == null) {
                        continue; // KV groups
                    }
                    NDArray perIndex = switch (cut.dim()) {
                        case ROWS -> s.sum(new int[] {1});
                        case COLUMNS -> s.sum(new int[] {0});
                        case ELEMENTS -> s;
                        case WHOLE -> throw new IllegalStateException("whole-tensor cut of " + name);
                    };
                    add(dst, perIndex, cut.block());
                }
            }
        }
        return out;
    }

    private static double total(NDArray s) {
        return s.sum().toType(DataType.FLOAT64, false).getDouble();
    }

    /** dst[u] += Σ_{j in [u*block, (u+1)*block)} v[j]. */
    private static void add(double[] dst, NDArray v, int block) {
        double[] h = v.toType(DataType.FLOAT64, false).toDoubleArray();
        if (h.length != dst.length * block) {
            throw new IllegalStateException("unit reduction gave " + h.length + " values for " + dst.length
                    + " units of " + block);
        }
        for (int j = 0; j < h.length; j++) dst[j / block] += h[j];
    }
}
