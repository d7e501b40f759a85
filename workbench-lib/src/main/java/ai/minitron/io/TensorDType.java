package ai.minitron.io;

import java.nio.file.Path;

/**
 * Element types a safetensors file may hold, with their byte size and the name the format uses in
 * its JSON header ({@code "dtype": "BF16"}).
 *
 * <p>Only the types Hugging Face LLM checkpoints actually use are listed; an unknown name in a file
 * (e.g. {@code F8_E4M3}) is rejected with a {@link CheckpointFormatException} rather than guessed.
 */
public enum TensorDType {
  F64("F64", 8, true),
  F32("F32", 4, true),
  F16("F16", 2, true),
  BF16("BF16", 2, true),
  I64("I64", 8, false),
  I32("I32", 4, false),
  I16("I16", 2, false),
  I8("I8", 1, false),
  U8("U8", 1, false),
  BOOL("BOOL", 1, false);

  private final String safetensorsName;
  private final int byteSize;
  private final boolean floating;

  TensorDType(String safetensorsName, int byteSize, boolean floating) {
    this.safetensorsName = safetensorsName;
    this.byteSize = byteSize;
    this.floating = floating;
  }

  /** The name used in a safetensors header, e.g. {@code "BF16"}. */
  public String safetensorsName() {
    return safetensorsName;
  }

  /** Bytes per element. */
  public int byteSize() {
    return byteSize;
  }

  /** True for F64, F32, F16 and BF16. */
  public boolean isFloating() {
    return floating;
  }

  /** True for the integer types I64 .. U8 (BOOL is neither floating nor integer). */
  public boolean isInteger() {
    return !floating && this != BOOL;
  }

  /**
   * Looks up a header dtype name.
   *
   * @param name the header's dtype string
   * @param file the file being read (for the error message)
   * @param tensor the tensor being read (for the error message)
   * @throws CheckpointFormatException naming file, tensor and dtype if the name is unknown
   */
  public static TensorDType fromSafetensorsName(String name, Path file, String tensor) {
    for (TensorDType t : values()) {
      if (t.safetensorsName.equals(name)) {
        return t;
      }
    }
    throw new CheckpointFormatException(
        "Bad safetensors file " + file + ": tensor '" + tensor + "' has unsupported dtype '" + name
            + "' (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
  }
}
