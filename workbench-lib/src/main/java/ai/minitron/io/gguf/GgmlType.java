package ai.minitron.io.gguf;

/**
 * GGML tensor element types as GGUF files number them ({@code enum ggml_type} in ggml.h), with the
 * size of one quantization block in elements and in bytes.
 *
 * <p>A tensor's innermost dimension (ne0) is a whole number of blocks; its data is the blocks one
 * after another. Plain types (F32, F16, ...) have blocks of one element. Every type is listed so a
 * file can be read and described; {@link #dequantizable()} says which ones {@link Dequantize} turns
 * into float32.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 2 + 16),
    Q4_1(3, 32, 2 + 2 + 16),
    Q5_0(6, 32, 2 + 4 + 16),
    Q5_1(7, 32, 2 + 2 + 4 + 16),
    Q8_0(8, 32, 2 + 32),
    Q8_1(9, 32, 4 + 4 + 32),
    Q2_K(10, 256, 2 + 2 + 256 / 16 + 256 / 4),
    Q3_K(11, 256, 2 + 256 / 4 + 256 / 8 + 12),
    Q4_K(12, 256, 2 + 2 + 12 + 256 / 2),
    Q5_K(13, 256, 2 + 2 + 12 + 256 / 8 + 256 / 2),
    Q6_K(14, 256, 256 / 2 + 256 / 4 + 256 / 16 + 2),
    Q8_K(15, 256, 4 + 256 + 256 / 8),
    IQ2_XXS(16, 256, 2 + 256 / 4),
    IQ2_XS(17, 256, 2 + 256 / 4 + 256 / 32),
    IQ3_XXS(18, 256, 2 + 256 / 4 + 256 / 8),
    IQ1_S(19, 256, 2 + 256 / 8 + 256 / 16),
    IQ4_NL(20, 32, 2 + 16),
    IQ3_S(21, 256, 2 + 256 / 4 + 256 / 8 + 256 / 32 + 4),
    IQ2_S(22, 256, 2 + 256 / 4 + 256 / 16),
    IQ4_XS(23, 256, 2 + 2 + 256 / 2 + 256 / 64),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    IQ1_M(29, 256, 256 / 8 + 256 / 16 + 256 / 32),
    BF16(30, 1, 2),
    TQ1_0(34, 256, 2 + 4 * 13),
    TQ2_0(35, 256, 2 + 64),
    MXFP4(39, 32, 1 + 16);

    private final int id;
    private final int blockSize;
    private final int blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** The number a GGUF tensor info stores for this type. */
    public int id() {
        return id;
    }

    /** Elements per block (1 for plain types, 32 or 256 for quantized ones). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int blockBytes() {
        return blockBytes;
    }

    /** True for the block-quantized types (block size above one). */
    public boolean quantized() {
        return blockSize > 1;
    }

    /** True if {@link Dequantize} converts this type to float32. */
    public boolean dequantizable() {
        return switch (this) {
            case F32, F16, BF16, F64, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /**
     * Bytes that {@code numel} elements occupy.
     *
     * @throws IllegalArgumentException if numel is not a whole number of blocks
     */
    public long byteSize(long numel) {
        if (numel % blockSize != 0) {
            throw new IllegalArgumentException(numel + " elements is not a whole number of " + this
                    + " blocks of " + blockSize);
        }
        return Math.multiplyExact(numel / blockSize, (long) blockBytes);
    }

    /** The type with this GGUF id, or null if the id is unknown (removed or newer than this reader). */
    public static GgmlType fromId(int id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }
}
