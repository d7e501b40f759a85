package ai.minitron.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * N busy loops beside a benchmark, to measure how throughput holds up on a shared machine: each is a separate
 * process ({@code sh -c 'while :; do :; done'}) that spins on one core until {@link #close}, which stops them
 * all (a shutdown hook does too, should the JVM exit first).
 */
public final class BusyLoad implements AutoCloseable {
    private final List<Process> loops = new ArrayList<>();
    private final Thread hook = new Thread(this::stop);

    /** Starts {@code n} busy processes (none for 0). */
    public BusyLoad(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("--busy must be >= 0, got " + n);
        }
        try {
            for (int i = 0; i < n; i++) {
                loops.add(new ProcessBuilder("sh", "-c", "while :; do :; done")
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectError(ProcessBuilder.Redirect.DISCARD).start());
            }
        } catch (IOException e) {
            stop();
            throw new UncheckedIOException("cannot start a busy loop (sh): " + e.getMessage(), e);
        }
        Runtime.getRuntime().addShutdownHook(hook);
    }

    public int count() {
        return loops.size();
    }

    private void stop() {
        for (Process p : loops) {
            p.destroyForcibly();
        }
    }

    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) {
            // already shutting down
        }
    }
}
