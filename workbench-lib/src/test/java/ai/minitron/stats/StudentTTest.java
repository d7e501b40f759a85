package ai.minitron.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The Student-t interval over seeds and the three-valued verdict it feeds. */
class StudentTTest {
    private static final double TIE = 0.005;

    @Test
    void quantilesMatchTheTable() {
        // two-sided 95 %: t_{0.975, df} from any statistics table
        assertEquals(12.7062, StudentT.quantile(0.975, 1), 1e-4);
        assertEquals(4.3027, StudentT.quantile(0.975, 2), 1e-4);
        assertEquals(3.1824, StudentT.quantile(0.975, 3), 1e-4);
        assertEquals(2.0423, StudentT.quantile(0.975, 30), 1e-4);
        assertEquals(1.9600, StudentT.quantile(0.975, 100_000), 1e-3);
    }

    @Test
    void intervalOfThreeSeeds() {
        // mean 2, s = 1, se = 1/sqrt(3), half width 4.3027 / sqrt(3) = 2.4842
        Interval i = StudentT.mean(new double[] {1, 2, 3});
        assertEquals(2.0, i.mean(), 1e-12);
        assertEquals(2 - 2.48414, i.lo(), 1e-4);
        assertEquals(2 + 2.48414, i.hi(), 1e-4);
        assertEquals(3, i.n());
        Interval p = StudentT.paired(new double[] {5, 6, 7}, new double[] {4, 4, 4});
        assertEquals(i, p);
    }

    @Test
    void oneSeedDecidesNothing() {
        Interval one = StudentT.mean(new double[] {-1.0});
        assertEquals(Double.NEGATIVE_INFINITY, one.lo());
        assertEquals(Double.POSITIVE_INFINITY, one.hi());
        assertEquals(Verdict.INCONCLUSIVE, Verdict.of(one, TIE, Verdict.Claim.BEATS));
        assertEquals(Verdict.INCONCLUSIVE, Verdict.of(one, TIE, Verdict.Claim.NO_GAIN));
    }

    /** Per-seed differences d_i = loss(claimed winner) − loss(claimed loser) over 3 seeds. */
    @Test
    void tieIsInconclusiveReversalFailsWinHolds() {
        Interval tie = StudentT.mean(new double[] {0.004, -0.006, 0.001});
        Interval reversal = StudentT.mean(new double[] {0.040, 0.052, 0.047});
        Interval win = StudentT.mean(new double[] {-0.080, -0.071, -0.090});
        assertEquals(Verdict.INCONCLUSIVE, Verdict.of(tie, TIE, Verdict.Claim.BEATS), tie.toString());
        assertEquals(Verdict.FAILS, Verdict.of(reversal, TIE, Verdict.Claim.BEATS), reversal.toString());
        assertEquals(Verdict.HOLDS, Verdict.of(win, TIE, Verdict.Claim.BEATS), win.toString());
        // a consistent but tiny win (inside the tie band) is still a tie
        Interval tiny = StudentT.mean(new double[] {-0.003, -0.0031, -0.0029});
        assertEquals(Verdict.INCONCLUSIVE, Verdict.of(tiny, TIE, Verdict.Claim.BEATS), tiny.toString());
        // a clear mean that the seeds disagree on is inconclusive: 3 seeds, one reversed
        Interval noisy = StudentT.mean(new double[] {-0.2, -0.15, 0.1});
        assertEquals(Verdict.INCONCLUSIVE, Verdict.of(noisy, TIE, Verdict.Claim.BEATS), noisy.toString());
        // "no gain" claims (iterative importance): d = loss(iterative) − loss(single-shot)
        assertEquals(Verdict.HOLDS, Verdict.of(StudentT.mean(new double[] {0.01, 0.012, 0.011}), TIE,
                Verdict.Claim.NO_GAIN));
        assertEquals(Verdict.FAILS, Verdict.of(win, TIE, Verdict.Claim.NO_GAIN));
    }

    @Test
    void badInputIsNamed() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> StudentT.mean(new double[] {1, Double.NaN}))
                .getMessage().contains("value 1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> StudentT.mean(new double[0]))
                .getMessage().contains("no values"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> StudentT.paired(new double[] {1, 2}, new double[] {1})).getMessage().contains("2 vs 1"));
    }
}
