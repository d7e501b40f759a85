package ai.minitron.importance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.minitron.TestConfigs;
import ai.minitron.config.ModelConfig;
import ai.minitron.data.CalibrationSet;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.Weights;
import ai.minitron.tap.Site;
import ai.minitron.tap.Taps;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The one-pass statistics against a naive reference, under padding, batching and sharding; and the
 * taps leave the model's output alone.
 */
class ActivationPassTest {

    @Test
    void everyMetricAndAggregationMatchesTheNaiveReference() {
        for (ModelConfig c : List.of(TestConfigs.llama(), TestConfigs.nemotron())) {
            try (NDManager m = NDManager.newBaseManager()) {
                Weights w = Models.random(c, m, 7);
                CalibrationSet cal = Models.ragged(c, 7, 12, 8); // rows of 1..12 inputs: batches of 3 are padded
                ActivationStats stats = new ActivationPass(c, w).run(cal, 3, null);
                Reference ref = new Reference(c, w, cal, m);
                for (Aggregation b : Aggregation.values()) {
                    for (Aggregation s : Aggregation.values()) {
                        String what = c.architecture() + " batch " + b.key() + " seq " + s.key();
                        AxisScores got = ActivationMetric.scores(c, stats, Metric.ACTIVATION, b, s, true);
                        AxisScores ch = ActivationMetric.scores(c, stats, Metric.ACTIVATION_CHANNEL, b, s, true);
                        for (int l = 0; l < c.numHiddenLayers(); l++) {
                            close(ref.units(Site.MLP_ACT + "@" + l, b, s), got.mlp()[l], what + " mlp " + l);
                            close(ref.heads(l, b, s), got.heads()[l], what + " heads " + l);
                            close(ActivationMetric.l2OverGroups(ref.units(Site.ATTN_HEADS_OUT + "@" + l, b, s),
                                    c.headDim()), ch.heads()[l], what + " heads (channel) " + l);
                        }
                        close(ref.hidden(b, s, true), got.hidden(), what + " hidden");
                        close(ref.hidden(b, s, false),
                                ActivationMetric.scores(c, stats, Metric.ACTIVATION, b, s, false).hidden(),
                                what + " hidden without final norm");
                    }
                }
                double[] bi = BlockImportance.scores(c, stats);
                for (int l = 0; l < c.numHiddenLayers(); l++) {
                    assertEquals(ref.blockImportance(l), bi[l], 1e-5, "BI layer " + l);
                }
                ChannelAccumulator mlp = stats.get(Site.MLP_ACT, 0, ActivationPass.CHANNEL);
                assertEquals(cal.size(), mlp.count());
                assertEquals(cal.tokens(), mlp.tokens(), "padding is not counted as tokens");
            }
        }
    }

    @Test
    void shardsMergeToExactlyTheSinglePass() {
        ModelConfig c = TestConfigs.llama();
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Models.random(c, m, 3);
            CalibrationSet cal = Models.rows(c, 12, 10, 4);
            ActivationPass pass = new ActivationPass(c, w);
            ActivationStats single = pass.run(cal, 4, null);
            ActivationStats merged = pass.run(cal.slice(0, 8), 4, null).merge(pass.run(cal.slice(8, 12), 4, null));
            assertTrue(merged.sameAs(single), "separate shard runs, merged, equal the single pass bit for bit");
            List<ActivationStats> shards = pass.run(cal, 4, new int[] {3, 6}, null); // boundaries inside batches
            assertEquals(3, shards.size());
            assertEquals(3, shards.get(0).get(Site.MLP_ACT, 1, ActivationPass.CHANNEL).count());
            ActivationStats all = shards.get(2).copy().merge(shards.get(0)).merge(shards.get(1));
            assertTrue(all.sameAs(single), "in-pass shards merged in any order equal the single pass");
        }
    }

    @Test
    void aPassReducingFewerAggregationsGivesTheFullPassesNumbersBitForBit() {
        ModelConfig c = TestConfigs.llama();
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Models.random(c, m, 11);
            CalibrationSet cal = Models.ragged(c, 7, 12, 8); // padded batches of 3
            ActivationStats full = new ActivationPass(c, w).run(cal, 3, null);
            for (List<Aggregation> aggs : List.of(List.of(Aggregation.MEAN), List.of(Aggregation.L2, Aggregation.VAR),
                    List.of(Aggregation.VAR), List.of(Aggregation.MEAN, Aggregation.VAR))) {
                for (boolean headChannels : new boolean[] {false, true}) {
                    // the paper's metric alone: (MEAN, false)
                    ActivationPass pass = new ActivationPass(c, w, aggs, headChannels);
                    ActivationStats part = pass.run(cal, 3, null);
                    assertEquals(aggs.stream().map(Aggregation::key).toList(), pass.seqStreams());
                    assertEquals(headChannels,
                            part.asMap().containsKey(new ActivationStats.Key(Site.ATTN_HEADS_OUT, 0, ActivationPass.CHANNEL)),
                            "per-channel head moments only when asked");
                    assertEquals(full.asMap().size() - (headChannels ? 0 : c.numHiddenLayers()), part.asMap().size(),
                            aggs + ": accumulators");
                    for (var e : part.asMap().entrySet()) {
                        ChannelAccumulator a = full.asMap().get(e.getKey());
                        ChannelAccumulator b = e.getValue();
                        assertEquals(a.count(), b.count());
                        assertEquals(a.tokens(), b.tokens());
                        for (String stream : b.streams()) {
                            int sa = a.stream(stream);
                            int sb = b.stream(stream);
                            assertArrayEquals(a.sums(sa), b.sums(sb), aggs + " " + e.getKey() + " Σ " + stream);
                            assertArrayEquals(a.sumSqs(sa), b.sumSqs(sb), aggs + " " + e.getKey() + " Σ² " + stream);
                        }
                    }
                }
            }
        }
    }

    @Test
    void paddedBatchesGiveTheUnpaddedStatistics() {
        ModelConfig c = TestConfigs.llama();
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Models.random(c, m, 5);
            CalibrationSet cal = Models.ragged(c, 8, 16, 6);
            assertTrue(cal.batches(4).get(0).padded());
            ActivationPass pass = new ActivationPass(c, w);
            ActivationStats one = pass.run(cal, 1, null); // batch size 1: never padded
            ActivationStats padded = pass.run(cal, 4, null);
            assertEquals(one.asMap().keySet(), padded.asMap().keySet());
            for (var e : one.asMap().entrySet()) {
                ChannelAccumulator a = e.getValue();
                ChannelAccumulator b = padded.asMap().get(e.getKey());
                assertEquals(a.count(), b.count());
                assertEquals(a.tokens(), b.tokens());
                for (int s = 0; s < a.streams().size(); s++) {
                    close(a.sums(s), b.sums(s), e.getKey() + " Σ " + a.streams().get(s));
                    close(a.sumSqs(s), b.sumSqs(s), e.getKey() + " Σ² " + a.streams().get(s));
                }
            }
        }
    }

    @Test
    void tapsLeaveTheLogitsUnchanged() {
        ModelConfig c = TestConfigs.llama();
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Models.random(c, m, 9);
            CalibrationSet.Batch bt = Models.ragged(c, 3, 9, 10).batches(3).get(0);
            NDArray mask = bt.mask(m, w.dataType());
            float[] plain = DecoderLM.forward(c, w, bt.inputs(m), mask, null, Taps.NONE).toFloatArray();
            ActivationPass.Collector col = new ActivationPass.Collector(mask);
            float[] tapped = DecoderLM.forward(c, w, bt.inputs(m), mask, null, col.taps()).toFloatArray();
            assertArrayEquals(plain, tapped, "statistics must not perturb the forward pass");
        }
    }

    static void close(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            double tol = 2e-4 * Math.max(Math.abs(expected[i]), 1e-3);
            assertEquals(expected[i], actual[i], tol, what + " unit " + i);
        }
    }
}
