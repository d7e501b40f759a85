package ai.minitron.prune;

import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * The one implementation behind {@link UnitScores}' factories: every axis given as a function.
 *
 * @param blockDrop block size k -> block-drop scan scores (null when not available)
 */
record FunctionScores(Supplier<double[]> hiddenFn, IntFunction<double[]> headsFn, IntFunction<double[]> mlpFn,
        Supplier<double[]> layersFn, String runId, IntFunction<double[]> blockDropFn) implements UnitScores {

    @Override
    public double[] hidden() {
        return hiddenFn.get();
    }

    @Override
    public double[] heads(int layer) {
        return headsFn.apply(layer);
    }

    @Override
    public double[] mlp(int layer) {
        return mlpFn.apply(layer);
    }

    @Override
    public double[] layers() {
        return layersFn.get();
    }

    @Override
    public double[] blockDrop(int k) {
        return blockDropFn.apply(k);
    }

    @Override
    public String toString() {
        return "UnitScores[" + runId + "]";
    }
}
