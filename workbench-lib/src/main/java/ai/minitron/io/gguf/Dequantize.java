package ai.minitron.io.gguf;

import ai.minitron.io.HalfFloats;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * GGML block formats turned back into float32, written from the block definitions in ggml's
 * {@code ggml-common.h} and the reference {@code dequantize_row_*} functions in {@code ggml-quants.c}.
 *
 * <p>Every quantized format stores a tensor row as blocks of 32 (or, for the "K" formats, 256)
 * elements: a few float16 scales followed by packed small integers. "Nibble order" matters: in the
 * 32-element formats the low nibbles of the 16 packed bytes are elements 0..15 and the high nibbles
 * elements 16..31. The arithmetic is done in float32 in the same order as the C reference (Java
 * never fuses a multiply-add), so the results are bit-identical to ggml's and to the {@code gguf}
 * Python package's.
 *
 * <pre>
 * type  bytes  layout (little-endian)                          element i of the block
 * Q4_0   18    d:f16, qs[16]                                    (nib(i) - 8) * d
 * Q4_1   20    d:f16, m:f16, qs[16]                             d * nib(i) + m
 * Q5_0   22    d:f16, qh:u32, qs[16]                            (nib(i) | bit(qh,i) << 4) - 16) * d
 * Q5_1   24    d:f16, m:f16, qh:u32, qs[16]                     d * (nib(i) | bit(qh,i) << 4) + m
 * Q8_0   34    d:f16, qs[32]:i8                                 qs[i] * d
 * Q4_K  144    d:f16, dmin:f16, scales[12] (8 x 6-bit scale     (d * sc[s]) * q - (dmin * mn[s]),
 *              and min), qs[128]                                s = 32-element sub-block
 * Q5_K  176    as Q4_K + qh[32] before qs                       same with a fifth bit from qh
 * Q6_K  210    ql[128], qh[64], scales[16]:i8, d:f16            (d * scales[s]) * (q6 - 32),
 *                                                               s = 16-element sub-block
 * </pre>
 */
public final class Dequantize {
    private Dequantize() {}

    /**
     * Dequantizes {@code count} elements whose blocks start at {@code src}'s position (the buffer's
     * position is not changed) into {@code dst[dstOffset ..]}.
     *
     * @throws IllegalArgumentException if the type has no dequantizer here or count is not a whole
     *     number of blocks
     * @throws IndexOutOfBoundsException if src holds fewer bytes than the blocks need
     */
    public static void toFloats(GgmlType type, ByteBuffer src, float[] dst, int dstOffset, int count) {
        if (!type.dequantizable()) {
            throw new IllegalArgumentException("no dequantizer for GGML type " + type + " (supported: "
                    + "F32, F16, BF16, F64, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K)");
        }
        if (count % type.blockSize() != 0) {
            throw new IllegalArgumentException(count + " elements is not a whole number of " + type + " blocks");
        }
        ByteBuffer b = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int base = b.position();
        long need = type.byteSize(count);
        if (need > b.remaining()) {
            throw new IndexOutOfBoundsException(count + " " + type + " elements need " + need
                    + " bytes but only " + b.remaining() + " remain");
        }
        switch (type) { // plain types: one element per "block"
            case F32 -> {
                b.asFloatBuffer().get(dst, dstOffset, count);
                return;
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = HalfFloats.halfToFloat(b.getShort(base + 2 * i));
                }
                return;
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = HalfFloats.bfloat16ToFloat(b.getShort(base + 2 * i));
                }
                return;
            }
            case F64 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = (float) b.getDouble(base + 8 * i);
                }
                return;
            }
            default -> { }
        }
        int blocks = count / type.blockSize();
        for (int k = 0; k < blocks; k++) {
            int at = base + k * type.blockBytes();
            int out = dstOffset + k * type.blockSize();
            switch (type) {
                case Q4_0 -> q4_0(b, at, dst, out);
                case Q4_1 -> q4_1(b, at, dst, out);
                case Q5_0 -> q5_0(b, at, dst, out);
                case Q5_1 -> q5_1(b, at, dst, out);
                case Q8_0 -> q8_0(b, at, dst, out);
                case Q4_K -> q4_k(b, at, dst, out);
                case Q5_K -> q5_k(b, at, dst, out);
                case Q6_K -> q6_k(b, at, dst, out);
                default -> throw new AssertionError(type);
            }
        }
    }

    private static float f16(ByteBuffer b, int at) {
        return HalfFloats.halfToFloat(b.getShort(at));
    }

    // ---- 32-element blocks ----

    static void q4_0(ByteBuffer b, int at, float[] y, int out) {
        float d = f16(b, at);
        for (int j = 0; j < 16; j++) {
            int x = b.get(at + 2 + j) & 0xff;
            y[out + j] = ((x & 0x0f) - 8) * d;
            y[out + j + 16] = ((x >>> 4) - 8) * d;
        }
    }

    static void q4_1(ByteBuffer b, int at, float[] y, int out) {
        float d = f16(b, at);
        float m = f16(b, at + 2);
        for (int j = 0; j < 16; j++) {
            int x = b.get(at + 4 + j) & 0xff;
            y[out + j] = d * (x & 0x0f) + m;
            y[out + j + 16] = d * (x >>> 4) + m;
        }
    }

    static void q5_0(ByteBuffer b, int at, float[] y, int out) {
        float d = f16(b, at);
        int qh = b.getInt(at + 2);
        for (int j = 0; j < 16; j++) {
            int x = b.get(at + 6 + j) & 0xff;
            int hi0 = ((qh >>> j) & 1) << 4;
            int hi1 = ((qh >>> (j + 16)) & 1) << 4;
            y[out + j] = (((x & 0x0f) | hi0) - 16) * d;
            y[out + j + 16] = (((x >>> 4) | hi1) - 16) * d;
        }
    }

    static void q5_1(ByteBuffer b, int at, float[] y, int out) {
        float d = f16(b, at);
        float m = f16(b, at + 2);
        int qh = b.getInt(at + 4);
        for (int j = 0; j < 16; j++) {
            int x = b.get(at + 8 + j) & 0xff;
            int hi0 = ((qh >>> j) & 1) << 4;
            int hi1 = ((qh >>> (j + 16)) & 1) << 4;
            y[out + j] = d * ((x & 0x0f) | hi0) + m;
            y[out + j + 16] = d * ((x >>> 4) | hi1) + m;
        }
    }

    static void q8_0(ByteBuffer b, int at, float[] y, int out) {
        float d = f16(b, at);
        for (int j = 0; j < 32; j++) {
            y[out + j] = b.get(at + 2 + j) * d;
        }
    }

    // ---- 256-element "K" super-blocks ----

    /**
     * The 6-bit scale ({@code [0]}) and min ({@code [1]}) of sub-block j (0..7) from Q4_K/Q5_K's 12
     * packed scale bytes: j < 4 in the low 6 bits of bytes j and j+4; j >= 4 split between a nibble
     * of byte j+4 and the top two bits of bytes j-4 and j ({@code get_scale_min_k4}).
     */
    static void scaleMinK4(ByteBuffer b, int scalesAt, int j, int[] scMin) {
        int qj = b.get(scalesAt + j) & 0xff;
        if (j < 4) {
            scMin[0] = qj & 63;
            scMin[1] = (b.get(scalesAt + j + 4) & 0xff) & 63;
        } else {
            int q4 = b.get(scalesAt + j + 4) & 0xff;
            int qm4 = b.get(scalesAt + j - 4) & 0xff;
            scMin[0] = (q4 & 0x0f) | ((qm4 >>> 6) << 4);
            scMin[1] = (q4 >>> 4) | ((qj >>> 6) << 4);
        }
    }

    static void q4_k(ByteBuffer b, int at, float[] y, int out) {
        float d = f16(b, at);
        float dmin = f16(b, at + 2);
        int scales = at + 4;
        int qs = at + 16;
        int[] sm = new int[2];
        for (int j = 0; j < 4; j++) { // 64 elements per step: low nibbles, then high nibbles of 32 bytes
            scaleMinK4(b, scales, 2 * j, sm);
            float d1 = d * sm[0];
            float m1 = dmin * sm[1];
            scaleMinK4(b, scales, 2 * j + 1, sm);
            float d2 = d * sm[0];
            float m2 = dmin * sm[1];
            for (int l = 0; l < 32; l++) {
                int x = b.get(qs + 32 * j + l) & 0xff;
                y[out + 64 * j + l] = d1 * (x & 0x0f) - m1;
                y[out + 64 * j + 32 + l] = d2 * (x >>> 4) - m2;
            }
        }
    }

    static void q5_k(ByteBuffer b, int at, float[] y, int out) {
        float d = f16(b, at);
        float dmin = f16(b, at + 2);
        int scales = at + 4;
        int qh = at + 16;
        int qs = at + 48;
        int[] sm = new int[2];
        for (int j = 0; j < 4; j++) {
            scaleMinK4(b, scales, 2 * j, sm);
            float d1 = d * sm[0];
            float m1 = dmin * sm[1];
            scaleMinK4(b, scales, 2 * j + 1, sm);
            float d2 = d * sm[0];
            float m2 = dmin * sm[1];
            for (int l = 0; l < 32; l++) {
                int x = b.get(qs + 32 * j + l) & 0xff;
                int h = b.get(qh + l) & 0xff;
                int hi1 = ((h >>> (2 * j)) & 1) << 4;
                int hi2 = ((h >>> (2 * j + 1)) & 1) << 4;
                y[out + 64 * j + l] = d1 * ((x & 0x0f) | hi1) - m1;
                y[out + 64 * j + 32 + l] = d2 * ((x >>> 4) | hi2) - m2;
            }
        }
    }

    static void q6_k(ByteBuffer b, int at, float[] y, int out) {
        int ql0 = at;
        int qh0 = at + 128;
        int sc0 = at + 192;
        float d = f16(b, at + 208);
        for (int n = 0; n < 2; n++) { // two halves of 128 elements
            int ql = ql0 + 64 * n;
            int qh = qh0 + 32 * n;
            int sc = sc0 + 8 * n;
            int o = out + 128 * n;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int lo = b.get(ql + l) & 0xff;
                int lo32 = b.get(ql + l + 32) & 0xff;
                int h = b.get(qh + l) & 0xff;
                int q1 = ((lo & 0x0f) | ((h & 3) << 4)) - 32;
                int q2 = ((lo32 & 0x0f) | (((h >>> 2) & 3) << 4)) - 32;
                int q3 = ((lo >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
                int q4 = ((lo32 >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
                y[o + l] = d * b.get(sc + is) * q1;
                y[o + l + 32] = d * b.get(sc + is + 2) * q2;
                y[o + l + 64] = d * b.get(sc + is + 4) * q3;
                y[o + l + 96] = d * b.get(sc + is + 6) * q4;
            }
        }
    }
}
