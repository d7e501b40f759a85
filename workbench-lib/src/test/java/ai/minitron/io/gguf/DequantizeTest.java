package ai.minitron.io.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.io.HalfFloats;
import ai.minitron.io.HostTensor;
import ai.minitron.io.SafeTensors;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each dequantizer against (1) blocks packed here by hand from the GGML block definitions with known
 * integer codes, compared to the formula applied to those codes, and (2) random blocks dequantized by
 * the {@code gguf} Python package (fixture from tools/make_gguf_fixtures.py), bit for bit.
 */
class DequantizeTest {
    private final Random rng = new Random(7);

    private static short h(float v) {
        return HalfFloats.floatToHalf(v);
    }

    /** A float16-representable value, so the formula sees exactly what the block stores. */
    private static float r16(float v) {
        return HalfFloats.halfToFloat(h(v));
    }

    private static ByteBuffer block(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static float[] run(GgmlType type, ByteBuffer b, int n) {
        float[] out = new float[n];
        Dequantize.toFloats(type, b.rewind(), out, 0, n);
        return out;
    }

    private static void assertBits(float expected, float actual, String what) {
        assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(actual),
                what + ": expected " + expected + " got " + actual);
    }

    @Test
    void q4_0() {
        float d = r16(0.37f);
        int[] q = new int[32];
        ByteBuffer b = block(18).putShort(0, h(d));
        for (int i = 0; i < 32; i++) {
            q[i] = rng.nextInt(16);
        }
        for (int j = 0; j < 16; j++) { // low nibble = element j, high nibble = element j + 16
            b.put(2 + j, (byte) (q[j] | q[j + 16] << 4));
        }
        float[] y = run(GgmlType.Q4_0, b, 32);
        for (int i = 0; i < 32; i++) {
            assertBits((q[i] - 8) * d, y[i], "Q4_0[" + i + "]");
        }
    }

    @Test
    void q4_1() {
        float d = r16(0.25f);
        float m = r16(-1.5f);
        int[] q = new int[32];
        ByteBuffer b = block(20).putShort(0, h(d)).putShort(2, h(m));
        for (int i = 0; i < 32; i++) {
            q[i] = i % 16; // every code, in both nibble positions
        }
        for (int j = 0; j < 16; j++) {
            b.put(4 + j, (byte) (q[j] | q[j + 16] << 4));
        }
        float[] y = run(GgmlType.Q4_1, b, 32);
        for (int i = 0; i < 32; i++) {
            assertBits(d * q[i] + m, y[i], "Q4_1[" + i + "]");
        }
        assertEquals(-1.5f, y[0]);
        assertEquals(-1.5f + 15 * 0.25f, y[31]);
    }

    @Test
    void q5_0_and_q5_1() {
        float d = r16(-0.11f);
        float m = r16(0.5f);
        int[] q = new int[32];
        int qh = 0;
        for (int i = 0; i < 32; i++) {
            q[i] = rng.nextInt(32);
            qh |= (q[i] >> 4) << i; // bit i = fifth bit of element i
        }
        ByteBuffer b0 = block(22).putShort(0, h(d)).putInt(2, qh);
        ByteBuffer b1 = block(24).putShort(0, h(d)).putShort(2, h(m)).putInt(4, qh);
        for (int j = 0; j < 16; j++) {
            byte packed = (byte) ((q[j] & 15) | (q[j + 16] & 15) << 4);
            b0.put(6 + j, packed);
            b1.put(8 + j, packed);
        }
        float[] y0 = run(GgmlType.Q5_0, b0, 32);
        float[] y1 = run(GgmlType.Q5_1, b1, 32);
        for (int i = 0; i < 32; i++) {
            assertBits((q[i] - 16) * d, y0[i], "Q5_0[" + i + "]");
            assertBits(d * q[i] + m, y1[i], "Q5_1[" + i + "]");
        }
    }

    @Test
    void q8_0() {
        float d = r16(0.0123f);
        ByteBuffer b = block(34).putShort(0, h(d));
        int[] q = new int[32];
        for (int i = 0; i < 32; i++) {
            q[i] = i == 0 ? -128 : i == 1 ? 127 : rng.nextInt(256) - 128;
            b.put(2 + i, (byte) q[i]);
        }
        float[] y = run(GgmlType.Q8_0, b, 32);
        for (int i = 0; i < 32; i++) {
            assertBits(q[i] * d, y[i], "Q8_0[" + i + "]");
        }
    }

    /** Packs eight 6-bit scales and mins as Q4_K/Q5_K do (inverse of get_scale_min_k4). */
    private static void packScalesK4(ByteBuffer b, int at, int[] sc, int[] mn) {
        for (int j = 0; j < 4; j++) {
            b.put(at + j, (byte) (sc[j] | (sc[j + 4] >> 4) << 6));
            b.put(at + j + 4, (byte) (mn[j] | (mn[j + 4] >> 4) << 6));
            b.put(at + j + 8, (byte) ((sc[j + 4] & 15) | (mn[j + 4] & 15) << 4));
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void q4_k_and_q5_k(boolean fiveBit) {
        GgmlType type = fiveBit ? GgmlType.Q5_K : GgmlType.Q4_K;
        float d = r16(0.02f);
        float dmin = r16(0.003f);
        int[] sc = new int[8];
        int[] mn = new int[8];
        for (int s = 0; s < 8; s++) {
            sc[s] = s == 0 ? 63 : rng.nextInt(64);
            mn[s] = s == 7 ? 63 : rng.nextInt(64);
        }
        int[] q = new int[256];
        for (int i = 0; i < 256; i++) {
            q[i] = rng.nextInt(fiveBit ? 32 : 16);
        }
        ByteBuffer b = block(type.blockBytes()).putShort(0, h(d)).putShort(2, h(dmin));
        packScalesK4(b, 4, sc, mn);
        int qs = fiveBit ? 48 : 16;
        for (int j = 0; j < 4; j++) { // sub-blocks 2j (low nibbles) and 2j+1 (high nibbles) share 32 bytes
            for (int l = 0; l < 32; l++) {
                b.put(qs + 32 * j + l, (byte) ((q[64 * j + l] & 15) | (q[64 * j + 32 + l] & 15) << 4));
            }
        }
        if (fiveBit) {
            for (int l = 0; l < 32; l++) { // bit s of qh[l] = fifth bit of element l of sub-block s
                int bits = 0;
                for (int s = 0; s < 8; s++) {
                    bits |= (q[32 * s + l] >> 4) << s;
                }
                b.put(16 + l, (byte) bits);
            }
        }
        float[] y = run(type, b, 256);
        for (int i = 0; i < 256; i++) {
            int s = i / 32;
            assertBits((d * sc[s]) * q[i] - dmin * mn[s], y[i], type + "[" + i + "]");
        }
    }

    @Test
    void q6_k() {
        float d = r16(0.0071f);
        int[] sc = new int[16];
        for (int s = 0; s < 16; s++) {
            sc[s] = rng.nextInt(256) - 128;
        }
        int[] q = new int[256];
        for (int i = 0; i < 256; i++) {
            q[i] = rng.nextInt(64);
        }
        ByteBuffer b = block(210);
        for (int e = 0; e < 256; e++) {
            int n = e / 128;
            int g = (e % 128) / 32;
            int l = e % 32;
            int qlAt = 64 * n + (g % 2 == 1 ? 32 : 0) + l;
            int shift = g >= 2 ? 4 : 0;
            b.put(qlAt, (byte) (b.get(qlAt) | (q[e] & 15) << shift));
            int qhAt = 128 + 32 * n + l;
            b.put(qhAt, (byte) (b.get(qhAt) | (q[e] >> 4) << (2 * g)));
        }
        for (int s = 0; s < 16; s++) {
            b.put(192 + s, (byte) sc[s]);
        }
        b.putShort(208, h(d));
        float[] y = run(GgmlType.Q6_K, b, 256);
        for (int e = 0; e < 256; e++) {
            int n = e / 128;
            int g = (e % 128) / 32;
            int s = 8 * n + (e % 32) / 16 + 2 * g;
            assertBits(d * sc[s] * (q[e] - 32), y[e], "Q6_K[" + e + "]");
        }
    }

    @Test
    void plainTypes() {
        ByteBuffer b = block(16).putShort(0, h(1.5f)).putShort(2, h(-0.0f)).putShort(4, (short) 0x3f80)
                .putShort(6, (short) 0xc040);
        float[] f16 = new float[2];
        Dequantize.toFloats(GgmlType.F16, b.duplicate().position(0), f16, 0, 2);
        assertEquals(1.5f, f16[0]);
        assertBits(-0.0f, f16[1], "F16 -0");
        float[] bf16 = new float[2];
        Dequantize.toFloats(GgmlType.BF16, b.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(4), bf16, 0, 2);
        assertEquals(1.0f, bf16[0]);
        assertEquals(-3.0f, bf16[1]);
        ByteBuffer f32 = block(8).putFloat(0, 3.25f).putFloat(4, -7f);
        float[] out = new float[3];
        Dequantize.toFloats(GgmlType.F32, f32, out, 1, 2);
        assertEquals(3.25f, out[1]);
        assertEquals(-7f, out[2]);
    }

    @Test
    void rejectsPartialBlocksShortInputAndUnsupportedTypes() {
        float[] out = new float[64];
        assertThrows(IllegalArgumentException.class, () -> Dequantize.toFloats(GgmlType.Q4_0, block(18), out, 0, 16));
        assertThrows(IndexOutOfBoundsException.class, () -> Dequantize.toFloats(GgmlType.Q4_0, block(18), out, 0, 64));
        var e = assertThrows(IllegalArgumentException.class,
                () -> Dequantize.toFloats(GgmlType.IQ2_XXS, block(66), new float[256], 0, 256));
        assertTrue(e.getMessage().contains("IQ2_XXS"), e.getMessage());
    }

    /** Random blocks through the gguf package's numpy dequantizers (tools/make_gguf_fixtures.py). */
    @ParameterizedTest
    @ValueSource(strings = {"F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K"})
    void matchesGgufPackageBitForBit(String typeName) throws Exception {
        Map<String, HostTensor> v = SafeTensors.read(GgufFixtures.DIR.resolve("dequant_vectors.safetensors"));
        GgmlType type = GgmlType.valueOf(typeName);
        long[] raw = v.get(typeName + ".raw").toLongs();
        float[] expected = v.get(typeName + ".expected").toFloats();
        ByteBuffer b = block(raw.length);
        for (int i = 0; i < raw.length; i++) {
            b.put(i, (byte) raw[i]);
        }
        assertEquals(type.byteSize(expected.length), raw.length);
        float[] y = run(type, b, expected.length);
        for (int i = 0; i < expected.length; i++) {
            assertBits(expected[i], y[i], typeName + "[" + i + "]");
        }
    }
}
