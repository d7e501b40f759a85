package ai.minitron.importance;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import ai.minitron.config.ModelConfig;
import ai.minitron.data.CalibrationSet;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.LmLoss;
import ai.minitron.model.Scalars;
import ai.minitron.model.Weights;
import ai.minitron.progress.Progress;
import java.util.List;

/**
 * First-order Taylor importance (Molchanov et al. 2019; the gradient baseline of Minitron's
 * comparisons): the estimated loss change from zeroing a unit's weights,
 *
 * <pre>
 *   score(unit) = Σ_{w in unit} |w · ∂L/∂w|,   L = mean next-token NLL over all valid calibration tokens
 * </pre>
 *
 * with the units' weights grouped as in {@link UnitReduction}. Gradients of the whole calibration
 * loss are accumulated over batches (each batch's summed NLL divided by the total token count), so
 * the result does not depend on the batch size. Costs one forward + backward per batch. Uses the
 * process-wide GradientCollector; the weights' gradients are zeroed before and after, and
 * gradient tracking is switched off again at the end.
 */
public final class TaylorMetric {
    private TaylorMetric() {}

    public static AxisScores scores(ModelConfig c, Weights w, CalibrationSet cal, int batchSize,
            Progress progress) {
        cal.checkContext(c.maxPositionEmbeddings()).checkVocab(c.vocabSize());
        double totalTokens = cal.tokens();
        List<CalibrationSet.Batch> batches = cal.batches(batchSize);
        w.setRequiresGradient(true);
        try {
            zeroGradients(w);
            int done = 0;
            for (CalibrationSet.Batch bt : batches) {
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    NDManager m = w.manager();
                    NDArray mask = bt.mask(m, w.dataType());
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray logits = DecoderLM.forward(c, w, bt.inputs(m), mask, null, ai.minitron.tap.Taps.NONE);
                        NDArray nll = LmLoss.tokenNll(logits, bt.targets(m)); // [B,T]
                        if (mask != null) {
                            nll = nll.mul(mask);
                        }
                        gc.backward(Scalars.div(nll.sum(), totalTokens));
                    }
                }
                done++;
                if (progress != null) {
                    progress.update("taylor", done, batches.size());
                }
            }
            return UnitReduction.sum(c, w, (name, t) -> t.mul(t.getGradient()).abs());
        } finally {
            zeroGradients(w);
            w.setRequiresGradient(false);
        }
    }

    private static void zeroGradients(Weights w) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            for (NDArray p : w.asMap().values()) {
                NDArray g = p.getGradient();
                g.subi(g);
            }
        }
    }
}
