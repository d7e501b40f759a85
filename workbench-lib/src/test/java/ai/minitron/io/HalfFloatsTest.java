package ai.minitron.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * F16 / BF16 conversions. Round trips are checked over all 65536 bit patterns, NaN payloads
 * included: our narrowing keeps the top payload bits, so even NaNs come back bit-identical.
 */
class HalfFloatsTest {

  private static short f16(float v) {
    return HalfFloats.floatToHalf(v);
  }

  private static int bits16(short s) {
    return s & 0xffff;
  }

  @Test
  void knownHalfEncodings() {
    assertEquals(0x3c00, bits16(f16(1f)));
    assertEquals(0xc100, bits16(f16(-2.5f)));
    assertEquals(0x7bff, bits16(f16(65504f)), "largest finite half");
    assertEquals(0x0001, bits16(f16(Math.scalb(1f, -24))), "smallest subnormal");
    assertEquals(0x03ff, bits16(f16(Math.scalb(1023f, -24))), "largest subnormal");
    assertEquals(0x0400, bits16(f16(Math.scalb(1f, -14))), "smallest normal");
    assertEquals(0x0000, bits16(f16(0f)));
    assertEquals(0x8000, bits16(f16(-0f)));
    assertEquals(0x7c00, bits16(f16(Float.POSITIVE_INFINITY)));
    assertEquals(0xfc00, bits16(f16(Float.NEGATIVE_INFINITY)));
    assertEquals(0x7c00, bits16(f16(1e10f)), "overflow -> inf");
    assertEquals(0x0000, bits16(f16(Float.MIN_VALUE)), "float subnormal underflows to 0");
    int nan = bits16(f16(Float.NaN));
    assertEquals(0x7c00, nan & 0x7c00);
    assertTrue((nan & 0x3ff) != 0, "NaN stays NaN");
    // A float NaN whose payload sits only in bits the half drops still becomes a NaN.
    assertTrue(Float.isNaN(HalfFloats.halfToFloat(f16(Float.intBitsToFloat(0xff800001)))));
    assertEquals(0x8000, bits16(f16(Float.intBitsToFloat(0xff800001))) & 0x8000, "NaN sign kept");

    assertEquals(1f, HalfFloats.halfToFloat((short) 0x3c00));
    assertEquals(-2.5f, HalfFloats.halfToFloat((short) 0xc100));
    assertEquals(65504f, HalfFloats.halfToFloat((short) 0x7bff));
    assertEquals(Math.scalb(1f, -24), HalfFloats.halfToFloat((short) 0x0001));
    assertEquals(Math.scalb(1023f, -24), HalfFloats.halfToFloat((short) 0x03ff));
    assertEquals(Float.NEGATIVE_INFINITY, HalfFloats.halfToFloat((short) 0xfc00));
    assertTrue(Float.isNaN(HalfFloats.halfToFloat((short) 0x7e00)));
    assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(HalfFloats.halfToFloat((short) 0x8000)));
  }

  @Test
  void halfRoundsToNearestEven() {
    float ulp = Math.scalb(1f, -10); // spacing of halves in [1, 2)
    assertEquals(0x3c00, bits16(f16(1f + ulp / 2)), "tie -> even (down)");
    assertEquals(0x3c02, bits16(f16(1f + 3 * ulp / 2)), "tie -> even (up)");
    assertEquals(0x3c01, bits16(f16(1f + ulp / 2 + Math.scalb(1f, -20))), "above tie -> up");
    assertEquals(0x3c00, bits16(f16(1f + ulp / 2 - Math.scalb(1f, -20))), "below tie -> down");
    assertEquals(0x7bff, bits16(f16(65519f)), "below the overflow tie");
    assertEquals(0x7c00, bits16(f16(65520f)), "overflow tie rounds to inf (even)");
    // Subnormal range, unit 2^-24.
    assertEquals(0x0000, bits16(f16(Math.scalb(1f, -25))), "half a unit -> 0 (even)");
    assertEquals(0x0001, bits16(f16(Math.scalb(1.0001f, -25))), "just above half a unit -> 1");
    assertEquals(0x0002, bits16(f16(Math.scalb(3f, -25))), "1.5 units -> 2 (even)");
    assertEquals(0x0400, bits16(f16(Math.scalb(2047f, -25))), "rounds up out of subnormals");
  }

  @Test
  void knownBfloat16Encodings() {
    assertEquals(0x3f80, bits16(HalfFloats.floatToBfloat16(1f)));
    assertEquals(0xc020, bits16(HalfFloats.floatToBfloat16(-2.5f)));
    assertEquals(0x4780, bits16(HalfFloats.floatToBfloat16(65504f)), "65504 rounds to 65536 in bf16");
    assertEquals(0x7f80, bits16(HalfFloats.floatToBfloat16(Float.POSITIVE_INFINITY)));
    assertEquals(0x7f80, bits16(HalfFloats.floatToBfloat16(Float.MAX_VALUE)), "overflow -> inf");
    assertEquals(0x0001, bits16(HalfFloats.floatToBfloat16(Math.scalb(1f, -133))), "smallest subnormal");
    assertTrue(Float.isNaN(HalfFloats.bfloat16ToFloat(HalfFloats.floatToBfloat16(Float.NaN))));
    assertTrue(Float.isNaN(HalfFloats.bfloat16ToFloat(HalfFloats.floatToBfloat16(Float.intBitsToFloat(0x7f800001)))),
        "payload only in dropped bits still NaN");
    float ulp = Math.scalb(1f, -7);
    assertEquals(0x3f80, bits16(HalfFloats.floatToBfloat16(1f + ulp / 2)), "tie -> even (down)");
    assertEquals(0x3f82, bits16(HalfFloats.floatToBfloat16(1f + 3 * ulp / 2)), "tie -> even (up)");
    assertEquals(0x3f81, bits16(HalfFloats.floatToBfloat16(1f + ulp / 2 + Math.scalb(1f, -20))));
    assertEquals(-2.5f, HalfFloats.bfloat16ToFloat((short) 0xc020));
  }

  @Test
  void allHalfPatternsRoundTripBitExactAndDecodeCorrectly() {
    for (int h = 0; h < 65536; h++) {
      float f = HalfFloats.halfToFloat((short) h);
      assertEquals(h, bits16(f16(f)), () -> "half 0x" + Integer.toHexString(bitsOf(f)));
      int e = (h >>> 10) & 0x1f;
      int m = h & 0x3ff;
      if (e != 0x1f) {
        // Independent decoding in double arithmetic.
        double magnitude = e == 0 ? m * Math.pow(2, -24) : (1024 + m) * Math.pow(2, e - 25);
        double expected = (h & 0x8000) != 0 ? -magnitude : magnitude;
        assertEquals(expected, (double) f, 0.0, "0x" + Integer.toHexString(h));
      } else {
        assertEquals(m == 0, Float.isInfinite(f));
        assertEquals(m != 0, Float.isNaN(f));
      }
    }
  }

  @Test
  void allBfloat16PatternsRoundTripBitExact() {
    for (int b = 0; b < 65536; b++) {
      float f = HalfFloats.bfloat16ToFloat((short) b);
      assertEquals(b << 16, Float.floatToRawIntBits(f));
      assertEquals(b, bits16(HalfFloats.floatToBfloat16(f)), "0x" + Integer.toHexString(b));
    }
  }

  @Test
  void narrowingPicksTheNearestValueForRandomFloats() {
    SplittableRandom rnd = new SplittableRandom(42);
    for (int i = 0; i < 200_000; i++) {
      float f = Float.intBitsToFloat(rnd.nextInt());
      if (Float.isNaN(f)) {
        continue;
      }
      if (Math.abs(f) < 65504f) {
        checkNearest(f, bits16(f16(f)), true);
      }
      if (Math.abs(f) < 3.38e38f) {
        checkNearest(f, bits16(HalfFloats.floatToBfloat16(f)), false);
      }
      // Also exercise the interesting half range densely.
      float g = (float) ((rnd.nextDouble() * 2 - 1) * Math.pow(2, rnd.nextInt(-26, 16)));
      checkNearest(g, bits16(f16(g)), true);
    }
  }

  /** h is the nearest 16-bit value to f (ties to the even pattern); neighbours are h +- 1. */
  private static void checkNearest(float f, int h, boolean half) {
    java.util.function.IntToDoubleFunction dec = half
        ? x -> HalfFloats.halfToFloat((short) x)
        : x -> HalfFloats.bfloat16ToFloat((short) x);
    double v = dec.applyAsDouble(h);
    double err = Math.abs(f - v);
    for (int nb : new int[] {h - 1, h + 1}) {
      if ((nb & 0x7fff) == 0x7fff || nb < 0 || nb > 0xffff || (nb & 0x8000) != (h & 0x8000)) {
        continue; // NaN pattern or sign change: the other side is covered by the opposite zero
      }
      double w = dec.applyAsDouble(nb);
      if (Double.isInfinite(w) || Double.isNaN(w)) {
        continue;
      }
      double errNb = Math.abs(f - w);
      assertTrue(err <= errNb, () -> f + " -> 0x" + Integer.toHexString(h) + " but 0x" + Integer.toHexString(nb) + " is nearer");
      if (err == errNb) {
        assertEquals(0, h & 1, () -> "tie for " + f + " not resolved to even");
      }
    }
  }

  private static int bitsOf(float f) {
    return Float.floatToRawIntBits(f);
  }

  @Test
  void hostTensorConversionsRoundTripAllPatterns() {
    ByteBuffer all = ByteBuffer.allocate(2 * 65536).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 65536; i++) {
      all.putShort(2 * i, (short) i);
    }
    for (TensorDType dt : new TensorDType[] {TensorDType.F16, TensorDType.BF16}) {
      HostTensor t = HostTensor.ofBytes("w", dt, new long[] {256, 256}, all);
      HostTensor back = t.convertTo(TensorDType.F32).convertTo(dt);
      assertTrue(t.contentEquals(back), dt + " -> F32 -> " + dt);
      assertTrue(t.contentEquals(t.convertTo(TensorDType.F64).convertTo(dt)), dt + " via F64");
      assertSame(t, t.convertTo(dt), "identity conversion returns the same tensor");
    }
    HostTensor f = HostTensor.ofFloats("x", new long[] {3}, new float[] {1f, -2.5f, 65504f});
    assertArrayEquals(new float[] {1f, -2.5f, 65504f}, f.convertTo(TensorDType.F16).toFloats());
    assertArrayEquals(new float[] {1f, -2.5f, 65536f}, f.convertTo(TensorDType.BF16).toFloats());
    assertEquals(0x3c00, f.convertTo(TensorDType.F16).bytes().getShort(0) & 0xffff, "little-endian F16");
    assertThrows(IllegalArgumentException.class, () -> f.convertTo(TensorDType.I32));
    assertThrows(IllegalArgumentException.class,
        () -> HostTensor.ofLongs("i", new long[] {1}, new long[] {1}).convertTo(TensorDType.F32));
  }
}
