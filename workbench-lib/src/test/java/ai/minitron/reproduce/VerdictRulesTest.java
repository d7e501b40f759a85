package ai.minitron.reproduce;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.TestConfigs;
import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.stats.RankAgreement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.Table;

/**
 * Each experiment's verdict is computed from its numbers by the paper's rule: planted numbers that
 * satisfy the rule give "holds", numbers that break it (one condition at a time) do not. Also the
 * equal-parameter shapes the experiments compare.
 */
class VerdictRulesTest {
    static final ModelConfig TEACHER = TestConfigs.teacherShape();

    private static Run run(String key, double zeroShot, double... later) {
        List<Run.Point> c = new ArrayList<>();
        c.add(new Run.Point(0, zeroShot, Double.NaN));
        for (int i = 0; i < later.length; i++) {
            c.add(new Run.Point(100L * (i + 1), later[i], 0.1));
        }
        return new Run(key, 100L * later.length, c, 1.0);
    }

    private static List<AggregationExperiment.Result> aggregations(double l2Mean, double meanMean, double varVar) {
        List<AggregationExperiment.Result> r = new ArrayList<>();
        String[] a = {"mean", "l2", "var"};
        double filler = 5.0;
        for (String b : a) {
            for (String s : a) {
                double v = b.equals("l2") && s.equals("mean") ? l2Mean
                        : b.equals("mean") && s.equals("mean") ? meanMean
                        : b.equals("var") && s.equals("var") ? varVar : (filler += 0.01);
                r.add(new AggregationExperiment.Result(b, s, v));
            }
        }
        return r;
    }

    @Test
    void aggregationRule() {
        assertTrue(AggregationExperiment.outcome(aggregations(4.0, 4.1, 9.0), 1).holds());
        // (mean, mean) ranked 4th: fails.
        assertFalse(AggregationExperiment.outcome(aggregations(4.0, 5.035, 9.0), 1).holds());
        // The worst is not a variance aggregation: fails.
        List<AggregationExperiment.Result> worstL2L2 = new ArrayList<>();
        for (AggregationExperiment.Result r : aggregations(4.0, 4.1, 9.0)) {
            worstL2L2.add(r.batch().equals("l2") && r.seq().equals("l2") ? new AggregationExperiment.Result("l2", "l2", 9.5) : r);
        }
        assertFalse(AggregationExperiment.outcome(worstL2L2, 1).holds());
        Outcome o = AggregationExperiment.outcome(aggregations(4.0, 4.1, 9.0), 1);
        assertEquals(9, o.detail().rowCount());
        assertTrue(o.measurement().contains("(L2, mean) 1") && o.measurement().contains("(mean, mean) 2"), o.measurement());
    }

    @Test
    void baselineRuleNeedsBothZeroShotAndDistilled() {
        Map<String, Run> r = new LinkedHashMap<>();
        r.put("activation", run("a", 6.0, 5.0));
        r.put("magnitude", run("m", 7.0, 5.5));
        r.put("random", run("r", 8.0, 5.6));
        assertTrue(BaselinesExperiment.outcome(r).holds());
        r.put("random", run("r", 8.0, 4.9)); // random wins after distillation
        assertFalse(BaselinesExperiment.outcome(r).holds());
        r.put("random", run("r", 5.9, 5.6)); // random wins zero-shot
        assertFalse(BaselinesExperiment.outcome(r).holds());
    }

    @Test
    void retrainingLossRuleHasTwoParts() {
        Map<String, Run> r = new LinkedHashMap<>();
        r.put("fkl", run("fkl", 6, 5.0));
        r.put("ce_fkl", run("ce_fkl", 6, 5.1));
        r.put("ce", run("ce", 6, 5.2));
        r.put("rkl", run("rkl", 6, 5.05));
        assertTrue(RetrainingLossExperiment.outcome(r).holds());
        r.put("rkl", run("rkl", 6, 4.99));
        Outcome o = RetrainingLossExperiment.outcome(r);
        assertFalse(o.holds());
        assertTrue(o.measurement().contains("KL-alone claim holds") && o.measurement().contains("forward-vs-reverse claim fails"),
                o.measurement());
    }

    @Test
    void scratchRuleComparesWithBothScratchRuns() {
        assertTrue(ScratchExperiment.outcome(run("d", 6, 5.0), run("s1", 9, 7.0), run("s40", 9, 6.0, 5.5), 40).holds());
        assertFalse(ScratchExperiment.outcome(run("d", 6, 5.0), run("s1", 9, 7.0), run("s40", 9, 6.0, 4.9), 40).holds());
    }

    @Test
    void widthDepthTwoStepDepthBlockAndIterativeRules() {
        assertTrue(WidthDepthExperiment.outcome(run("w", 7, 5.0), 10, run("d", 6, 5.1), 10, List.of(0, 1)).holds());
        assertFalse(WidthDepthExperiment.outcome(run("w", 7, 5.2), 10, run("d", 6, 5.1), 10, List.of(0, 1)).holds());
        // A difference below Outcome.TIE_NATS (0.005 nats) is a tie: "width wins" does not hold on it.
        assertFalse(WidthDepthExperiment.outcome(run("w", 7, 5.219), 10, run("d", 6, 5.2215), 10, List.of(0, 1)).holds());
        assertTrue(WidthDepthExperiment.outcome(run("w", 7, 5.219), 10, run("d", 6, 5.2245), 10, List.of(0, 1)).holds());
        assertFalse(TwoStepExperiment.outcome(run("one", 7, 5.2), run("mid", 6, 5.0), run("two", 6.5, 5.197), 10).holds());
        assertTrue(TwoStepExperiment.outcome(run("one", 7, 5.2), run("mid", 6, 5.0), run("two", 6.5, 5.1), 10).holds());
        assertFalse(TwoStepExperiment.outcome(run("one", 7, 5.0), run("mid", 6, 5.0), run("two", 6.5, 5.1), 10).holds());
        Map<String, List<Integer>> choices = new LinkedHashMap<>();
        Map<String, Double> losses = new LinkedHashMap<>();
        for (String k : List.of("contiguous (block-drop loss)", "individual (layer-drop loss)",
                "contiguous (Block Importance)", "individual (Block Importance)")) {
            choices.put(k, List.of(0, 1));
            losses.put(k, 6.0);
        }
        losses.put("contiguous (block-drop loss)", 5.9);
        assertTrue(DepthBlockExperiment.outcome(choices, losses).holds());
        losses.put("contiguous (block-drop loss)", 6.1);
        assertFalse(DepthBlockExperiment.outcome(choices, losses).holds());
        Table t = Table.create("x");
        assertTrue(IterativeImportanceExperiment.outcome(6.0, 5.95, 4, t).holds(), "0.8% better: no real benefit");
        assertTrue(IterativeImportanceExperiment.outcome(6.0, 6.5, 4, t).holds());
        assertFalse(IterativeImportanceExperiment.outcome(6.0, 5.8, 4, t).holds(), "3.3% better is a benefit");
        assertEquals(3, IterativeImportanceExperiment.between(4, 3, 2, 2));
        assertEquals(4, IterativeImportanceExperiment.between(4, 3, 1, 4));
        assertEquals(224, IterativeImportanceExperiment.between(256, 192, 2, 4));
    }

    /** A search retraining table (as {@code ArchitectureSearch} writes it) from per-candidate loss curves. */
    private static Table retraining(Map<String, double[]> curves) {
        tech.tablesaw.api.StringColumn c = tech.tablesaw.api.StringColumn.create("candidate");
        tech.tablesaw.api.IntColumn st = tech.tablesaw.api.IntColumn.create("stage");
        tech.tablesaw.api.LongColumn tok = tech.tablesaw.api.LongColumn.create("tokens");
        tech.tablesaw.api.DoubleColumn vl = tech.tablesaw.api.DoubleColumn.create("val_loss");
        for (var e : curves.entrySet()) {
            for (int s = 0; s < e.getValue().length; s++) {
                c.append(e.getKey());
                st.append(s);
                tok.append(100L * s);
                vl.append(e.getValue()[s]);
            }
        }
        return Table.create("retrain", c, st, tok, vl);
    }

    @Test
    void searchRuleUsesKendallTauOfTheStageRankings() {
        // Zero-shot order a < b < c (a best); after retraining c < b < a and it stays there.
        Map<String, double[]> r = new LinkedHashMap<>();
        r.put("a", new double[] {5.0, 5.5, 5.6, 5.7});
        r.put("b", new double[] {5.1, 5.3, 5.3, 5.3});
        r.put("c", new double[] {5.2, 5.0, 5.0, 4.9});
        Map<String, Long> params = Map.of("a", 1L, "b", 1L, "c", 1L, "d", 1L);
        Outcome o = SearchExperiment.outcome(retraining(r), params);
        assertTrue(o.holds(), o.measurement());
        double tau0 = RankAgreement.kendallTauB(new double[] {5.0, 5.1, 5.2}, new double[] {5.7, 5.3, 4.9});
        assertEquals(-1.0, tau0, 1e-12);
        assertTrue(o.measurement().contains("-1.00") && o.measurement().contains("4 candidates")
                && o.measurement().contains("top 3"), o.measurement());
        // When the zero-shot ranking already is the final one, the claim (zero-shot unreliable) fails.
        r.put("a", new double[] {5.0, 5.5, 4.0, 4.0});
        r.put("b", new double[] {5.1, 5.3, 4.5, 4.5});
        r.put("c", new double[] {5.2, 5.0, 4.6, 4.7});
        assertFalse(SearchExperiment.outcome(retraining(r), params).holds());
    }

    @Test
    void shapesMatchTheDepthTargetsParameterCount() {
        Shapes s = new Shapes(TEACHER);
        long depth = s.depthTargetParams();
        assertEquals(ParamCount.of(TEACHER.withShape(256, 704, 4, 8, 2)).total(), depth);
        ModelConfig w = s.config(s.widthTarget());
        assertEquals(192, w.hiddenSize());
        assertEquals(8, w.numHiddenLayers());
        // Within one MLP neuron per layer (3 x hidden params per neuron per layer).
        long perNeuron = 3L * w.hiddenSize() * w.numHiddenLayers();
        assertTrue(Math.abs(ParamCount.of(w).total() - depth) <= perNeuron / 2 + 1,
                ParamCount.of(w).total() + " vs " + depth);
        ModelConfig a = s.config(s.aggregationTarget());
        assertEquals(6, a.numAttentionHeads());
        assertEquals(2, a.numKeyValueHeads());
        ModelConfig mid = s.config(s.midTarget());
        assertTrue(ParamCount.of(mid).total() > ParamCount.of(w).total()
                && ParamCount.of(mid).total() < ParamCount.of(TEACHER).total());
        // Experiment 6 searches the default space within 5% of the depth target: a real choice of shapes.
        var cands = ai.minitron.search.SearchSpace.of(TEACHER).enumerate(depth, SearchExperiment.TOLERANCE);
        assertTrue(cands.size() >= 5, "candidates: " + cands.size());
        for (var c : cands) {
            assertTrue(Math.abs(c.params() - depth) <= SearchExperiment.TOLERANCE * depth, c.id() + " has " + c.params());
        }
    }

    @Test
    void onlyParsesExperimentNumbers() {
        assertEquals(Set.of(1, 3, 5), Findings.parseOnly("1, 3,5"));
        assertEquals(9, Findings.parseOnly(null).size());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Findings.parseOnly("2,x")).getMessage().contains("'x'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Findings.parseOnly("0")).getMessage().contains("0"));
    }
}
