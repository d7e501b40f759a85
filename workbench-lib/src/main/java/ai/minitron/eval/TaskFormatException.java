package ai.minitron.eval;

/** A task file that cannot be used; the message names the file and, when it applies, the line. */
public class TaskFormatException extends RuntimeException {
    public TaskFormatException(String message) {
        super(message);
    }

    public TaskFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
