package ai.minitron.model;

/** Weights that do not fit their configuration; the message names the checkpoint and tensor. */
public class WeightsException extends RuntimeException {
    public WeightsException(String message) {
        super(message);
    }
}
