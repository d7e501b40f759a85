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

    /** A stand-in experiment for the decision over seeds: each trial carries planted comparisons. */
    private static Experiment planted(ai.minitron.stats.Verdict.Claim claim) {
        return new Experiment() {
            public int number() {
                return 42;
            }

            public String name() {
                return "planted";
            }

            public String finding() {
                return "planted";
            }

            public String paperClaim() {
                return "A beats B";
            }

            public Trial trial(Lab seed) {
                throw new UnsupportedOperationException();
            }

            public String statistic() {
                return "d = loss(A) - loss(B)";
            }

            public ai.minitron.stats.Verdict.Claim claim() {
                return claim;
            }
        };
    }

    /** Trials of the given per-seed comparisons (each map: comparison name -> value), with a one-row detail. */
    @SafeVarargs
    private static List<Experiment.Trial> trials(Map<String, Double>... perSeed) {
        List<Experiment.Trial> t = new ArrayList<>();
        for (Map<String, Double> p : perSeed) {
            Outcome o = new Outcome(new Outcome.Rows().add("A", "val_loss", 5 + p.values().iterator().next()).list(),
                    Table.create("x", tech.tablesaw.api.DoubleColumn.create("loss", 5.0)), false, "r", "m" + t.size());
            t.add(new Experiment.Trial(o, p));
        }
        return t;
    }

    private static Map<String, Double> d(double... v) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < v.length; i++) {
            m.put("A - B" + i, v[i]);
        }
        return m;
    }

    private static final long[] SEEDS = {1, 2, 3};

    @Test
    void overSeedsTieIsInconclusiveReversalFailsWinHolds() {
        var beats = planted(ai.minitron.stats.Verdict.Claim.BEATS);
        Outcome tie = OverSeeds.combine(beats, trials(d(0.003), d(-0.004), d(0.001)), SEEDS);
        assertEquals(ai.minitron.stats.Verdict.INCONCLUSIVE, tie.verdict(), tie.measurement());
        Outcome reversal = OverSeeds.combine(beats, trials(d(0.05), d(0.06), d(0.055)), SEEDS);
        assertEquals(ai.minitron.stats.Verdict.FAILS, reversal.verdict(), reversal.measurement());
        Outcome win = OverSeeds.combine(beats, trials(d(-0.05), d(-0.06), d(-0.055)), SEEDS);
        assertEquals(ai.minitron.stats.Verdict.HOLDS, win.verdict(), win.measurement());
        assertTrue(win.holds());
        assertEquals(-0.055, win.difference().mean(), 1e-12);
        assertEquals(3, win.difference().n());
        // half width = t_{0.975,2} * s / sqrt(3) with s = 0.005: 4.3027 * 0.005 / 1.732 = 0.01242
        assertEquals(0.01242, win.difference().halfWidth(), 1e-4);
        assertTrue(win.measurement().contains("over 3 seeds") && win.measurement().contains("seed 0: m0"),
                win.measurement());
        assertTrue(win.rule().contains("Student-t") && win.rule().contains("holds when"), win.rule());
        // rows are means over seeds; the detail stacks the seeds with seed, seed_value and d in front
        assertEquals(5 - 0.055, win.rows().get(0).value(), 1e-12);
        assertEquals(List.of("seed", "seed_value", "d", "loss"), win.detail().columnNames());
        assertEquals(List.of(0, 1, 2), win.detail().intColumn("seed").asList());
        assertEquals(List.of(1L, 2L, 3L), win.detail().longColumn("seed_value").asList());
        // a single seed gives no interval: inconclusive even on a large difference
        Outcome one = OverSeeds.combine(beats, trials(d(-0.5)), new long[] {1});
        assertEquals(ai.minitron.stats.Verdict.INCONCLUSIVE, one.verdict(), one.measurement());
        // a seed without a value (NaN) decides nothing
        Outcome nan = OverSeeds.combine(beats, trials(d(-0.05), d(Double.NaN), d(-0.055)), SEEDS);
        assertEquals(ai.minitron.stats.Verdict.INCONCLUSIVE, nan.verdict());
    }

    @Test
    void overSeedsDecidesOnTheLeastFavourableComparison() {
        var beats = planted(ai.minitron.stats.Verdict.Claim.BEATS);
        // A beats B0 clearly on every seed, but ties with B1: the claim "A beats B0 and B1" is inconclusive
        Outcome o = OverSeeds.combine(beats, trials(d(-0.1, 0.002), d(-0.12, -0.003), d(-0.11, 0.001)), SEEDS);
        assertEquals(ai.minitron.stats.Verdict.INCONCLUSIVE, o.verdict(), o.measurement());
        assertTrue(o.measurement().contains("A - B0:") && o.measurement().contains("A - B1:"), o.measurement());
        assertTrue(o.rule().contains("least favourable"), o.rule());
        assertEquals(List.of("seed", "seed_value", "d", "A - B0", "A - B1", "loss"), o.detail().columnNames());
        assertEquals(0.002, o.detail().doubleColumn("d").get(0), 1e-12);
        // one comparison reversed on every seed: fails
        Outcome f = OverSeeds.combine(beats, trials(d(-0.1, 0.04), d(-0.12, 0.05), d(-0.11, 0.045)), SEEDS);
        assertEquals(ai.minitron.stats.Verdict.FAILS, f.verdict(), f.measurement());
        // "no gain" (iterative importance): d = loss(iterative) - loss(single-shot)
        var noGain = planted(ai.minitron.stats.Verdict.Claim.NO_GAIN);
        assertEquals(ai.minitron.stats.Verdict.HOLDS,
                OverSeeds.combine(noGain, trials(d(0.02), d(0.03), d(0.025)), SEEDS).verdict());
        assertEquals(ai.minitron.stats.Verdict.FAILS,
                OverSeeds.combine(noGain, trials(d(-0.05), d(-0.06), d(-0.055)), SEEDS).verdict());
        assertEquals(ai.minitron.stats.Verdict.INCONCLUSIVE,
                OverSeeds.combine(noGain, trials(d(0.003), d(-0.004), d(0.001)), SEEDS).verdict());
        // seeds that compare different things are refused, naming them
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
                () -> OverSeeds.combine(beats, trials(d(0.1), d(0.1, 0.2), d(0.1)), SEEDS));
        assertTrue(x.getMessage().contains("seed 1"), x.getMessage());
    }

    @Test
    void seedsDeriveFromTheRunSeed() {
        assertEquals(1234, Lab.seedOf(1234, 0));
        assertEquals(Lab.seedOf(1234, 2), Lab.seedOf(1234, 2));
        assertTrue(Lab.seedOf(1234, 1) != Lab.seedOf(1234, 2) && Lab.seedOf(1234, 1) != Lab.seedOf(1235, 1));
        assertEquals(3, ComputeBudget.full().seeds());
        assertEquals(3, ComputeBudget.full().scaled(4).seeds());
        assertEquals(1, ComputeBudget.zeroShotFindings().seeds());
        assertEquals(5, ComputeBudget.full().withSeeds(5).seeds());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ComputeBudget.full().withSeeds(0)).getMessage()
                .contains("--seeds"));
    }

    @Test
    void searchDecidesOnTheDifferenceOfKendallTau() {
        Map<String, double[]> r = new LinkedHashMap<>();
        r.put("a", new double[] {5.0, 5.5, 5.6, 5.7});
        r.put("b", new double[] {5.1, 5.3, 5.3, 5.3});
        r.put("c", new double[] {5.2, 5.0, 5.0, 4.9});
        double[] tau = SearchExperiment.taus(retraining(r));
        assertEquals(-1.0, tau[0], 1e-12);
        assertEquals(1.0, tau[2], 1e-12);
        assertEquals(1.0, tau[3], 1e-12);
        assertEquals(0.1, new SearchExperiment().tie());
    }

    @Test
    void onlyParsesExperimentNumbers() {
        assertEquals(Set.of(1, 3, 5), Findings.parseOnly("1, 3,5"));
        assertEquals(9, Findings.parseOnly(null).size());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Findings.parseOnly("2,x")).getMessage().contains("'x'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Findings.parseOnly("0")).getMessage().contains("0"));
    }
}
