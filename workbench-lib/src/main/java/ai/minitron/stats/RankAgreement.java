package ai.minitron.stats;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * How much two importance metrics agree on the order of the same units, and how stable a metric is:
 * Spearman's ρ (Pearson correlation of average ranks), Kendall's τ-b (tie-corrected, Knight's
 * O(n log n) algorithm, as scipy.stats.kendalltau), the overlap of the top-k sets, and the Jaccard
 * index of two kept sets. Scores: higher = more important; NaN is not allowed.
 */
public final class RankAgreement {
    private RankAgreement() {}

    /** Spearman's rank correlation with average ranks for ties; NaN if either side is constant. */
    public static double spearman(double[] a, double[] b) {
        check(a, b);
        return pearson(averageRanks(a), averageRanks(b));
    }

    /** Kendall's τ-b; NaN if either side is constant. */
    public static double kendallTauB(double[] a, double[] b) {
        check(a, b);
        int n = a.length;
        Integer[] boxed = new Integer[n];
        for (int i = 0; i < n; i++) boxed[i] = i;
        Arrays.sort(boxed, (i, j) -> {
            int c = Double.compare(a[i], a[j]);
            return c != 0 ? c : Double.compare(b[i], b[j]);
        });
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = boxed[i];
        long n0 = (long) n * (n - 1) / 2;
        long tiesA = 0; // pairs tied in a
        long tiesAB = 0; // pairs tied in both
        int runA = 1;
        int runAB = 1;
        for (int i = 1; i <= n; i++) {
            boolean sameA = i < n && a[perm[i]] == a[perm[i - 1]];
            boolean sameAB = sameA && b[perm[i]] == b[perm[i - 1]];
            if (sameAB) {
                runAB++;
            } else {
                tiesAB += (long) runAB * (runAB - 1) / 2;
                runAB = 1;
            }
            if (sameA) {
                runA++;
            } else {
                tiesA += (long) runA * (runA - 1) / 2;
                runA = 1;
            }
        }
        double[] bs = new double[n];
        for (int i = 0; i < n; i++) bs[i] = b[perm[i]];
        long swaps = mergeSortSwaps(bs, new double[n], 0, n);
        long tiesB = 0;
        int runB = 1;
        for (int i = 1; i <= n; i++) {
            if (i < n && bs[i] == bs[i - 1]) {
                runB++;
            } else {
                tiesB += (long) runB * (runB - 1) / 2;
                runB = 1;
            }
        }
        double concordMinusDiscord = (double) n0 - tiesA - tiesB + tiesAB - 2.0 * swaps;
        double denom = Math.sqrt((double) (n0 - tiesA) * (double) (n0 - tiesB));
        return denom == 0 ? Double.NaN : concordMinusDiscord / denom;
    }

    /** Sorts v[lo, hi) ascending, returning the number of strict inversions (pairs with v[i] > v[j], i < j). */
    private static long mergeSortSwaps(double[] v, double[] tmp, int lo, int hi) {
        if (hi - lo < 2) return 0;
        int mid = (lo + hi) >>> 1;
        long swaps = mergeSortSwaps(v, tmp, lo, mid) + mergeSortSwaps(v, tmp, mid, hi);
        int i = lo;
        int j = mid;
        int k = lo;
        while (i < mid && j < hi) {
            if (v[i] <= v[j]) {
                tmp[k++] = v[i++];
            } else {
                swaps += mid - i;
                tmp[k++] = v[j++];
            }
        }
        while (i < mid) tmp[k++] = v[i++];
        while (j < hi) tmp[k++] = v[j++];
        System.arraycopy(tmp, lo, v, lo, hi - lo);
        return swaps;
    }

    /** |top-k(a) ∩ top-k(b)| / k (ties broken by unit index, as {@link #rank}). */
    public static double topKOverlap(double[] a, double[] b, int k) {
        check(a, b);
        if (k < 1 || k > a.length) {
            throw new IllegalArgumentException("k must be in [1, " + a.length + "], got " + k);
        }
        return (double) intersection(topK(a, k), topK(b, k)) / k;
    }

    /** Unit indices sorted by descending score (NaN last; ties by ascending unit index). */
    public static int[] rank(double[] scores) {
        Integer[] idx = new Integer[scores.length];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        Arrays.sort(idx, (x, y) -> {
            double a = scores[x];
            double b = scores[y];
            boolean na = Double.isNaN(a);
            boolean nb = Double.isNaN(b);
            if (na || nb) return na == nb ? Integer.compare(x, y) : (na ? 1 : -1);
            int c = Double.compare(b, a);
            return c != 0 ? c : Integer.compare(x, y);
        });
        int[] out = new int[idx.length];
        for (int i = 0; i < out.length; i++) out[i] = idx[i];
        return out;
    }

    /** The k most important units. */
    public static int[] topK(double[] scores, int k) {
        return Arrays.copyOf(rank(scores), Math.min(k, scores.length));
    }

    /** |A ∩ B| / |A ∪ B| of two sets of unit indices (1 if both are empty). */
    public static double jaccard(int[] a, int[] b) {
        Set<Integer> sa = new HashSet<>();
        for (int x : a) sa.add(x);
        Set<Integer> union = new HashSet<>(sa);
        for (int x : b) union.add(x);
        return union.isEmpty() ? 1.0 : (double) intersection(a, b) / union.size();
    }

    private static int intersection(int[] a, int[] b) {
        Set<Integer> sa = new HashSet<>();
        for (int x : a) sa.add(x);
        int n = 0;
        Set<Integer> seen = new HashSet<>();
        for (int x : b) {
            if (sa.contains(x) && seen.add(x)) n++;
        }
        return n;
    }

    /** Ranks 1..n, ties sharing the average of their ranks. */
    public static double[] averageRanks(double[] v) {
        int n = v.length;
        Integer[] idx = new Integer[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        Arrays.sort(idx, (i, j) -> Double.compare(v[i], v[j]));
        double[] r = new double[n];
        int i = 0;
        while (i < n) {
            int j = i;
            while (j + 1 < n && v[idx[j + 1]] == v[idx[i]]) j++;
            double avg = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) r[idx[k]] = avg;
            i = j + 1;
        }
        return r;
    }

    static double pearson(double[] x, double[] y) {
        int n = x.length;
        double mx = 0;
        double my = 0;
        for (int i = 0; i < n; i++) {
            mx += x[i];
            my += y[i];
        }
        mx /= n;
        my /= n;
        double sxy = 0;
        double sxx = 0;
        double syy = 0;
        for (int i = 0; i < n; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxx == 0 || syy == 0 ? Double.NaN : sxy / Math.sqrt(sxx * syy);
    }

    private static void check(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("cannot compare rankings of " + a.length + " and " + b.length + " units");
        }
        if (a.length < 2) {
            throw new IllegalArgumentException("rank agreement needs at least 2 units, got " + a.length);
        }
        for (int i = 0; i < a.length; i++) {
            if (Double.isNaN(a[i]) || Double.isNaN(b[i])) {
                throw new IllegalArgumentException("score of unit " + i + " is NaN");
            }
        }
    }
}
