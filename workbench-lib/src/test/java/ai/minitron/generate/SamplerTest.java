package ai.minitron.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Each logits processor on hand-made logits, and the seeded draw. */
class SamplerTest {
    static final double EPS = 1e-12;

    static double[] logOf(double... probs) {
        return Arrays.stream(probs).map(Math::log).toArray();
    }

    @Test
    void temperatureRescalesLogitsBeforeTheSoftmax() {
        double[] l = {1, 2, 3};
        double[] p = Sampler.distribution(l, SamplingParams.sample(2, 0), null);
        assertArrayEquals(Sampler.softmax(new double[] {0.5, 1, 1.5}), p, EPS);
        double[] cold = Sampler.distribution(l, SamplingParams.sample(0.1, 0), null);
        assertTrue(cold[2] > 0.9999, "low temperature concentrates on the argmax");
        double[] greedy = Sampler.distribution(l, SamplingParams.greedy(), null);
        assertArrayEquals(new double[] {0, 0, 1}, greedy, 0);
    }

    @Test
    void topKKeepsExactlyTheKLargest() {
        double[] l = {1, 3, 2, 0};
        Sampler.topK(l, 2);
        assertArrayEquals(new double[] {Double.NEGATIVE_INFINITY, 3, 2, Double.NEGATIVE_INFINITY}, l, 0);
        double[] p = Sampler.distribution(new double[] {1, 3, 2, 0}, SamplingParams.sample(1, 0).withTopK(2), null);
        double z = Math.exp(3) + Math.exp(2);
        assertArrayEquals(new double[] {0, Math.exp(3) / z, Math.exp(2) / z, 0}, p, EPS);
        double[] ties = {1, 1, 1, 0};
        Sampler.topK(ties, 2); // ties go to the lower ids
        assertArrayEquals(new double[] {1, 1, Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY}, ties, 0);
        double[] all = {1, 2};
        Sampler.topK(all, 5);
        assertArrayEquals(new double[] {1, 2}, all, 0);
    }

    @Test
    void topPKeepsTheSmallestNucleusReachingP() {
        double[] probs = {0.05, 0.5, 0.15, 0.3}; // ranked: 1 (0.5), 3 (0.3), 2 (0.15), 0 (0.05)
        assertArrayEquals(new double[] {0, 0.5 / 0.8, 0, 0.3 / 0.8},
                Sampler.distribution(logOf(probs), SamplingParams.sample(1, 0).withTopP(0.79), null), 1e-9);
        assertArrayEquals(new double[] {0, 0.5 / 0.95, 0.15 / 0.95, 0.3 / 0.95},
                Sampler.distribution(logOf(probs), SamplingParams.sample(1, 0).withTopP(0.81), null), 1e-9);
        assertArrayEquals(new double[] {0, 1, 0, 0},
                Sampler.distribution(logOf(probs), SamplingParams.sample(1, 0).withTopP(0.3), null), 1e-9);
        // top-p applies after temperature: at T = 0.5 the 0.5 token alone holds > 0.6 of the mass
        double[] hot = Sampler.distribution(logOf(probs), SamplingParams.sample(0.5, 0).withTopP(0.6), null);
        assertArrayEquals(new double[] {0, 1, 0, 0}, hot, 1e-9);
    }

    @Test
    void topPOverALargeFlatVocabularyKeepsAboutPOfIt() {
        double[] l = new double[50_000]; // uniform: the nucleus is the first ceil(p * V) ids
        double[] p = Sampler.distribution(l, SamplingParams.sample(1, 0).withTopP(0.5), null);
        long kept = Arrays.stream(p).filter(x -> x > 0).count();
        assertEquals(25_000, kept, 1);
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOfSeenTokens() {
        double[] l = {2, -2, 1, 4};
        Sampler.repetitionPenalty(l, new boolean[] {true, true, false, false}, 2);
        assertArrayEquals(new double[] {1, -4, 1, 4}, l, 0);
        // greedy honours it: token 0 would win, but it was seen
        double[] p = Sampler.distribution(new double[] {3, 2, 0}, SamplingParams.greedy().withRepetitionPenalty(2),
                new boolean[] {true, false, false});
        assertArrayEquals(new double[] {0, 1, 0}, p, 0);
    }

    @Test
    void seededDrawsFollowTheDistributionAndRepeat() {
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.2)};
        int n = 20_000;
        int[] a = draws(logits, 42, n);
        int[] b = draws(logits, 42, n);
        int[] c = draws(logits, 43, n);
        assertArrayEquals(a, b, "same seed, same draws");
        assertTrue(!Arrays.equals(a, c), "different seeds, different draws");
        double[] freq = new double[3];
        for (int x : a) freq[x] += 1.0 / n;
        assertArrayEquals(new double[] {0.5, 0.3, 0.2}, freq, 0.015);
    }

    @Test
    void topKOneIsGreedyAndSamplerRemembersWhatItChose() {
        SplittableRandom r = new SplittableRandom(3);
        float[] logits = new float[100];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) r.nextGaussian();
        Sampler topK1 = new Sampler(SamplingParams.sample(1.5, 9).withTopK(1), 100);
        Sampler greedy = new Sampler(SamplingParams.greedy(), 100);
        for (int i = 0; i < 5; i++) {
            assertEquals(greedy.next(logits, 0), topK1.next(logits, 0));
        }
        // a vocabulary smaller than the logits row: ids beyond it are never chosen
        float[] wide = {0, 0, 5};
        assertEquals(1, new Sampler(SamplingParams.greedy(), 2).next(new float[] {0, 1, 5}, 0));
        assertEquals(0, new Sampler(SamplingParams.greedy(), 2).next(wide, 0));
    }

    @Test
    void kthLargestAgreesWithSorting() {
        SplittableRandom r = new SplittableRandom(5);
        for (int trial = 0; trial < 50; trial++) {
            double[] a = new double[1 + r.nextInt(300)];
            for (int i = 0; i < a.length; i++) a[i] = r.nextInt(20); // many ties
            int k = 1 + r.nextInt(a.length);
            double[] sorted = a.clone();
            Arrays.sort(sorted);
            assertEquals(sorted[a.length - k], Sampler.kthLargest(a.clone(), k));
        }
    }

    @Test
    void nanLogitsAndBadParametersAreClearErrors() {
        Sampler s = new Sampler(SamplingParams.greedy(), 2);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.next(new float[] {Float.NaN, 0}, 0));
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SamplingParams.sample(-1, 0)).getMessage()
                .contains("temperature"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SamplingParams.greedy().withTopP(0)).getMessage()
                .contains("top-p"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SamplingParams.greedy().withTopK(-2)).getMessage()
                .contains("top-k"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> SamplingParams.greedy().withRepetitionPenalty(0)).getMessage().contains("repetition penalty"));
    }

    static int[] draws(float[] logits, long seed, int n) {
        Sampler s = new Sampler(SamplingParams.sample(1, seed), logits.length);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = s.next(logits, 0);
        return out;
    }
}
