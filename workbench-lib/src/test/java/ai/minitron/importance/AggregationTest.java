package ai.minitron.importance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.minitron.data.CalibrationSet;
import ai.minitron.tap.Site;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Hand-computed toy cases for every aggregation, fed through the engine reductions and the host
 * accumulation of {@link ActivationPass} (with a padded row whose padding must not count).
 */
class AggregationTest {
    static final double EPS = 1e-6;

    private static CalibrationSet.Batch batch(int... lengths) {
        long[][] dummy = new long[lengths.length][lengths[0]];
        int[] ids = new int[lengths.length];
        return new CalibrationSet.Batch(dummy, dummy, lengths, ids);
    }

    @Test
    void allNinePairsOfAToyNeuron() {
        try (NDManager m = NDManager.newBaseManager()) {
            // x [B=2, T=3, C=2]; sample 1 has 2 valid tokens, its third position is padding (100s)
            float[] v = {
                1, 0.5f, -2, 0.5f, 3, 0.5f, // sample 0: unit 0 = [1, -2, 3], unit 1 = [.5, .5, .5]
                2, -1, 2, 3, 100, 100 // sample 1: unit 0 = [2, 2], unit 1 = [-1, 3]
            };
            NDArray x = m.create(v, new Shape(2, 3, 2));
            NDArray mask = m.create(new float[] {1, 1, 1, 1, 1, 0}, new Shape(2, 3));
            ActivationPass.Collector col = new ActivationPass.Collector(mask);
            col.channels(Site.MLP_ACT, 0, x);
            ActivationStats stats = new ActivationStats();
            col.accumulate(batch(3, 2), List.of(stats), new int[] {0, 0});
            ChannelAccumulator a = stats.get(Site.MLP_ACT, 0, ActivationPass.CHANNEL);
            assertEquals(2, a.count());
            assertEquals(5, a.tokens());

            // unit 0 by hand. Per sample: mean|x| = {2, 2}; L2 = {√14, √8}; var = {38/9, 0}
            double r14 = Math.sqrt(14);
            double r8 = Math.sqrt(8);
            check(a, 0, Aggregation.MEAN, Aggregation.MEAN, 2.0);
            check(a, 0, Aggregation.L2, Aggregation.MEAN, Math.sqrt(8));
            check(a, 0, Aggregation.VAR, Aggregation.MEAN, 0.0);
            check(a, 0, Aggregation.MEAN, Aggregation.L2, (r14 + r8) / 2);
            check(a, 0, Aggregation.L2, Aggregation.L2, Math.sqrt(22));
            check(a, 0, Aggregation.VAR, Aggregation.L2, Math.pow((r14 - r8) / 2, 2));
            check(a, 0, Aggregation.MEAN, Aggregation.VAR, 19.0 / 9);
            check(a, 0, Aggregation.L2, Aggregation.VAR, 38.0 / 9);
            check(a, 0, Aggregation.VAR, Aggregation.VAR, 361.0 / 81);

            // unit 1 by hand. Per sample: mean|x| = {0.5, 2}; L2 = {√0.75, √10}; var = {0, 4}
            check(a, 1, Aggregation.MEAN, Aggregation.MEAN, 1.25);
            check(a, 1, Aggregation.L2, Aggregation.MEAN, Math.sqrt(0.25 + 4));
            check(a, 1, Aggregation.VAR, Aggregation.MEAN, 0.5625);
            check(a, 1, Aggregation.MEAN, Aggregation.L2, (Math.sqrt(0.75) + Math.sqrt(10)) / 2);
            check(a, 1, Aggregation.L2, Aggregation.L2, Math.sqrt(10.75));
            check(a, 1, Aggregation.MEAN, Aggregation.VAR, 2.0);
            check(a, 1, Aggregation.L2, Aggregation.VAR, 4.0);
            check(a, 1, Aggregation.VAR, Aggregation.VAR, 4.0);
        }
    }

    @Test
    void headsBothVariantsAndBlockImportance() {
        try (NDManager m = NDManager.newBaseManager()) {
            // ctx [B=1, T=2, nH=2, D=2]: head 0 = [3,4] then [0,4]; head 1 = [1,0] then [0,-1]
            NDArray ctx = m.create(new float[] {3, 4, 1, 0, 0, 4, 0, -1}, new Shape(1, 2, 2, 2));
            ActivationPass.Collector col = new ActivationPass.Collector(null);
            col.heads(0, ctx);
            // LAYER_IN / LAYER_OUT [1, 2, 2]: cos = 0 at token 0, 1 at token 1
            col.layerIn(0, m.create(new float[] {1, 0, 1, 1}, new Shape(1, 2, 2)));
            col.layerOut(0, m.create(new float[] {0, 1, 2, 2}, new Shape(1, 2, 2)));
            ActivationStats stats = new ActivationStats();
            col.accumulate(batch(2), List.of(stats), new int[] {0});

            // paper: per-token head norms head 0 = {5, 4}, head 1 = {1, 1}
            ChannelAccumulator norms = stats.get(Site.ATTN_HEADS_OUT, 0, ActivationPass.HEAD_NORM);
            check(norms, 0, Aggregation.L2, Aggregation.MEAN, 4.5);
            check(norms, 0, Aggregation.L2, Aggregation.L2, Math.sqrt(41));
            check(norms, 0, Aggregation.L2, Aggregation.VAR, 0.25);
            check(norms, 1, Aggregation.L2, Aggregation.MEAN, 1.0);
            check(norms, 1, Aggregation.L2, Aggregation.VAR, 0.0);
            // ModelOpt: per-channel mean|x| = (1.5, 4) for head 0, (0.5, 0.5) for head 1, then L2 over the head
            ChannelAccumulator ch = stats.get(Site.ATTN_HEADS_OUT, 0, ActivationPass.CHANNEL);
            double[] perChannel = ActivationMetric.aggregate(ch, Aggregation.L2, Aggregation.MEAN);
            double[] heads = ActivationMetric.l2OverGroups(perChannel, 2);
            assertEquals(Math.sqrt(1.5 * 1.5 + 16), heads[0], EPS);
            assertEquals(Math.sqrt(0.5), heads[1], EPS);

            ChannelAccumulator cos = stats.get(Site.LAYER_OUT, 0, ActivationPass.COS);
            assertEquals(2, cos.tokens());
            assertEquals(0.5, 1 - cos.sum(0, 0) / cos.tokens(), EPS, "BI = 1 - mean cos = 1 - (0 + 1) / 2");
        }
    }

    @Test
    void formulasAndNames() {
        assertEquals(2.0, Aggregation.MEAN.overSequence(3, 6, 14, 2), EPS);
        assertEquals(Math.sqrt(14), Aggregation.L2.overSequence(3, 6, 14, 2), EPS);
        assertEquals(38.0 / 9, Aggregation.VAR.overSequence(3, 6, 14, 2), EPS);
        assertEquals(Aggregation.L2, Aggregation.parse("L2"));
        assertEquals("var", Aggregation.VAR.key());
        assertThrows(IllegalArgumentException.class, () -> Aggregation.parse("median"));
        assertThrows(IllegalArgumentException.class, () -> Aggregation.MEAN.overBatch(0, 0, 0));
    }

    private static void check(ChannelAccumulator a, int unit, Aggregation batch, Aggregation seq, double expected) {
        double got = ActivationMetric.aggregate(a, batch, seq)[unit];
        assertEquals(expected, got, EPS * Math.max(1, Math.abs(expected)),
                "unit " + unit + " batch " + batch.key() + " seq " + seq.key());
    }
}
