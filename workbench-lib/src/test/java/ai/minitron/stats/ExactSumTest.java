package ai.minitron.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The fixed-point accumulator is exact, order-independent and correctly rounded on read. */
class ExactSumTest {
    static double[] values(long seed, int n) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            // wide magnitudes and both signs: float64 running sums of these depend on the order
            v[i] = (r.nextBoolean() ? 1 : -1) * Math.pow(10, r.nextInt(16) - 8) * r.nextDouble();
        }
        return v;
    }

    @Test
    void anyOrderAndAnyPartitionGiveTheSameBits() {
        double[] v = values(1, 5000);
        long[] forward = new long[3];
        for (double x : v) ExactSum.add(forward, 0, x);
        List<Double> shuffled = new ArrayList<>();
        for (double x : v) shuffled.add(x);
        Collections.shuffle(shuffled, new Random(2));
        long[] a = new long[3];
        long[] b = new long[3];
        for (int i = 0; i < shuffled.size(); i++) ExactSum.add(i % 3 == 0 ? a : b, 0, shuffled.get(i));
        ExactSum.addTo(a, 0, b, 0);
        assertArrayEquals(forward, a, "shards merged in another order must equal the single pass bit for bit");

        // the naive float64 running sums of the two orders differ (so the property is not free)
        double s1 = 0;
        double s2 = 0;
        for (double x : v) s1 += x;
        for (double x : shuffled) s2 += x;
        assertTrue(s1 != s2, "float64 sums of these values depend on the order");
    }

    @Test
    void readsBackTheCorrectlyRoundedExactSum() {
        double[] v = values(3, 2000);
        long[] acc = new long[3];
        BigDecimal exact = BigDecimal.ZERO;
        for (double x : v) {
            ExactSum.add(acc, 0, x);
            // the value the grid holds: x rounded to a multiple of 2^-80
            BigDecimal q = new BigDecimal(x).multiply(new BigDecimal(BigInteger.ONE.shiftLeft(80)))
                    .setScale(0, java.math.RoundingMode.HALF_UP);
            exact = exact.add(q);
        }
        BigInteger q = ExactSum.toBigInteger(acc, 0);
        assertEquals(exact.toBigIntegerExact(), q);
        double expected = new BigDecimal(q).divide(new BigDecimal(BigInteger.ONE.shiftLeft(80)), MathContext.DECIMAL128)
                .doubleValue();
        assertEquals(expected, ExactSum.toDouble(acc, 0), Math.ulp(expected));
    }

    @Test
    void smallNegativeAndHugeValues() {
        long[] acc = new long[3];
        ExactSum.add(acc, 0, 1.5);
        ExactSum.add(acc, 0, -2.25);
        assertEquals(-0.75, ExactSum.toDouble(acc, 0));
        ExactSum.add(acc, 0, 0.75);
        assertArrayEquals(new long[3], acc, "x + (-x) is exactly zero");
        ExactSum.add(acc, 0, 1e-30); // below the 2^-80 grid: rounds to zero
        assertEquals(0.0, ExactSum.toDouble(acc, 0));
        ExactSum.add(acc, 0, 1e29);
        ExactSum.add(acc, 0, 3.0);
        assertEquals(1e29 + 3.0, ExactSum.toDouble(acc, 0));
        assertEquals(new BigDecimal(1e29).add(BigDecimal.valueOf(3)).toBigIntegerExact().shiftLeft(80),
                ExactSum.toBigInteger(acc, 0), "3 + 1e29 held exactly, although no double holds it");
        assertThrows(ArithmeticException.class, () -> ExactSum.add(new long[3], 0, Double.NaN));
        assertThrows(ArithmeticException.class, () -> ExactSum.add(new long[3], 0, 1e40));
    }

    @Test
    void bigIntegerRoundTrip() {
        long[] acc = new long[6];
        for (double x : values(4, 100)) ExactSum.add(acc, 3, x);
        BigInteger q = ExactSum.toBigInteger(acc, 3);
        long[] back = new long[3];
        ExactSum.fromBigInteger(q, back, 0);
        assertArrayEquals(java.util.Arrays.copyOfRange(acc, 3, 6), back);
    }
}
