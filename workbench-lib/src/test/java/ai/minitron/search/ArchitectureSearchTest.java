package ai.minitron.search;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.stats.RankAgreement;
import ai.minitron.model.Weights;
import ai.minitron.config.Axis;
import ai.minitron.prune.Pruner;
import ai.minitron.prune.UnitScores;
import ai.minitron.stats.ArrowIo;
import ai.minitron.train.BatchSource;
import ai.minitron.train.ValidationLoss;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/** Enumeration against brute force, exact counts, constraints, ranking, resume and top-K retraining. */
class ArchitectureSearchTest {
    /** Llama, untied, no biases: 4 layers, 8 query heads over 2 KV heads (4 per group), head_dim 6. */
    static final ModelConfig C = ModelConfig.builder(Architecture.LLAMA).vocabSize(50).hiddenSize(24)
            .intermediateSize(40).numHiddenLayers(4).numAttentionHeads(8).numKeyValueHeads(2).headDim(6)
            .maxPositionEmbeddings(64).normEps(1e-5).build();

    @TempDir
    Path tmp;

    /** Hand count for this family of configs (untied Llama without biases). */
    static long handCount(int h, int a, int kv, int m, int l) {
        int v = C.vocabSize();
        int d = C.headDim();
        long layer = (long) a * d * h + 2L * kv * d * h + (long) h * a * d + 3L * h * m + 2L * h;
        return 2L * v * h + l * layer + h;
    }

    static SearchSpace tinySpace() {
        return SearchSpace.of(C).withStep(Axis.HIDDEN, 4).withStep(Axis.MLP, 8).withMaxPrune(0.5)
                .withMaxPrune(Axis.KV_GROUPS, 0.5);
    }

    @Test
    void enumerationFindsExactlyWhatBruteForceFinds() {
        SearchSpace s = tinySpace();
        long full = handCount(24, 8, 2, 40, 4);
        assertEquals(full, ParamCount.of(C).total(), "the hand count is right for the parent");
        for (double frac : new double[] {0.5, 0.7}) {
            long budget = (long) (frac * full);
            double tol = 0.05;
            Set<String> expected = new TreeSet<>();
            for (int h = 1; h <= 24; h++) {
                for (int a = 1; a <= 8; a++) {
                    for (int kv = 1; kv <= 2; kv++) {
                        for (int m = 1; m <= 40; m++) {
                            for (int l = 1; l <= 4; l++) {
                                boolean inSpace = (h % 4 == 0 || h == 24) && h >= 12 && a >= 4 && a % kv == 0
                                        && a / kv <= 4 && (m % 8 == 0 || m == 40) && m >= 20 && l >= 2
                                        && h % a == 0; // transformers loads it (HfCompatibility)
                                long n = handCount(h, a, kv, m, l);
                                if (inSpace && Math.abs(n - budget) <= tol * budget) {
                                    expected.add("h" + h + "-a" + a + "-kv" + kv + "-m" + m + "-l" + l);
                                }
                            }
                        }
                    }
                }
            }
            List<Candidate> got = s.enumerate(budget, tol);
            assertTrue(expected.size() > 5, "a meaningful number of candidates: " + expected.size());
            assertEquals(expected, new TreeSet<>(got.stream().map(Candidate::id).toList()));
            assertEquals(got.size(), new TreeSet<>(got.stream().map(Candidate::id).toList()).size(), "no duplicates");
            for (Candidate c : got) {
                assertEquals(handCount(c.hiddenSize(), c.numAttentionHeads(), c.kvGroups(), c.mlpSize(), c.numLayers()),
                        c.params(), c.id());
            }
        }
    }

    @Test
    void everyCandidateCountEqualsItsRealTensorsAndConstraintsHold() {
        SearchSpace s = tinySpace();
        List<Candidate> cands = s.enumerate(ParamCount.of(C).total() * 6 / 10, 0.05);
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(C, m, 1, DataType.FLOAT32);
            UnitScores scores = UnitScores.random(C, 2);
            for (Candidate c : cands) {
                assertTrue(c.hiddenSize() % 4 == 0 && c.hiddenSize() >= 12, c.id());
                assertTrue(c.mlpSize() % 8 == 0 || c.mlpSize() == 40, c.id());
                assertTrue(c.mlpSize() >= 20 && c.numLayers() >= 2 && c.numAttentionHeads() >= 4, c.id());
                assertEquals(0, c.numAttentionHeads() % c.kvGroups(), c.id());
                assertTrue(c.headsPerGroup() <= C.queriesPerKvHead(), c.id());
                Pruner.Pruned p = Pruner.apply(C, w, Pruner.select(C, c.plan(ai.minitron.prune.PrunePlan.Depth.LOWEST),
                        scores));
                try (Weights pw = p.weights()) {
                    assertEquals(c.params(), pw.numel(), c.id());
                    assertEquals(c.config(C), p.config(), c.id());
                    assertArrayEquals(new long[] {c.numAttentionHeads() * 6L, c.hiddenSize()},
                            pw.get("model.layers.0.self_attn.q_proj.weight").getShape().getShape());
                }
            }
        }
    }

    static Weights teacher(NDManager m) {
        Weights w = Weights.random(C, m, 11, DataType.FLOAT32);
        SplittableRandom r = new SplittableRandom(12);
        for (String n : new ArrayList<>(w.names())) {
            float[] v = w.get(n).toFloatArray();
            for (int i = 0; i < v.length; i++) {
                v[i] = v[i] * 4 + (float) ((r.nextDouble() - 0.5) * (n.contains("norm") ? 0.4 : 0.2));
            }
            w.put(n, m.create(v, w.get(n).getShape()));
        }
        return w;
    }

    /** Deterministic rows of 17 tokens with some structure (a noisy counter), so losses differ. */
    static BatchSource tokens(long seed, int rows) {
        SplittableRandom r = new SplittableRandom(seed);
        long[][] data = new long[rows][17];
        for (long[] row : data) {
            long t = r.nextInt(50);
            for (int j = 0; j < row.length; j++) {
                row[j] = t;
                t = r.nextInt(4) == 0 ? r.nextInt(50) : (t + 1) % 50;
            }
        }
        return BatchSource.ofRows(data);
    }

    static ArchitectureSearch search(Weights w, UnitScores s) {
        SearchSpace space = SearchSpace.of(C).withStep(Axis.HIDDEN, 4).withStep(Axis.MLP, 8).withMaxPrune(0.5);
        return ArchitectureSearch.of(C, w).importance(s).space(space).budget(ParamCount.of(C).total() * 7 / 10, 0.05)
                .validation(tokens(3, 8), 2, 4);
    }

    @Test
    void rankingFollowsTheMetricAndScoresAreTheRealValidationLoss() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = teacher(m);
            UnitScores s = UnitScores.random(C, 5);
            SearchResult r = search(w, s).run();
            Table t = r.byRank();
            assertEquals(search(w, s).candidates().size(), t.rowCount());
            for (int i = 1; i < t.rowCount(); i++) {
                assertTrue(t.doubleColumn("val_loss").getDouble(i - 1) <= t.doubleColumn("val_loss").getDouble(i));
            }
            assertEquals(r.zeroShot().ids(), t.stringColumn("candidate").asList());
            // The best candidate's score, recomputed independently with the trainer's validation.
            Candidate best = r.best();
            Pruner.Pruned p = Pruner.apply(C, w, Pruner.select(C, best.plan(ai.minitron.prune.PrunePlan.Depth.LOWEST), s));
            double loss = ValidationLoss.batchMean(p.config(), p.weights(), tokens(3, 8), 2, 4);
            assertEquals(loss, t.doubleColumn("val_loss").getDouble(0), 1e-5);
            p.weights().close();
            // KL ranking orders by the KL column.
            SearchResult k = search(w, s).rankBy(RankBy.KL).run();
            Table kt = k.byRank();
            for (int i = 1; i < kt.rowCount(); i++) {
                assertTrue(kt.doubleColumn("kl_to_teacher").getDouble(i - 1) <= kt.doubleColumn("kl_to_teacher").getDouble(i));
            }
            assertTrue(kt.doubleColumn("kl_to_teacher").min() > 0, "a pruned model differs from its teacher");
        }
    }

    @Test
    void aCrashedSearchResumesWithoutRescoringAndGivesTheSameTable() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = teacher(m);
            UnitScores s = UnitScores.random(C, 5);
            Path fresh = tmp.resolve("fresh");
            Table expected = search(w, s).out(fresh).run().candidates();
            Path dir = tmp.resolve("crashed");
            int[] scored = {0};
            RuntimeException crash = assertThrows(RuntimeException.class, () -> search(w, s).out(dir)
                    .listener(new SearchListener() {
                        @Override
                        public void onCandidate(int i, int n, Candidate c, boolean resumed) {
                            if (++scored[0] == 3) {
                                throw new RuntimeException("simulated crash");
                            }
                        }
                    }).run());
            assertEquals("simulated crash", crash.getMessage());
            int total = expected.rowCount();
            int[] rescored = {0};
            int[] resumed = {0};
            SearchResult r = search(w, s).out(dir).listener(new SearchListener() {
                @Override
                public void onCandidate(int i, int n, Candidate c, boolean fromDisk) {
                    if (fromDisk) {
                        resumed[0]++;
                    } else {
                        rescored[0]++;
                    }
                }
            }).run();
            assertEquals(3, resumed[0]);
            assertEquals(total - 3, rescored[0]);
            assertEquals(expected.toString(), r.candidates().toString());
            assertEquals(expected.toString(), ArrowIo.read(dir.resolve(ArchitectureSearch.CANDIDATES_FILE)).toString());
            // Another budget in the same directory is refused.
            var e = assertThrows(IllegalArgumentException.class,
                    () -> search(w, s).budget(ParamCount.of(C).total() / 2, 0.05).out(dir).run());
            assertTrue(e.getMessage().contains("other settings"), e.getMessage());
        }
    }

    @Test
    void topKRetrainingReranksAndTauComparesSuccessiveStages() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = teacher(m);
            UnitScores s = UnitScores.random(C, 5);
            Path dir = tmp.resolve("retrain");
            SearchResult r = search(w, s).retrain(3, 2, 128, tokens(9, 16)).learningRate(1e-3).out(dir).run();
            assertEquals(3, r.rankings().size(), "zero-shot + 2 stages");
            assertEquals(2, r.tau().length);
            Table rt = r.retraining();
            assertEquals(3 * 3, rt.rowCount(), "3 candidates x (zero-shot + 2 stages)");
            List<String> top = r.zeroShot().ids().subList(0, 3);
            for (int stage = 1; stage <= 2; stage++) {
                double[] before = new double[3];
                double[] after = new double[3];
                for (int j = 0; j < 3; j++) {
                    before[j] = value(rt, top.get(j), stage - 1);
                    after[j] = value(rt, top.get(j), stage);
                }
                double tau = r.tau()[stage - 1];
                assertTrue(tau >= -1 && tau <= 1, "tau " + tau);
                assertEquals(RankAgreement.kendallTauB(before, after), tau, 1e-12);
                SearchResult.Ranking k = r.rankings().get(stage);
                assertEquals(new TreeSet<>(top), new TreeSet<>(k.ids()));
                for (int j = 1; j < 3; j++) {
                    assertTrue(k.scores()[j - 1] <= k.scores()[j]);
                }
                assertEquals(k.scores()[0], value(rt, k.ids().get(0), stage), 0);
            }
            for (String id : top) {
                assertTrue(value(rt, id, 2, "kl_to_teacher") < value(rt, id, 0, "kl_to_teacher"),
                        id + ": distillation pulls the candidate towards its teacher");
            }
            assertEquals(r.last().ids().get(0), r.best().id());
            assertTrue(java.nio.file.Files.isRegularFile(dir.resolve("search.json")));
            assertEquals(rt.toString(), ArrowIo.read(dir.resolve(ArchitectureSearch.RETRAIN_FILE)).toString());
            // A rerun resumes everything from disk: nothing is retrained, the result is identical.
            int[] steps = {0};
            SearchResult again = search(w, s).retrain(3, 2, 128, tokens(9, 16)).learningRate(1e-3).out(dir)
                    .listener(new SearchListener() {
                        @Override
                        public void onRetrainStep(Candidate c, long step, long n) {
                            steps[0]++;
                        }
                    }).run();
            assertEquals(0, steps[0]);
            assertArrayEquals(r.tau(), again.tau());
        }
    }

    @Test
    void aDivergingCandidateIsRankedLastAndTheSearchGoesOn() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = teacher(m);
            UnitScores s = UnitScores.random(C, 5);
            List<String> diverged = new ArrayList<>();
            SearchResult r = search(w, s).retrain(2, 1, 256, tokens(9, 16)).learningRate(1e9)
                    .listener(new SearchListener() {
                        @Override
                        public void onDiverged(Candidate c, String why) {
                            diverged.add(c.id());
                        }
                    }).run();
            assertEquals(2, diverged.size(), "a learning rate of 1e9 diverges");
            assertTrue(java.util.Arrays.stream(r.last().scores()).allMatch(Double::isInfinite));
            assertTrue(Double.isNaN(r.tau()[0]), "no ranking among diverged candidates");
        }
    }

    private static double value(Table rt, String id, int stage) {
        return value(rt, id, stage, "val_loss");
    }

    private static double value(Table rt, String id, int stage, String column) {
        for (int i = 0; i < rt.rowCount(); i++) {
            if (rt.stringColumn("candidate").get(i).equals(id) && rt.intColumn("stage").getInt(i) == stage) {
                return rt.doubleColumn(column).getDouble(i);
            }
        }
        throw new AssertionError("no row for " + id + " stage " + stage);
    }

    @Test
    void badInputListsTheNearestValidChoices() {
        SearchSpace s = tinySpace();
        long full = ParamCount.of(C).total();
        var big = assertThrows(IllegalArgumentException.class, () -> s.enumerate(full * 2, 0.05));
        assertTrue(big.getMessage().contains("larger than the parent") && big.getMessage().contains("nearest achievable counts")
                && big.getMessage().contains(String.format("%,d (h24-a8-kv2-m40-l4)", full)), big.getMessage());
        var none = assertThrows(IllegalArgumentException.class, () -> s.enumerate(3000, 0.05));
        assertTrue(none.getMessage().contains("nearest achievable counts"), none.getMessage());
        var heads = assertThrows(IllegalArgumentException.class,
                () -> s.withValues(Axis.KV_GROUPS, 2).withValues(Axis.HEADS, 6, 7));
        assertTrue(heads.getMessage().contains("7 query heads cannot be split evenly")
                && heads.getMessage().contains("[2, 4, 6, 8]"), heads.getMessage());
        var empty = assertThrows(IllegalArgumentException.class,
                () -> s.withValues(Axis.KV_GROUPS, 1).withMaxPrune(Axis.HEADS, 0.25).all());
        assertTrue(empty.getMessage().contains("empty search space")
                && empty.getMessage().contains("valid head counts with 1 KV groups: [1, 2, 3, 4]"), empty.getMessage());
        var noValues = assertThrows(IllegalArgumentException.class, () -> s.withValues(Axis.MLP));
        assertTrue(noValues.getMessage().contains("empty search space"), noValues.getMessage());
        var range = assertThrows(IllegalArgumentException.class, () -> s.withValues(Axis.HIDDEN, 16, 32));
        assertTrue(range.getMessage().contains("valid choices are 1..24"), range.getMessage());
    }

    @Test
    void aBudgetAloneChoosesAShapeByTheDocumentedRule() {
        SearchSpace s = tinySpace();
        long budget = ParamCount.of(C).total() * 7 / 10;
        Candidate c = s.defaultChoice(budget, 0.05);
        List<Candidate> all = s.enumerate(budget, 0.05);
        int maxLayers = all.stream().mapToInt(Candidate::numLayers).max().orElseThrow();
        assertEquals(maxLayers, c.numLayers(), "width before depth");
        double best = all.stream().filter(x -> x.numLayers() == maxLayers).mapToDouble(s::largestPruneFraction).min()
                .orElseThrow();
        assertEquals(best, s.largestPruneFraction(c), 0, "the most even width pruning");
    }
}
