package ai.minitron.reproduce;

import ai.minitron.stats.Bootstrap;
import ai.minitron.stats.Interval;
import ai.minitron.stats.StudentT;
import ai.minitron.stats.Verdict;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.Table;

/**
 * How a finding is decided over seeds in the full (retraining) reproduction. Every seed i of the budget
 * runs every arm of the experiment on the view {@link Lab#seeded seeded(i)} and yields the claim's
 * comparisons d_{i,c}, each oriented so the paper's claim says it is negative. Then:
 *
 * <pre>
 *   d_i      = max_c d_{i,c}  (BEATS: the least favourable comparison of seed i)
 *            = min_c d_{i,c}  (NO_GAIN: the largest gain of seed i)
 *   interval = 95 % Student-t interval of mean(d_i) over the n seeds ({@link StudentT})
 *   verdict  = {@link Verdict#of}(interval, tie, claim): holds / fails / inconclusive
 * </pre>
 *
 * A claim with several comparisons ("activation beats magnitude and random, zero-shot and after
 * distillation") thus holds only when, seed by seed, even its weakest comparison is a win beyond the tie.
 * Every comparison's own interval is reported in the measurement. The combined outcome's rows are the
 * single-run rows averaged over the seeds (by setting and metric); its detail table stacks the seeds'
 * detail tables with the columns {@code seed} (index), {@code seed_value}, {@code d} and, for several
 * comparisons, one column per comparison.
 */
public final class OverSeeds {
    private OverSeeds() {}

    /** Runs {@code e} once for every seed of the lab's budget and decides over the seeds. */
    public static Outcome run(Experiment e, Lab lab) {
        int n = lab.budget().seeds();
        List<Experiment.Trial> trials = new ArrayList<>();
        long[] seeds = new long[n];
        for (int i = 0; i < n; i++) {
            Lab s = lab.seeded(i);
            seeds[i] = s.seed();
            trials.add(e.trial(s));
        }
        return combine(e, trials, seeds);
    }

    /** The decision over the seeds' trials ({@code seeds[i]} is the seed of {@code trials.get(i)}). */
    public static Outcome combine(Experiment e, List<Experiment.Trial> trials, long[] seeds) {
        int n = trials.size();
        if (n == 0 || seeds.length != n) {
            throw new IllegalArgumentException("experiment " + e.number() + ": " + n + " trials for " + seeds.length
                    + " seeds");
        }
        List<String> parts = new ArrayList<>(trials.get(0).parts().keySet());
        for (int i = 1; i < n; i++) {
            if (!trials.get(i).parts().keySet().equals(trials.get(0).parts().keySet())) {
                throw new IllegalArgumentException("experiment " + e.number() + ": seed " + i + " compares "
                        + trials.get(i).parts().keySet() + ", seed 0 " + parts);
            }
        }
        boolean noGain = e.claim() == Verdict.Claim.NO_GAIN;
        double[] d = new double[n];
        double[][] byPart = new double[parts.size()][n];
        for (int i = 0; i < n; i++) {
            d[i] = noGain ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
            for (int c = 0; c < parts.size(); c++) {
                double v = trials.get(i).parts().get(parts.get(c));
                byPart[c][i] = v;
                d[i] = Double.isNaN(v) || Double.isNaN(d[i]) ? Double.NaN : noGain ? Math.min(d[i], v) : Math.max(d[i], v);
            }
        }
        Interval interval = interval(d);

        String unit = e.unit();
        StringBuilder m = new StringBuilder(String.format(Locale.ROOT, "d: %s %s over %d %s (per seed:",
                interval.format(4), unit, n, n == 1 ? "seed" : "seeds"));
        for (double v : d) {
            m.append(String.format(Locale.ROOT, " %.4f", v));
        }
        m.append(")");
        if (parts.size() > 1) {
            for (int c = 0; c < parts.size(); c++) {
                m.append(String.format(Locale.ROOT, "; %s: %s", parts.get(c), interval(byPart[c]).format(4)));
            }
        }
        for (String k : trials.get(0).reported().keySet()) {
            double[] x = new double[n];
            for (int i = 0; i < n; i++) {
                Double v = trials.get(i).reported().get(k);
                x[i] = v == null ? Double.NaN : v;
            }
            m.append(String.format(Locale.ROOT, "; %s: %s", k, interval(x).format(3)));
        }
        m.append("; seed 0: ").append(trials.get(0).outcome().measurement());

        String rule = e.statistic() + (parts.size() > 1 ? ", the " + (noGain ? "largest gain" : "least favourable")
                + " of the claim's comparisons (" + String.join("; ", parts) + ")" : "")
                + ", per seed; 95% Student-t interval of its mean over the seeds";
        return Outcome.decided(meanRows(trials), detail(trials, seeds, d, parts, byPart), rule, m.toString(), interval,
                e.claim(), e.tie());
    }

    /** The t interval of {@code x}, or an undecided (NaN) one when a seed has no value. */
    static Interval interval(double[] x) {
        for (double v : x) {
            if (!Double.isFinite(v)) {
                return new Interval(Double.NaN, Double.NaN, Double.NaN, Bootstrap.LEVEL, x.length);
            }
        }
        return StudentT.mean(x);
    }

    /** Each (setting, metric) row's mean over the seeds that have it, in first-seen order. */
    private static List<Outcome.Row> meanRows(List<Experiment.Trial> trials) {
        Map<List<String>, double[]> acc = new LinkedHashMap<>();
        for (Experiment.Trial t : trials) {
            for (Outcome.Row r : t.outcome().rows()) {
                double[] a = acc.computeIfAbsent(List.of(r.setting(), r.metric()), k -> new double[2]);
                a[0] += r.value();
                a[1]++;
            }
        }
        List<Outcome.Row> rows = new ArrayList<>();
        acc.forEach((k, a) -> rows.add(new Outcome.Row(k.get(0), k.get(1), a[0] / a[1])));
        return rows;
    }

    /** The seeds' detail tables stacked, with seed, seed_value, d (and per-comparison) columns in front. */
    private static Table detail(List<Experiment.Trial> trials, long[] seeds, double[] d, List<String> parts,
            double[][] byPart) {
        Table all = null;
        for (int i = 0; i < trials.size(); i++) {
            Table t = trials.get(i).outcome().detail().copy();
            int rows = t.rowCount();
            int at = 0;
            t.insertColumn(at++, IntColumn.create("seed", filled(rows, i)));
            LongColumn sv = LongColumn.create("seed_value");
            DoubleColumn dc = DoubleColumn.create("d");
            for (int r = 0; r < rows; r++) {
                sv.append(seeds[i]);
                dc.append(d[i]);
            }
            t.insertColumn(at++, sv);
            t.insertColumn(at++, dc);
            if (parts.size() > 1) {
                for (int c = 0; c < parts.size(); c++) {
                    DoubleColumn pc = DoubleColumn.create(parts.get(c));
                    for (int r = 0; r < rows; r++) {
                        pc.append(byPart[c][i]);
                    }
                    t.insertColumn(at++, pc);
                }
            }
            all = all == null ? t : all.append(t);
        }
        return all;
    }

    private static int[] filled(int n, int v) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, v);
        return a;
    }
}
