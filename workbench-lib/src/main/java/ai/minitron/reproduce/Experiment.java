package ai.minitron.reproduce;

/**
 * One finding of the Minitron papers, reproduced in miniature on the {@link Lab}'s teacher: it states
 * the paper's claim, measures, and decides from its own numbers, by the rule the paper states, whether the
 * claim holds here ({@link Outcome}).
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

    /** Runs the experiment. */
    Outcome run(Lab lab);

    /**
     * The zero-shot part of the finding (forward passes only, no retraining), with its verdict computed
     * from a paired bootstrap interval over the validation windows; null when the finding has none.
     */
    default ZeroShot zeroShot() {
        return null;
    }

    /** The zero-shot part of a finding: what it claims and how it is measured on a {@link Lab}. */
    interface ZeroShot {
        /** The paper's zero-shot claim, with its source. */
        String claim();

        /** Measures it; the outcome carries the interval and the three-valued verdict. */
        Outcome run(Lab lab);
    }
}
