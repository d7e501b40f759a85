package ai.minitron.kernel;

import ai.minitron.notebook.LiveOutput;

import java.util.Set;
import java.util.UUID;

/**
 * Display functions for notebook cells; the kernel's startup script does {@code import static
 * ai.minitron.kernel.Display.*;}, so cells call them unqualified.
 *
 * <pre>{@code
 * display(table);                               // show now, not only as the cell's last value
 * LiveOutput h = display("step 0");             // an output that can change later...
 * h.update("step 1");                           // ...replace it
 * h.append(" more text");                       // ...or grow it (streamed generation)
 * html("<b>bold</b>");  markdown("# Title");  svg(svgText);  png(bytes);
 * }</pre>
 *
 * Values are rendered by {@link Renderer} (Tablesaw tables as HTML, images as PNG, {@link Displayable}s, ...).
 *
 * <p>An output that changes is the workbench's kernel-neutral {@link LiveOutput} (what the notebooks use, so that
 * they also run in JJava and IJava), backed by this class from the moment it is loaded: {@code live(x)} is
 * {@code display(x)}.
 */
public final class Display {

    private static volatile DisplaySink sink = DisplaySink.STDOUT;

    /** {@link LiveOutput} in this kernel: a show is a display_data message, an update an update_display_data. */
    public static final LiveOutput.Backend LIVE_OUTPUT = new LiveOutput.Backend() {
        @Override
        public String show(Object value) {
            String id = newDisplayId();
            MimeBundle bundle = Renderer.render(value);
            sink.display(bundle == null ? new MimeBundle().put(MimeBundle.TEXT, "null") : bundle, id);
            return id;
        }

        @Override
        public void update(String displayId, Object value) {
            Display.update(displayId, value);
        }
    };

    static {
        LiveOutput.setBackend(LIVE_OUTPUT);
    }

    private Display() {}

    /** Installed by the kernel; tests install a recorder. */
    public static void setSink(DisplaySink newSink) {
        sink = newSink == null ? DisplaySink.STDOUT : newSink;
    }

    public static DisplaySink sink() {
        return sink;
    }

    /** Shows {@code value} as a new output and returns a handle to change that output later. */
    public static LiveOutput display(Object value) {
        return LiveOutput.shown(LIVE_OUTPUT.show(value), value);
    }

    /** Shows {@code value} with only the given MIME types (plus text/plain), e.g. {@code display(t, "text/plain")}. */
    public static LiveOutput display(Object value, String... mimeTypes) {
        String id = newDisplayId();
        sink.display(only(Renderer.render(value), mimeTypes), id);
        return LiveOutput.shown(id, value);
    }

    /** Replaces the output shown by {@code handle}. */
    public static void updateDisplay(LiveOutput handle, Object value) {
        handle.update(value);
    }

    /** Replaces the output carrying Jupyter display_id {@code displayId}. */
    public static void updateDisplay(String displayId, Object value) {
        update(displayId, value);
    }

    static void update(String displayId, Object value) {
        MimeBundle bundle = Renderer.render(value);
        sink.update(bundle == null ? new MimeBundle().put(MimeBundle.TEXT, "") : bundle, displayId);
    }

    /** The MIME bundle a value renders to (what a cell would show). */
    public static MimeBundle render(Object value) {
        return Renderer.render(value);
    }

    /** Shows an HTML fragment when it is a cell's value or passed to {@link #display}. */
    public static MimeBundle html(String html) {
        return new MimeBundle().put(MimeBundle.HTML, html).put(MimeBundle.TEXT, html);
    }

    public static MimeBundle markdown(String markdown) {
        return new MimeBundle().put(MimeBundle.MARKDOWN, markdown).put(MimeBundle.TEXT, markdown);
    }

    public static MimeBundle svg(String svg) {
        return new MimeBundle().put(MimeBundle.SVG, svg).put(MimeBundle.TEXT, "[SVG image]");
    }

    public static MimeBundle png(byte[] png) {
        return new MimeBundle().putPng(png).put(MimeBundle.TEXT, "[PNG image, " + png.length + " bytes]");
    }

    public static String newDisplayId() {
        return UUID.randomUUID().toString();
    }

    private static MimeBundle only(MimeBundle full, String... mimeTypes) {
        if (full == null) return new MimeBundle().put(MimeBundle.TEXT, "null");
        Set<String> keep = Set.of(mimeTypes);
        MimeBundle b = new MimeBundle();
        full.data().forEach((k, v) -> {
            if (keep.contains(k)) b.put(k, v);
        });
        if (!b.has(MimeBundle.TEXT)) b.put(MimeBundle.TEXT, full.text());
        return b;
    }
}
