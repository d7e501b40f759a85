package ai.minitron.config;

/** A model configuration that cannot be used: the message names the file and the field at fault. */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
