package ai.minitron.importance;

import ai.minitron.config.Axis;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.Weights;
import ai.minitron.progress.Progress;
import ai.minitron.stats.RankAgreement;
import java.util.ArrayList;
import java.util.List;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The analysis tables of a run: how the metrics agree with each other ({@code agreement.arrow}) and
 * how stable the activation metrics are when the calibration set shrinks ({@code stability.arrow}).
 *
 * <p>Agreement, for every pair of (metric, aggregation) specs and every axis/layer both score:
 * Spearman ρ, Kendall τ-b and the top-k overlap with k = round(fraction · units).
 *
 * <p>Stability, for every activation-derived spec: scores from the first N/2, N/4, ... samples
 * (exact prefixes of the same pass, see {@link ActivationPass#run(ai.minitron.data.CalibrationSet,
 * int, int[], Progress)}) against scores from all N: Jaccard index of the kept sets
 * (top {@code keepFraction} of the units) and Spearman ρ.
 */
public final class Comparisons {
    private Comparisons() {}

    /** Pairwise agreement of all specs in the table. */
    public static Table agreement(ImportanceTable t, double topFraction) {
        StringColumn axis = StringColumn.create("axis");
        IntColumn layer = IntColumn.create("layer");
        StringColumn a = StringColumn.create("metric_a");
        StringColumn b = StringColumn.create("metric_b");
        IntColumn units = IntColumn.create("n_units");
        IntColumn kk = IntColumn.create("k");
        DoubleColumn rho = DoubleColumn.create("spearman");
        DoubleColumn tau = DoubleColumn.create("kendall_tau_b");
        DoubleColumn overlap = DoubleColumn.create("topk_overlap");
        List<ImportanceTable.Spec> specs = t.specs();
        List<ImportanceTable.View> views = new ArrayList<>();
        for (ImportanceTable.Spec s : specs) views.add(t.where(s.metric(), s.batchAgg(), s.seqAgg()));
        for (Axis ax : Axis.SCORED) {
            for (int l : layersOf(views, ax)) {
                for (int i = 0; i < views.size(); i++) {
                    if (!views.get(i).has(ax.key(), l)) continue;
                    double[] x = views.get(i).scores(ax.key(), l);
                    for (int j = i + 1; j < views.size(); j++) {
                        if (!views.get(j).has(ax.key(), l)) continue;
                        double[] y = views.get(j).scores(ax.key(), l);
                        if (x.length != y.length || x.length < 2) continue;
                        int k = Math.max(1, (int) Math.round(topFraction * x.length));
                        axis.append(ax.key());
                        layer.append(l);
                        a.append(specs.get(i).toString());
                        b.append(specs.get(j).toString());
                        units.append(x.length);
                        kk.append(k);
                        rho.append(RankAgreement.spearman(x, y));
                        tau.append(RankAgreement.kendallTauB(x, y));
                        overlap.append(RankAgreement.topKOverlap(x, y, k));
                    }
                }
            }
        }
        return Table.create("agreement", axis, layer, a, b, units, kk, rho, tau, overlap);
    }

    /** The layers at which any view scores the axis (-1 for whole-model axes). */
    private static List<Integer> layersOf(List<ImportanceTable.View> views, Axis ax) {
        List<Integer> out = new ArrayList<>();
        if (!ax.perLayer()) {
            out.add(-1);
            return out;
        }
        for (int l = 0; ; l++) {
            boolean any = false;
            for (ImportanceTable.View v : views) any |= v.has(ax.key(), l);
            if (!any) return out;
            out.add(l);
        }
    }

    /** A subset's statistics and its sample count. */
    public record Subset(int samples, ActivationStats stats) {}

    /**
     * Stability of the activation-derived metrics (activation, activation_channel, wanda, block
     * importance) under smaller calibration sets.
     */
    public static Table stability(ModelConfig c, Weights w, ActivationStats full, int fullSamples,
            List<Subset> subsets, double keepFraction, boolean includeFinalNorm) {
        return stability(c, w, full, fullSamples, subsets, keepFraction, includeFinalNorm,
                java.util.EnumSet.allOf(Aggregation.class), true);
    }

    /**
     * The same, for statistics of a pass that reduced only {@code seqAggs} (and the heads' per-channel moments only
     * if {@code headChannels}): metrics and aggregations the statistics cannot give are left out.
     */
    public static Table stability(ModelConfig c, Weights w, ActivationStats full, int fullSamples,
            List<Subset> subsets, double keepFraction, boolean includeFinalNorm, java.util.Set<Aggregation> seqAggs,
            boolean headChannels) {
        StringColumn axis = StringColumn.create("axis");
        IntColumn layer = IntColumn.create("layer");
        StringColumn metric = StringColumn.create("metric");
        StringColumn batch = StringColumn.create("batch_agg");
        StringColumn seq = StringColumn.create("seq_agg");
        IntColumn n = IntColumn.create("n_samples");
        IntColumn nFull = IntColumn.create("n_full");
        DoubleColumn keep = DoubleColumn.create("keep_fraction");
        DoubleColumn jac = DoubleColumn.create("jaccard");
        DoubleColumn rho = DoubleColumn.create("spearman");
        record Spec(Metric metric, Aggregation batch, Aggregation seq) {}
        List<Spec> specs = new ArrayList<>();
        for (Metric m : new Metric[] {Metric.ACTIVATION, Metric.ACTIVATION_CHANNEL}) {
            if (m == Metric.ACTIVATION_CHANNEL && !headChannels) continue;
            for (Aggregation bAgg : Aggregation.values()) {
                for (Aggregation sAgg : Aggregation.values()) {
                    if (seqAggs.contains(sAgg)) specs.add(new Spec(m, bAgg, sAgg));
                }
            }
        }
        if (seqAggs.contains(Aggregation.L2) && headChannels) specs.add(new Spec(Metric.WANDA, null, null)); // o_proj inputs
        specs.add(new Spec(Metric.BLOCK_IMPORTANCE, null, null));
        for (Spec s : specs) {
            AxisScores ref = scores(c, w, full, s.metric(), s.batch(), s.seq(), includeFinalNorm);
            for (Subset sub : subsets) {
                AxisScores got = scores(c, w, sub.stats(), s.metric(), s.batch(), s.seq(), includeFinalNorm);
                for (Axis ax : Axis.SCORED) {
                    if (s.metric() == Metric.ACTIVATION_CHANNEL && ax != Axis.HEADS) continue;
                    int layers = ax.perLayer() ? c.numHiddenLayers() : 1;
                    for (int l = 0; l < layers; l++) {
                        double[] x = ref.get(ax, l);
                        double[] y = got.get(ax, l);
                        if (x == null || y == null || x.length < 2) continue;
                        int k = Math.max(1, (int) Math.round(keepFraction * x.length));
                        axis.append(ax.key());
                        layer.append(ax.perLayer() ? l : -1);
                        metric.append(s.metric().key());
                        batch.append(s.batch() == null ? ImportanceTable.NONE : s.batch().key());
                        seq.append(s.seq() == null ? ImportanceTable.NONE : s.seq().key());
                        n.append(sub.samples());
                        nFull.append(fullSamples);
                        keep.append(keepFraction);
                        jac.append(RankAgreement.jaccard(RankAgreement.topK(x, k), RankAgreement.topK(y, k)));
                        rho.append(RankAgreement.spearman(x, y));
                    }
                }
            }
        }
        return Table.create("stability", axis, layer, metric, batch, seq, n, nFull, keep, jac, rho);
    }

    private static AxisScores scores(ModelConfig c, Weights w, ActivationStats stats, Metric m, Aggregation b,
            Aggregation s, boolean includeFinalNorm) {
        return switch (m) {
            case ACTIVATION, ACTIVATION_CHANNEL -> ActivationMetric.scores(c, stats, m, b, s, includeFinalNorm);
            case WANDA -> WandaMetric.scores(c, w, stats);
            case BLOCK_IMPORTANCE -> new AxisScores(null, null, null, BlockImportance.scores(c, stats));
            default -> throw new IllegalArgumentException("not activation-derived: " + m.key());
        };
    }
}
