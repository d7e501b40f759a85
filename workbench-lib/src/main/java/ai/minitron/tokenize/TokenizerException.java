package ai.minitron.tokenize;

/**
 * A tokenizer file that cannot be used (missing, unreadable, not JSON, not a tokenizer.json the
 * native library accepts) or a tokenizer used wrongly. The message always names the file; native
 * errors are attached as the cause, never thrown bare.
 */
public class TokenizerException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
