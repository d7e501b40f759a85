package ai.minitron.search;

/**
 * What an {@link ArchitectureSearch} ranks candidates by (the CLI's {@code --rank-by loss|kl}); lower is
 * better for both. The constant names are part of the resume settings hash and of {@code search.json}.
 */
public enum RankBy {
    /** Mean next-token cross-entropy of the candidate on the validation tokens. */
    VAL_LOSS,
    /** Mean KL(teacher ‖ candidate) at τ = 1 on the validation tokens. */
    KL;

    /** This metric out of a candidate's {val_loss, kl} scores. */
    double of(double[] scores) {
        return this == VAL_LOSS ? scores[0] : scores[1];
    }
}
