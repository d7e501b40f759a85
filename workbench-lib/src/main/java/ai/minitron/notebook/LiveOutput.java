package ai.minitron.notebook;

import java.util.Objects;
import java.util.UUID;

/**
 * One notebook output that changes while a cell runs (a progress line, text being generated, a table filling
 * up): the one display API the notebooks use, the same in every Java kernel.
 *
 * <pre>{@code
 * var status = live("starting");          // shows the output now
 * status.update("step 3/10");             // replaces it (anything the kernel renders: text, a table, a chart)
 * status.append(" token");                // or grows its text (streamed generation)
 * }</pre>
 *
 * <p>Jupyter's display_id + update_display_data, reached through a {@link Backend} the kernel installs: our
 * kernel's {@code Display} (kernels module), JJava's and IJava's {@code display(value)} / {@code
 * updateDisplay(id, value)} (installed by the workbench's JJava extension or the IJava startup script). Without
 * a kernel (command line, tests) each show or update prints its text as a line. Thread-safe.
 */
public final class LiveOutput {

    /** Shows a value as a new output and returns its display id; replaces the output of a display id. */
    public interface Backend {
        String show(Object value);

        void update(String displayId, Object value);
    }

    /** No kernel: one printed line per show or update. */
    public static final Backend PRINT = new Backend() {
        @Override
        public String show(Object value) {
            System.out.println(value);
            return UUID.randomUUID().toString();
        }

        @Override
        public void update(String displayId, Object value) {
            System.out.println(value);
        }
    };

    private static volatile Backend backend = PRINT;

    private final String id;
    private final StringBuilder text = new StringBuilder();

    private LiveOutput(String id, Object initial) {
        this.id = id;
        if (initial instanceof CharSequence s) text.append(s);
    }

    /** Installed by the kernel (or its extension / startup script); {@code null} restores {@link #PRINT}. */
    public static void setBackend(Backend newBackend) {
        backend = newBackend == null ? PRINT : newBackend;
    }

    public static Backend backend() {
        return backend;
    }

    /** Shows {@code initial} as a new output that can change later. */
    public static LiveOutput live(Object initial) {
        return shown(Objects.requireNonNull(backend.show(initial), "the display backend returned no display id"),
                initial);
    }

    /** The handle of an output a kernel has already shown as {@code initial} under {@code displayId}. */
    public static LiveOutput shown(String displayId, Object initial) {
        return new LiveOutput(Objects.requireNonNull(displayId, "displayId"), initial);
    }

    /** The Jupyter display_id of this output. */
    public String id() {
        return id;
    }

    /** Replaces the output with {@code value}. Resets the {@link #append} text (to {@code value} if it is text). */
    public synchronized LiveOutput update(Object value) {
        text.setLength(0);
        if (value instanceof CharSequence s) text.append(s);
        backend.update(id, value);
        return this;
    }

    /** Appends {@code more} to the text this output shows and refreshes it. */
    public synchronized LiveOutput append(Object more) {
        text.append(more);
        backend.update(id, text.toString());
        return this;
    }

    /** The text accumulated by {@link #append} (and text {@link #update}s). */
    public synchronized String text() {
        return text.toString();
    }

    @Override
    public String toString() {
        return "LiveOutput[" + id + "]";
    }
}
