package ai.minitron.stats;

import java.math.BigInteger;

/**
 * Exact, associative sums of doubles, so that statistics accumulated in shards merge to exactly the
 * single-pass result whatever the order of the additions.
 *
 * <p>Floating-point addition is not associative: {@code (a + b) + c} and {@code a + (b + c)} can
 * differ in the last bit, so two shards merged would not reproduce a single pass bit for bit. Here
 * every added value is first rounded (to nearest, deterministically) onto a fixed-point grid of
 * resolution 2<sup>-{@value #FRACTION_BITS}</sup> and then added as a 192-bit two's-complement
 * integer. Integer addition is associative and commutative, so any partition of the samples and
 * any merge order gives the same bits. Values are read back as the correctly rounded double.
 *
 * <p>Range and precision: |v| below 2<sup>{@value #MAX_EXPONENT}</sup> per added value and a total
 * below 2<sup>110</sup>; resolution 2<sup>-80</sup> ≈ 8e-25 absolute (activation statistics are
 * many orders of magnitude above it, so the relative precision beats float64's). Non-finite or
 * out-of-range values throw, naming the value.
 *
 * <p>Storage: a {@code long[]} holding {@value #WORDS} words per sum, little-endian (word 0 = low
 * bits, word 2 = high bits, signed).
 */
public final class ExactSum {
    /** Fraction bits of the fixed-point grid: a stored integer q means q * 2^-80. */
    public static final int FRACTION_BITS = 80;
    /** Words (longs) per sum. */
    public static final int WORDS = 3;
    /** Added values must satisfy |v| < 2^MAX_EXPONENT. */
    public static final int MAX_EXPONENT = 100;

    private ExactSum() {}

    /** Adds {@code v} to the sum stored at words {@code [i, i + 3)} of {@code a}. */
    public static void add(long[] a, int i, double v) {
        if (v == 0.0) {
            return;
        }
        long bits = Double.doubleToRawLongBits(v);
        int exp = (int) ((bits >>> 52) & 0x7ff);
        if (exp == 0x7ff) {
            throw new ArithmeticException("cannot accumulate a non-finite value: " + v);
        }
        long mant = bits & 0x000f_ffff_ffff_ffffL;
        if (exp == 0) {
            exp = 1; // subnormal
        } else {
            mant |= 1L << 52;
        }
        int shift = exp - 1075 + FRACTION_BITS; // v = mant * 2^(exp - 1075); q = mant * 2^shift
        long m0;
        long m1 = 0;
        long m2 = 0;
        if (shift >= 0) {
            if (shift + 53 > MAX_EXPONENT + FRACTION_BITS) {
                throw new ArithmeticException("value " + v + " is outside the exact accumulator's range (|v| < 2^"
                        + MAX_EXPONENT + ")");
            }
            int word = shift >>> 6;
            int bit = shift & 63;
            long lo = mant << bit;
            long hi = bit == 0 ? 0 : mant >>> (64 - bit);
            if (word == 0) {
                m0 = lo;
                m1 = hi;
            } else if (word == 1) {
                m0 = 0;
                m1 = lo;
                m2 = hi;
            } else {
                m0 = 0;
                m2 = lo;
            }
        } else {
            int s = -shift;
            if (s > 53) {
                return; // below half the resolution: rounds to zero
            }
            m0 = (mant + (1L << (s - 1))) >>> s; // round half up on the magnitude: deterministic
            if (m0 == 0) {
                return;
            }
        }
        if (bits < 0) { // negative: add the two's complement of the magnitude
            if (m0 != 0) {
                m0 = -m0;
                m1 = ~m1;
                m2 = ~m2;
            } else if (m1 != 0) {
                m1 = -m1;
                m2 = ~m2;
            } else {
                m2 = -m2;
            }
        }
        addWords(a, i, m0, m1, m2);
    }

    /** Adds the sum at {@code src[j..j+3)} to the sum at {@code dst[i..i+3)} (exactly). */
    public static void addTo(long[] dst, int i, long[] src, int j) {
        addWords(dst, i, src[j], src[j + 1], src[j + 2]);
    }

    private static void addWords(long[] a, int i, long m0, long m1, long m2) {
        long x0 = a[i] + m0;
        long carry = Long.compareUnsigned(x0, m0) < 0 ? 1L : 0L;
        long t = a[i + 1] + carry;
        long carry2 = (carry == 1 && t == 0) ? 1L : 0L;
        long x1 = t + m1;
        if (Long.compareUnsigned(x1, m1) < 0) {
            carry2 = 1;
        }
        long x2;
        try {
            x2 = Math.addExact(Math.addExact(a[i + 2], m2), carry2);
        } catch (ArithmeticException e) {
            throw new ArithmeticException("exact accumulator overflow (sum beyond 2^110)");
        }
        a[i] = x0;
        a[i + 1] = x1;
        a[i + 2] = x2;
    }

    /** The stored sum as the fixed-point integer q (the sum is q * 2^-80). */
    public static BigInteger toBigInteger(long[] a, int i) {
        byte[] be = new byte[8 * WORDS];
        for (int w = 0; w < WORDS; w++) {
            long x = a[i + w];
            for (int k = 0; k < 8; k++) {
                be[be.length - 1 - (8 * w + k)] = (byte) (x >>> (8 * k));
            }
        }
        return new BigInteger(be);
    }

    /** Stores the fixed-point integer q at words {@code [i, i + 3)}. */
    public static void fromBigInteger(BigInteger q, long[] a, int i) {
        if (q.bitLength() > 64 * WORDS - 1) {
            throw new IllegalArgumentException("fixed-point value " + q + " does not fit in " + 64 * WORDS + " bits");
        }
        for (int w = 0; w < WORDS; w++) {
            a[i + w] = q.shiftRight(64 * w).longValue();
        }
    }

    /** The stored sum, correctly rounded to the nearest double. */
    public static double toDouble(long[] a, int i) {
        long w0 = a[i];
        long w1 = a[i + 1];
        long w2 = a[i + 2];
        if (w2 == 0 && w1 == 0 && w0 >= 0 && w0 < (1L << 53)) {
            return Math.scalb((double) w0, -FRACTION_BITS); // exact fast path
        }
        // BigInteger.doubleValue rounds to nearest-even; scaling by a power of two is exact here.
        return Math.scalb(toBigInteger(a, i).doubleValue(), -FRACTION_BITS);
    }
}
