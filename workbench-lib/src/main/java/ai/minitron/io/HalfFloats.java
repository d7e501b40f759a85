package ai.minitron.io;

/**
 * Bit-level conversions between {@code float} and the two 16-bit floating formats LLM checkpoints
 * use: IEEE 754 binary16 ("F16", 1 sign, 5 exponent, 10 mantissa bits) and bfloat16 ("BF16", the
 * top half of a float32: 1 sign, 8 exponent, 7 mantissa bits).
 *
 * <p>Java 17 has no {@code Float.float16ToFloat} (that arrived in Java 20), and DJL aborts the JVM on
 * a bfloat16 array (docs/architecture.md, "DJL facts"), so both directions are written out here.
 *
 * <ul>
 *   <li>16 -> 32 bits is exact for every one of the 65536 patterns of either format, including
 *       subnormals, infinities and NaN payloads.
 *   <li>32 -> 16 bits rounds to nearest, ties to even; overflow goes to infinity; NaN stays NaN
 *       (sign and the top payload bits are kept, a payload that would vanish becomes a quiet NaN).
 *   <li>Consequently 16 -> 32 -> 16 is a bit-exact round trip for all 65536 patterns of both formats.
 * </ul>
 *
 * <p>Values are passed as {@code short} holding the raw 16 bits.
 */
public final class HalfFloats {

  private HalfFloats() {}

  /** IEEE binary16 bits -> float (exact). */
  public static float halfToFloat(short half) {
    int h = half & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign); // +-0
      }
      // Subnormal half: mant * 2^-24. Normalise so the leading 1 sits at bit 10.
      int e = 113; // float biased exponent of 2^-14, minus one shift applied below at least once
      while ((mant & 0x400) == 0) {
        mant <<= 1;
        e--;
      }
      mant &= 0x3ff;
      return Float.intBitsToFloat(sign | (e << 23) | (mant << 13));
    }
    if (exp == 0x1f) {
      // Infinity (mant == 0) or NaN with its payload carried into the top float mantissa bits.
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13)); // rebias 15 -> 127
  }

  /** float -> IEEE binary16 bits, round to nearest even. */
  public static short floatToHalf(float value) {
    int bits = Float.floatToRawIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    int exp = (bits >>> 23) & 0xff;
    int mant = bits & 0x7fffff;

    if (exp == 0xff) {
      if (mant == 0) {
        return (short) (sign | 0x7c00); // +-inf
      }
      int payload = mant >>> 13;
      if (payload == 0) {
        payload = 0x200; // payload lost in the narrowing: make it a quiet NaN
      }
      return (short) (sign | 0x7c00 | payload);
    }

    int e = exp - 112; // half biased exponent (exp - 127 + 15)
    if (e >= 0x1f) {
      return (short) (sign | 0x7c00); // too large: infinity
    }
    if (e <= 0) {
      // Result is a half subnormal (or zero). Float subnormals and anything below 2^-25 land here
      // with e < -10 and round to zero.
      if (e < -10) {
        return (short) sign;
      }
      int m = mant | 0x800000; // 24-bit significand with the implicit 1
      int shift = 14 - e; // 15..24: units of 2^-24 (the smallest half subnormal)
      int h = m >>> shift;
      int rem = m & ((1 << shift) - 1);
      int halfway = 1 << (shift - 1);
      if (rem > halfway || (rem == halfway && (h & 1) != 0)) {
        h++; // may become 0x400, the smallest normal half: still the right encoding
      }
      return (short) (sign | h);
    }
    int h = (e << 10) | (mant >>> 13);
    int rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) {
      h++; // a carry into the exponent is correct, including 0x7bff -> 0x7c00 (infinity)
    }
    return (short) (sign | h);
  }

  /** bfloat16 bits -> float (exact): the bits are the top half of a float32. */
  public static float bfloat16ToFloat(short bf16) {
    return Float.intBitsToFloat((bf16 & 0xffff) << 16);
  }

  /** float -> bfloat16 bits, round to nearest even. */
  public static short floatToBfloat16(float value) {
    int bits = Float.floatToRawIntBits(value);
    if ((bits & 0x7f800000) == 0x7f800000 && (bits & 0x7fffff) != 0) {
      int r = bits >>> 16;
      if ((r & 0x7f) == 0) {
        r |= 0x40; // payload lost in the narrowing: make it a quiet NaN
      }
      return (short) r;
    }
    int lsb = (bits >>> 16) & 1;
    bits += 0x7fff + lsb; // round to nearest even; overflow carries into infinity as it should
    return (short) (bits >>> 16);
  }
}
