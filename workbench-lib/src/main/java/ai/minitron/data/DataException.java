package ai.minitron.data;

/**
 * A corpus or dataset that cannot be used: a missing, empty or non-UTF-8 split file, a corpus too
 * small for one sample, a sequence length beyond the model's context. The message names the file
 * (or the numbers) at fault; underlying errors are attached as the cause.
 */
public class DataException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public DataException(String message) {
        super(message);
    }

    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
