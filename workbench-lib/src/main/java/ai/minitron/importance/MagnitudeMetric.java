package ai.minitron.importance;

import ai.minitron.config.ModelConfig;
import ai.minitron.model.Weights;

/**
 * Weight-magnitude baseline: the L2 norm of all the weights pruning a unit would remove
 * ({@link UnitReduction} says which). Data-free; the paper's activation metric is compared against
 * it. For LayerNorm1p (Nemotron) the effective scale {@code 1 + w} is used.
 */
public final class MagnitudeMetric {
    private MagnitudeMetric() {}

    public static AxisScores scores(ModelConfig c, Weights w) {
        return UnitReduction.sum(c, w, (name, t) -> {
            boolean offsetScale = c.layerNorm1p() && name.contains("norm.weight");
            return offsetScale ? t.add(1).square() : t.square();
        }).sqrt();
    }
}
