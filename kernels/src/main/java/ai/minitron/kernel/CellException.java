package ai.minitron.kernel;

import java.util.List;

/**
 * A cell failed. The subclasses say how; {@link #traceback()} is what the notebook shows (no kernel stack).
 */
public class CellException extends Exception {

    protected CellException(String message, Throwable cause) {
        super(message, cause);
    }

    public CellException(String message) {
        super(message);
    }

    /** Lines shown to the user as the error's traceback. */
    public List<String> traceback() {
        return List.of(getMessage().split("\n", -1));
    }

    /** The snippet did not compile (or is incomplete, or uses undeclared names). The message says where and why. */
    public static final class CompilationException extends CellException {
        public CompilationException(String message) {
            super(message);
        }
    }

    /** User code threw; {@link #getCause()} is the live exception from the snippet. */
    public static final class EvaluationException extends CellException {
        private final List<String> traceback;

        public EvaluationException(Throwable userException, List<String> traceback) {
            super(userException.toString(), userException);
            this.traceback = List.copyOf(traceback);
        }

        @Override
        public List<String> traceback() {
            return traceback;
        }
    }

    /** The cell was interrupted (Kernel → Interrupt) or ran past IJAVA_TIMEOUT. */
    public static final class InterruptedCellException extends CellException {
        public InterruptedCellException(String message) {
            super(message);
        }
    }

    /** A magic failed: bad arguments, missing file, Maven resolution failure. */
    public static final class MagicException extends CellException {
        public MagicException(String message) {
            super(message);
        }

        public MagicException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
