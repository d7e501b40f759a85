package ai.minitron.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Rank statistics against hand values and brute-force definitions (with ties). */
class RankAgreementTest {

    @Test
    void handCases() {
        double[] a = {1, 2, 3, 4, 5};
        assertEquals(1.0, RankAgreement.spearman(a, new double[] {10, 20, 30, 40, 50}), 1e-12);
        assertEquals(-1.0, RankAgreement.kendallTauB(a, new double[] {5, 4, 3, 2, 1}), 1e-12);
        // one swapped adjacent pair: tau = (9 - 1) / 10, rho = 1 - 6 * 2 / (5 * 24)
        double[] b = {1, 2, 4, 3, 5};
        assertEquals(0.8, RankAgreement.kendallTauB(a, b), 1e-12);
        assertEquals(0.9, RankAgreement.spearman(a, b), 1e-12);
        // scipy.stats.kendalltau([1,2,3,4,5], [5,6,7,8,7]) = 0.7378647873726218 (tau-b with a tie)
        assertEquals(0.7378647873726218, RankAgreement.kendallTauB(a, new double[] {5, 6, 7, 8, 7}), 1e-12);
        assertArrayEquals(new double[] {1.5, 1.5, 3, 4}, RankAgreement.averageRanks(new double[] {2, 2, 5, 7}));
        // top-k: the 2 best of each are {4, 3} and {4, 2}
        assertEquals(0.5, RankAgreement.topKOverlap(a, new double[] {1, 2, 5, 3, 6}, 2), 1e-12);
        assertEquals(1.0 / 3, RankAgreement.jaccard(new int[] {1, 2}, new int[] {2, 3}), 1e-12);
        assertTrue(Double.isNaN(RankAgreement.spearman(a, new double[] {1, 1, 1, 1, 1})));
        assertThrows(IllegalArgumentException.class, () -> RankAgreement.spearman(a, new double[] {1, 2}));
    }

    @Test
    void kendallMatchesTheQuadraticDefinitionWithTies() {
        Random r = new Random(1);
        for (int trial = 0; trial < 20; trial++) {
            int n = 2 + r.nextInt(60);
            double[] x = new double[n];
            double[] y = new double[n];
            for (int i = 0; i < n; i++) {
                x[i] = r.nextInt(8); // many ties
                y[i] = r.nextInt(8);
            }
            long conc = 0;
            long disc = 0;
            long tx = 0;
            long ty = 0;
            for (int i = 0; i < n; i++) {
                for (int j = i + 1; j < n; j++) {
                    double s = Math.signum(x[i] - x[j]) * Math.signum(y[i] - y[j]);
                    if (s > 0) conc++;
                    if (s < 0) disc++;
                    if (x[i] == x[j] && y[i] != y[j]) tx++;
                    if (y[i] == y[j] && x[i] != x[j]) ty++;
                }
            }
            double expected = (conc - disc) / Math.sqrt((double) (conc + disc + tx) * (conc + disc + ty));
            double got = RankAgreement.kendallTauB(x, y);
            if (Double.isNaN(expected)) {
                assertTrue(Double.isNaN(got));
            } else {
                assertEquals(expected, got, 1e-12, "n = " + n);
            }
        }
    }
}
