package ai.minitron.io.gguf;

import java.util.Arrays;

/**
 * One tensor's entry in a GGUF file's header.
 *
 * <p>GGUF lists dimensions innermost first: {@code dims[0]} (ggml's ne0) is the number of columns,
 * the length of one contiguous row. {@link #shape()} gives the PyTorch / safetensors order, so a
 * llama.cpp {@code ffn_down.weight} with dims {@code [1536, 576]} has shape {@code [576, 1536]},
 * exactly Hugging Face's {@code down_proj.weight} {@code [out, in]}.
 *
 * @param dims dimensions innermost first (ne0, ne1, ...)
 * @param type the element type, or null if the file names a type id this reader does not know
 * @param typeId the type number stored in the file
 * @param offset byte offset of the data from the start of the file's data section
 */
public record GgufTensorInfo(String name, long[] dims, GgmlType type, int typeId, long offset) {

    public GgufTensorInfo {
        dims = dims.clone();
    }

    @Override
    public long[] dims() {
        return dims.clone();
    }

    /** Row-major shape (outermost first): the reverse of {@link #dims()}. */
    public long[] shape() {
        long[] s = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            s[i] = dims[dims.length - 1 - i];
        }
        return s;
    }

    public long numel() {
        long n = 1;
        for (long d : dims) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Elements in one row: ne0 (1 for a 0-d tensor). */
    public long rowLength() {
        return dims.length == 0 ? 1 : dims[0];
    }

    /** Number of rows: numel / ne0. */
    public long rows() {
        long len = rowLength();
        return len == 0 ? 0 : numel() / len;
    }

    /** Bytes of data, or -1 if the type is unknown. */
    public long byteSize() {
        return type == null ? -1 : type.byteSize(numel());
    }

    /** "Q4_1", or "unknown type 99". */
    public String typeName() {
        return type != null ? type.name() : "unknown type " + typeId;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && Arrays.equals(dims, t.dims)
                && typeId == t.typeId && offset == t.offset;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return name + " " + typeName() + " dims " + Arrays.toString(dims) + " @" + offset;
    }
}
