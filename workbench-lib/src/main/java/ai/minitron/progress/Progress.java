package ai.minitron.progress;

/**
 * Progress of a long phase: an importance pass, a depth scan, a reproduction's runs. The CLI shows
 * it as a progress bar, notebooks as a live status line; library code reports and never draws.
 */
@FunctionalInterface
public interface Progress {
    /** Reports nothing. */
    Progress NONE = (phase, done, total) -> {};

    /** {@code done} of {@code total} steps of {@code phase} are finished. */
    void update(String phase, long done, long total);
}
