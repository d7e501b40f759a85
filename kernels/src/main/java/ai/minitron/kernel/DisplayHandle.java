package ai.minitron.kernel;

/**
 * One output in the notebook that can be changed after it was shown (Jupyter display_id +
 * update_display_data). Made by {@link Display#display(Object)}.
 *
 * <pre>{@code
 * DisplayHandle out = display("Generating…");
 * for (String token : generator.stream(prompt)) out.append(token);   // the same output grows live
 * out.update(table);                                                 // or replace it with anything renderable
 * }</pre>
 *
 * Thread-safe: a background thread may update the handle while the cell runs.
 */
public final class DisplayHandle {
    private final String id;
    private final StringBuilder text = new StringBuilder();

    DisplayHandle(String id, Object initial) {
        this.id = id;
        if (initial instanceof CharSequence s) text.append(s);
    }

    /** The Jupyter display_id of this output. */
    public String id() {
        return id;
    }

    /** Replaces the output with {@code value}, rendered like a cell result. Resets the {@link #append} text. */
    public synchronized DisplayHandle update(Object value) {
        text.setLength(0);
        if (value instanceof CharSequence s) text.append(s);
        Display.update(id, value);
        return this;
    }

    /** Appends {@code more} to the text this output shows (streamed generation) and refreshes it. */
    public synchronized DisplayHandle append(Object more) {
        text.append(more);
        Display.update(id, text.toString());
        return this;
    }

    /** The text accumulated by {@link #append} (and string {@link #update}s). */
    public synchronized String text() {
        return text.toString();
    }

    @Override
    public String toString() {
        return "DisplayHandle[" + id + "]";
    }
}
