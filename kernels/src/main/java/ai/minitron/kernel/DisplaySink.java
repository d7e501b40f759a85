package ai.minitron.kernel;

/** Where {@link Display} sends outputs: the Jupyter connection in the kernel, a recorder in tests. */
public interface DisplaySink {

    /** Shows a new output carrying {@code displayId} (Jupyter display_data with transient display_id). */
    void display(MimeBundle bundle, String displayId);

    /** Replaces the content of the output(s) carrying {@code displayId} (Jupyter update_display_data). */
    void update(MimeBundle bundle, String displayId);

    /** Without a kernel (plain JShell, tests without a sink): print the text form. */
    DisplaySink STDOUT = new DisplaySink() {
        @Override
        public void display(MimeBundle bundle, String displayId) {
            System.out.println(bundle.text());
        }

        @Override
        public void update(MimeBundle bundle, String displayId) {
            System.out.println(bundle.text());
        }
    };
}
