package ai.minitron.cli;

import ai.minitron.progress.Progress;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The command line's progress bars (ASCII, redrawn continuously on stderr): {@link #open} one bar, or use
 * an instance as the library's {@link Progress}, which shows one bar per phase (activations, taylor,
 * layer drop, ...; a new phase closes the previous bar).
 */
final class ProgressBars implements Progress, AutoCloseable {
    private String phase;
    private ProgressBar bar;

    /** A bar for {@code max} steps of {@code task}. */
    static ProgressBar open(String task, long max) {
        return builder(task, max).build();
    }

    /** A bar for {@code max} steps of {@code task}, counted in {@code unit} (e.g. " windows"). */
    static ProgressBar open(String task, long max, String unit) {
        return builder(task, max).setUnit(unit, 1).build();
    }

    private static ProgressBarBuilder builder(String task, long max) {
        return new ProgressBarBuilder().setTaskName(task).setInitialMax(max).setStyle(ProgressBarStyle.ASCII)
                .continuousUpdate();
    }

    @Override
    public void update(String p, long done, long total) {
        if (!p.equals(phase)) {
            close();
            phase = p;
            bar = open(p, total);
        }
        bar.stepTo(done);
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
