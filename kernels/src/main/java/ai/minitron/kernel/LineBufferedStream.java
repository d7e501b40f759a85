package ai.minitron.kernel;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * A cell's stdout or stderr, buffered so that a notebook receives whole lines: without it every
 * {@code print} and every fragment of a {@code printf} became one Jupyter stream message, and so one output in
 * the saved notebook (and one line in its HTML export).
 *
 * <p>Bytes are kept until {@link #flushLines()} sends every complete line in ONE write to the target (the
 * kernel calls it on a short timer, so live progress still streams), or {@link #flushAll()} also sends an
 * unfinished line (at the end of the cell, and before any other output of the cell so outputs stay in order).
 * An unfinished line that waited longer than {@code partialLineMillis} goes out with the next
 * {@link #flushLines()} too, so a prompt or a row of progress dots without a newline still shows.
 * A plain {@link #flush()} (called by {@code System.out.flush()} and by loggers) sends complete lines only.
 *
 * <p>Splitting at byte {@code '\n'} is safe for UTF-8: that byte never occurs inside a multi-byte character.
 */
public final class LineBufferedStream extends OutputStream {

    private final OutputStream target;
    private final long partialLineMillis;
    private byte[] buf = new byte[1024];
    private int count;
    /** Index just past the last '\n' in buf[0, count); 0 if none. */
    private int lineEnd;
    /** When the oldest unsent byte of the unfinished line arrived (System.nanoTime), or -1. */
    private long partialSince = -1;

    /**
     * @param target            where lines go, one {@code write} per flush (the kernel's Jupyter stream: one
     *                          {@code write} + {@code flush} there is one stream message)
     * @param partialLineMillis how long an unfinished line may wait for its newline before it is sent anyway
     */
    public LineBufferedStream(OutputStream target, long partialLineMillis) {
        if (partialLineMillis < 0) throw new IllegalArgumentException("partialLineMillis must be >= 0, got " + partialLineMillis);
        this.target = target;
        this.partialLineMillis = partialLineMillis;
    }

    @Override
    public synchronized void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        if (len == 0) return;
        boolean hadPartial = lineEnd < count;
        boolean newline = false;
        if (count + len > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, count + len));
        System.arraycopy(b, off, buf, count, len);
        for (int i = count + len - 1; i >= count; i--) {
            if (buf[i] == '\n') {
                lineEnd = i + 1;
                newline = true;
                break;
            }
        }
        count += len;
        if (lineEnd == count) partialSince = -1;
        else if (!hadPartial || newline) partialSince = System.nanoTime();  // a new unfinished line starts here
    }

    /** Complete lines only (an explicit flush of the cell's stream). */
    @Override
    public void flush() {
        flushLines();
    }

    /** Sends every complete line; also the unfinished one if it has waited longer than partialLineMillis. */
    public synchronized void flushLines() {
        boolean stale = partialSince >= 0 && (System.nanoTime() - partialSince) / 1_000_000 >= partialLineMillis;
        send(stale ? count : lineEnd);
    }

    /** Sends everything, unfinished line included. */
    public synchronized void flushAll() {
        send(count);
    }

    private void send(int n) {
        if (n == 0) return;
        try {
            target.write(buf, 0, n);
            target.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            System.arraycopy(buf, n, buf, 0, count - n);
            count -= n;
            lineEnd = Math.max(0, lineEnd - n);
            if (count == 0) partialSince = -1;  // what is left is the unfinished line: it keeps its start time
        }
    }
}
