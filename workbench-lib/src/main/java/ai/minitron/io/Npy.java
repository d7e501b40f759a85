package ai.minitron.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Writes NumPy {@code .npy} files (format version 1.0, little-endian float32, C order), so any other
 * framework can read our tensors with {@code numpy.load}. Written atomically (temp + rename).
 */
public final class Npy {
    private Npy() {}

    public static void writeFloat32(Path file, float[] data, long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException(file + ": shape implies " + n + " values but " + data.length + " given");
        }
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            s.append(shape[i]).append(shape.length == 1 ? "," : (i + 1 < shape.length ? ", " : ""));
        }
        s.append(")");
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + s + ", }";
        int preamble = 10; // magic(6) + version(2) + header length(2)
        int total = preamble + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        ByteBuffer head = ByteBuffer.allocate(preamble + header.length()).order(ByteOrder.LITTLE_ENDIAN);
        head.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        head.putShort((short) header.length());
        head.put(header.getBytes(StandardCharsets.US_ASCII));
        head.flip();
        try {
            AtomicFiles.write(file, ch -> {
                AtomicFiles.writeFully(ch, head);
                ByteBuffer body = ByteBuffer.allocate(4 * 65536).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < data.length; i++) {
                    body.putFloat(data[i]);
                    if (!body.hasRemaining()) {
                        body.flip();
                        AtomicFiles.writeFully(ch, body);
                        body.clear();
                    }
                }
                body.flip();
                AtomicFiles.writeFully(ch, body);
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
