package ai.minitron.jjava;

import ai.minitron.kernel.CellStreams;
import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.JupyterIO;

import java.io.PrintStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;

/**
 * A JJava cell's {@code System.out} / {@code System.err} as whole lines, as in our kernel.
 *
 * <p>JJava 1.0a8 writes a cell's output through an autoflushing {@code PrintStream} over a stream that sends one
 * Jupyter message per flush, so every {@code print} and every fragment of a {@code printf} becomes an output of
 * its own (ten for a {@code printf} with five arguments) and the saved notebook holds lines split into pieces.
 * JJava offers no hook for this, so {@link #install} puts our kernel's {@link CellStreams} (complete lines on a
 * 100 ms timer, an unfinished line after 2 s) in the place of JJava's {@code JupyterIO.out} / {@code err}, which
 * JJava makes the JVM's {@code System.out} / {@code err} at the start of every cell. Everything still buffered is
 * sent by the returned flush: after every JShell snippet (so at the end of a cell, before its result) and, by the
 * extension, before every display it renders, so outputs keep their order.
 *
 * <p>If this JJava has no such fields or no {@code getJShell()} (another version), a warning says so and JJava's
 * own streams stay.
 */
final class WholeLineOutput {

    private final CellStreams streams;

    private WholeLineOutput(CellStreams streams) {
        this.streams = streams;
    }

    /**
     * Replaces {@code kernel}'s stream channels with whole-line ones.
     *
     * @return what sends everything still buffered (does nothing if the streams could not be replaced)
     */
    static Runnable install(BaseKernel kernel) {
        JupyterIO io = kernel.getIO();
        try {
            jdk.jshell.JShell shell = jshell(kernel);
            Field out = JupyterIO.class.getField("out");
            Field err = JupyterIO.class.getField("err");
            out.setAccessible(true);
            err.setAccessible(true);
            CellStreams streams = new CellStreams((PrintStream) out.get(io), (PrintStream) err.get(io), StandardCharsets.UTF_8);
            out.set(io, streams.out());
            err.set(io, streams.err());
            WholeLineOutput output = new WholeLineOutput(streams);
            shell.onSnippetEvent(event -> output.flush());  // JShell reports each snippet after it ran
            return output::flush;
        } catch (ReflectiveOperationException | RuntimeException e) {
            System.err.println("Minitron Workbench: cannot make JJava's cell output whole lines (" + e
                    + "); printf output may show in pieces");
            return () -> {};
        }
    }

    /** Everything written so far, unfinished lines included. */
    private void flush() {
        try {
            streams.flushAll();
        } catch (RuntimeException e) {
            // the cell's reply was already sent: nothing to deliver to
        }
    }

    /** JJava's {@code JavaKernel.getJShell()} (by reflection: the kernel class is not in JJava's API jar). */
    private static jdk.jshell.JShell jshell(BaseKernel kernel) throws ReflectiveOperationException {
        return (jdk.jshell.JShell) kernel.getClass().getMethod("getJShell").invoke(kernel);
    }
}
