package ai.minitron.kernel;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One JShell session shared by a test class (starting one costs about a second), plus a display recorder.
 */
final class Session {
    final JavaEvaluator evaluator;
    final ByteArrayOutputStream warnings = new ByteArrayOutputStream();
    final Recorder displays = new Recorder();

    Session(KernelConfig config, Path workDir) {
        evaluator = new JavaEvaluator(config, workDir, new PrintStream(warnings, true, StandardCharsets.UTF_8));
        Display.setSink(displays);
    }

    Session() {
        this(KernelConfig.defaults(), Path.of("").toAbsolutePath());
    }

    Object eval(String code) throws CellException {
        return evaluator.eval(code);
    }

    String warnings() {
        return warnings.toString(StandardCharsets.UTF_8);
    }

    /** What {@link Display} sent: display and update events, in order. */
    static final class Recorder implements DisplaySink {
        record Event(String kind, String id, MimeBundle bundle) {}

        final List<Event> events = new ArrayList<>();

        @Override
        public synchronized void display(MimeBundle bundle, String displayId) {
            events.add(new Event("display", displayId, bundle));
        }

        @Override
        public synchronized void update(MimeBundle bundle, String displayId) {
            events.add(new Event("update", displayId, bundle));
        }
    }
}
