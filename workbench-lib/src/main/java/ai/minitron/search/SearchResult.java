package ai.minitron.search;

import java.util.List;
import tech.tablesaw.api.Table;

/**
 * What an {@link ArchitectureSearch} found: every candidate with its zero-shot scores, the
 * retraining log of the top K, the ranking after each stage and Kendall's τ between successive
 * rankings.
 *
 * @param candidates one row per candidate (shape, exact params, val_loss, kl_to_teacher, zero_shot_rank)
 * @param retraining one row per (top-K candidate, stage): tokens, val_loss, kl_to_teacher, rank;
 *     stage 0 is the zero-shot score (empty when there was no retraining)
 * @param rankings stage 0 = all candidates zero-shot; stage s >= 1 = the top K after s retraining stages
 * @param tau tau[s - 1] = Kendall τ-b between the rankings of the top K after stage s - 1 and after stage s
 *     (NaN when it is undefined: fewer than 2 candidates or a constant score)
 * @param best the chosen candidate: best after the last retraining stage, else the zero-shot best
 */
public record SearchResult(Table candidates, Table retraining, List<Ranking> rankings, double[] tau, Candidate best) {

    /**
     * A ranking, best first.
     *
     * @param stage 0 = zero-shot, s = after s retraining stages
     * @param tokens student tokens each candidate was retrained on by then
     * @param ids candidate ids, best first
     * @param scores their metric values (lower = better)
     */
    public record Ranking(int stage, long tokens, List<String> ids, double[] scores) {}

    /** The zero-shot ranking of every candidate. */
    public Ranking zeroShot() {
        return rankings.get(0);
    }

    /** The ranking after the last stage. */
    public Ranking last() {
        return rankings.get(rankings.size() - 1);
    }

    /** The candidates table sorted by zero-shot rank (a Tablesaw view for notebooks). */
    public Table byRank() {
        return candidates.sortAscendingOn("zero_shot_rank");
    }

    /** The {@code n} best candidates zero-shot. */
    public Table top(int n) {
        return byRank().first(n);
    }
}
