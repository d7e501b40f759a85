package ai.minitron.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class BootstrapVerdictTest {
    private static final double TIE = 0.005;

    /** n values around {@code mean} with Gaussian noise of {@code sd}. */
    private static double[] noisy(int n, double mean, double sd, long seed) {
        Random r = new Random(seed);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = mean + sd * r.nextGaussian();
        }
        return x;
    }

    @Test
    void intervalOfTheMeanCoversTheTruthAndShrinksWithN() {
        Interval small = Bootstrap.mean(noisy(20, 3.0, 0.1, 1), 7);
        Interval large = Bootstrap.mean(noisy(2000, 3.0, 0.1, 1), 7);
        assertTrue(small.contains(3.0), small.toString());
        assertTrue(large.contains(3.0), large.toString());
        assertTrue(large.halfWidth() < small.halfWidth() / 5, small + " vs " + large);
        // the normal-theory half width 1.96 sd / sqrt(n) for n = 2000 is 0.00438
        assertEquals(0.00438, large.halfWidth(), 0.0007);
    }

    @Test
    void sameSeedSameInterval() {
        double[] x = noisy(50, 1, 1, 3);
        assertEquals(Bootstrap.mean(x, 11), Bootstrap.mean(x, 11));
    }

    @Test
    void quantileInterpolatesLikeNumpy() {
        double[] s = {1, 2, 3, 4};
        assertEquals(1.075, Bootstrap.quantile(s, 0.025), 1e-12); // numpy.quantile([1,2,3,4], 0.025)
        assertEquals(3.925, Bootstrap.quantile(s, 0.975), 1e-12);
        assertEquals(2.5, Bootstrap.quantile(s, 0.5), 1e-12);
    }

    @Test
    void pairingCancelsWhatTheWindowsShare() {
        // windows differ a lot (hard and easy text), the two settings differ by a constant 0.02 plus small noise
        double[] base = noisy(64, 4.0, 0.5, 5);
        double[] noise = noisy(64, 0, 0.005, 6);
        double[] a = new double[64];
        double[] b = new double[64];
        for (int i = 0; i < 64; i++) {
            a[i] = base[i];
            b[i] = base[i] + 0.02 + noise[i];
        }
        Interval d = Bootstrap.paired(a, b, 1);
        assertTrue(d.hi() < -0.015 && d.lo() > -0.025, d.toString());
        assertEquals(Verdict.HOLDS, Verdict.of(d, TIE, Verdict.Claim.BEATS));
    }

    @Test
    void syntheticTieIsInconclusiveAndClearReversalFails() {
        double[] base = noisy(64, 4.0, 0.5, 8);
        double[] tie = new double[64];
        double[] reversed = new double[64];
        double[] noise = noisy(64, 0, 0.01, 9);
        for (int i = 0; i < 64; i++) {
            tie[i] = base[i] + noise[i]; // same on average
            reversed[i] = base[i] - 0.05 + noise[i]; // the "loser" is clearly better
        }
        Interval dTie = Bootstrap.paired(base, tie, 2);
        Interval dRev = Bootstrap.paired(base, reversed, 2);
        assertEquals(Verdict.INCONCLUSIVE, Verdict.of(dTie, TIE, Verdict.Claim.BEATS), dTie.toString());
        assertEquals(Verdict.FAILS, Verdict.of(dRev, TIE, Verdict.Claim.BEATS), dRev.toString());
        // "A brings no gain over B": a tie holds, a clear gain of A fails
        assertEquals(Verdict.HOLDS, Verdict.of(dTie, 0.01, Verdict.Claim.NO_GAIN), dTie.toString());
        Interval gain = Bootstrap.paired(reversed, base, 2);
        assertEquals(Verdict.FAILS, Verdict.of(gain, TIE, Verdict.Claim.NO_GAIN), gain.toString());
    }

    @Test
    void verdictRuleAtTheBoundaries() {
        assertEquals(Verdict.HOLDS, Verdict.of(new Interval(-0.02, -0.03, -0.0051, 0.95, 9), TIE, Verdict.Claim.BEATS));
        assertEquals(Verdict.INCONCLUSIVE, Verdict.of(new Interval(-0.02, -0.03, -0.004, 0.95, 9), TIE, Verdict.Claim.BEATS));
        assertEquals(Verdict.FAILS, Verdict.of(new Interval(0.02, 0.0051, 0.03, 0.95, 9), TIE, Verdict.Claim.BEATS));
        assertEquals(Verdict.INCONCLUSIVE, Verdict.of(new Interval(0.0, 0.0, 0.0, 0.95, 1), TIE, Verdict.Claim.BEATS));
    }

    @Test
    void badInputIsRefusedNamingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Bootstrap.mean(new double[] {1, Double.NaN}, 1));
        assertTrue(e.getMessage().contains("value 1 is NaN"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Bootstrap.paired(new double[] {1, 2}, new double[] {1}, 1));
        assertTrue(e.getMessage().contains("2 vs 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Verdict.of(new Interval(0, 0, 0, 0.95, 1), -1, Verdict.Claim.BEATS));
    }
}
