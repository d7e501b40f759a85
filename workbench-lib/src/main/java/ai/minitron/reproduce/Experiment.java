package ai.minitron.reproduce;

import ai.minitron.stats.Verdict;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One finding of the Minitron papers, reproduced in miniature on the {@link Lab}'s teacher: it states
 * the paper's claim, measures it once per seed ({@link #trial}), and decides from the per-seed numbers,
 * by the rule of {@link OverSeeds}, whether the claim holds, fails or stays inconclusive here
 * ({@link Outcome}).
 */
public interface Experiment {
    /** 1..9, the numbering. */
    int number();

    /** A short name, used in file names ("aggregation", "baselines", ...). */
    String name();

    /** The finding in a few words. */
    String finding();

    /** What the paper claims, with its source (paper and table or figure). */
    String paperClaim();

    /**
     * One seed's measurement on the view {@link Lab#seeded seeded(i)}: the single-run outcome (rows,
     * detail, measurement) and the differences the claim is decided on.
     */
    Trial trial(Lab seed);

    /**
     * What one comparison of {@link Trial#parts} measures, e.g. "d = loss(width) - loss(depth) after equal
     * distillation", oriented so that the paper's claim says it is negative.
     */
    String statistic();

    /** The shape of the claim: one setting beats another ({@code BEATS}, the default) or brings no gain. */
    default Verdict.Claim claim() {
        return Verdict.Claim.BEATS;
    }

    /** The smallest difference that counts, in the statistic's units ({@link Outcome#TIE_NATS} for losses). */
    default double tie() {
        return Outcome.TIE_NATS;
    }

    /** The statistic's unit ("nats"). */
    default String unit() {
        return "nats";
    }

    /** Runs every seed of the lab's budget and decides over them ({@link OverSeeds#run}). */
    default Outcome run(Lab lab) {
        return OverSeeds.run(this, lab);
    }

    /**
     * The zero-shot part of the finding (forward passes only, no retraining), with its verdict computed
     * from a paired bootstrap interval over the validation windows; null when the finding has none.
     */
    default ZeroShot zeroShot() {
        return null;
    }

    /**
     * One seed's measurement.
     *
     * @param outcome the single-run outcome of this seed (its rows are averaged over seeds, its detail table
     *     gets a seed column, its measurement is quoted for seed 0)
     * @param parts the claim's comparisons by name, each oriented like {@link #statistic()}; a claim that
     *     makes several (activation beats magnitude AND random) is decided on the least favourable one per seed
     * @param reported further per-seed numbers whose mean and interval over seeds are reported, not decided on
     *     (the search's Kendall τ of each stage)
     */
    record Trial(Outcome outcome, Map<String, Double> parts, Map<String, Double> reported) {
        public Trial {
            if (parts.isEmpty()) {
                throw new IllegalArgumentException("a trial needs at least one comparison");
            }
            parts = new LinkedHashMap<>(parts);
            reported = new LinkedHashMap<>(reported);
        }

        /** A trial with nothing reported beside its comparisons. */
        public Trial(Outcome outcome, Map<String, Double> parts) {
            this(outcome, parts, Map.of());
        }

        /** A trial with a single comparison. */
        public static Trial of(Outcome outcome, String part, double d) {
            Map<String, Double> m = new LinkedHashMap<>();
            m.put(part, d);
            return new Trial(outcome, m);
        }
    }

    /** The zero-shot part of a finding: what it claims and how it is measured on a {@link Lab}. */
    interface ZeroShot {
        /** The paper's zero-shot claim, with its source. */
        String claim();

        /** Measures it; the outcome carries the interval and the three-valued verdict. */
        Outcome run(Lab lab);
    }
}
