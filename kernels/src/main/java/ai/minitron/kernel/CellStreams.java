package ai.minitron.kernel;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The {@code System.out} and {@code System.err} a cell writes to: {@link LineBufferedStream}s over the Jupyter
 * stream channels, so a saved notebook holds whole lines (nbformat's coalesced shape) instead of one output
 * per {@code print} or {@code printf} fragment.
 *
 * <p>A daemon timer sends complete lines every {@link #FLUSH_MILLIS} ms (live progress still streams); an
 * unfinished line waits for its newline up to {@link #PARTIAL_LINE_MILLIS} ms. The kernel calls
 * {@link #flushAll()} at the end of every cell and before every other output (display, result, error), so the
 * order of outputs is the order in which the cell made them. Public for the JJava extension
 * ({@code ai.minitron.jjava.WholeLineOutput}), which gives JJava's cells the same streams.
 */
public final class CellStreams implements AutoCloseable {

    static final long FLUSH_MILLIS = 100;
    static final long PARTIAL_LINE_MILLIS = 2000;

    private final LineBufferedStream out;
    private final LineBufferedStream err;
    private final PrintStream outPrint;
    private final PrintStream errPrint;
    private final ScheduledExecutorService timer;

    /** @param jupyterOut, jupyterErr jjava's stream channels ({@code JupyterIO.out / err}) */
    public CellStreams(OutputStream jupyterOut, OutputStream jupyterErr, Charset charset) {
        this.out = new LineBufferedStream(jupyterOut, PARTIAL_LINE_MILLIS);
        this.err = new LineBufferedStream(jupyterErr, PARTIAL_LINE_MILLIS);
        // No autoflush: the buffer decides when a message goes out.
        this.outPrint = new PrintStream(out, false, charset);
        this.errPrint = new PrintStream(err, false, charset);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "minitron-cell-streams");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::flushLines, FLUSH_MILLIS, FLUSH_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Makes these the JVM's System.out / System.err (for the running cell; the kernel restores the originals). */
    void install() {
        System.setOut(outPrint);
        System.setErr(errPrint);
    }

    public PrintStream out() {
        return outPrint;
    }

    public PrintStream err() {
        return errPrint;
    }

    /** Everything written so far, unfinished lines included: at the end of a cell and before another output. */
    public void flushAll() {
        // (a PrintStream over a plain OutputStream holds nothing back: every print reaches the buffer at once)
        out.flushAll();
        err.flushAll();
    }

    private void flushLines() {
        try {
            out.flushLines();
            err.flushLines();
        } catch (RuntimeException e) {
            // the connection went away or the cell's reply was already sent: nothing to deliver to
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
