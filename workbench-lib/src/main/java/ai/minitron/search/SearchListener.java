package ai.minitron.search;

/** Callbacks from a running {@link ArchitectureSearch} (all optional). */
public interface SearchListener {
    /** After candidate {@code index} (0-based) of {@code total} is scored ({@code resumed}: taken from disk). */
    default void onCandidate(int index, int total, Candidate c, boolean resumed) {}

    /** After a retraining step of candidate {@code c}. */
    default void onRetrainStep(Candidate c, long step, long steps) {}

    /** Retraining of {@code c} diverged; it is ranked last (+inf) at the stages it did not reach. */
    default void onDiverged(Candidate c, String why) {}
}
