package ai.minitron.io;

/**
 * A checkpoint file or directory is malformed: a safetensors header that is not JSON, a tensor
 * whose offsets do not match its shape, a truncated file, an index.json naming a tensor its shard
 * does not hold, and so on.
 *
 * <p>The message always names the offending file and, where one is involved, the tensor or field,
 * so that a user staring at a notebook cell knows which of forty shards to re-download. Underlying
 * parser errors are attached as the cause, never thrown bare.
 */
public class CheckpointFormatException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public CheckpointFormatException(String message) {
    super(message);
  }

  public CheckpointFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
