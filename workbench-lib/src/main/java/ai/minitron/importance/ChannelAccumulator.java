package ai.minitron.importance;

import ai.minitron.stats.ExactSum;
import java.math.BigInteger;
import java.util.List;

/**
 * Mergeable per-unit statistics of per-sample values: for each of a few named <em>streams</em> (in
 * importance estimation: one per sequence aggregation, "mean", "l2", "var") and each unit (channel,
 * head, neuron), the count n, Σv and Σv² of the values v_b that the samples b contributed.
 *
 * <p>This is what makes every batch aggregation recomputable offline (docs/architecture.md, "Importance statistics"): with
 * n, Σv and Σv² of the per-sample sequence-aggregated values s_b,
 *
 * <pre>
 *   batch mean     = Σs / n
 *   batch L2       = sqrt(Σs²)
 *   batch variance = Σs² / n - (Σs / n)²
 * </pre>
 *
 * and two accumulators over disjoint samples {@link #merge} into exactly (bit for bit) the one a
 * single pass would have produced, because the sums are kept as {@link ExactSum} fixed-point
 * integers rather than rounded float64 running sums. They are read back as float64.
 *
 * <p>Every sample contributes to every unit, so the sample count (and the count of valid tokens
 * those samples held) is one per accumulator. Not thread-safe.
 */
public final class ChannelAccumulator implements java.io.Serializable {
    private static final long serialVersionUID = 1L;

    private final int units;
    private final List<String> streams;
    private final long[] sums; // [stream][unit][word]
    private final long[] sumSqs; // [stream][unit][word]
    private long count;
    private long tokens;

    public ChannelAccumulator(int units, List<String> streams) {
        if (units < 1) {
            throw new IllegalArgumentException("an accumulator needs >= 1 unit, got " + units);
        }
        if (streams.isEmpty()) {
            throw new IllegalArgumentException("an accumulator needs >= 1 stream");
        }
        this.units = units;
        this.streams = List.copyOf(streams);
        this.sums = new long[Math.multiplyExact(streams.size() * units, ExactSum.WORDS)];
        this.sumSqs = new long[sums.length];
    }

    private int at(int stream, int unit) {
        return (stream * units + unit) * ExactSum.WORDS;
    }

    /** Adds one sample's value v of a stream and unit: Σv += v, Σv² += v2 (normally v * v). */
    public void add(int stream, int unit, double v, double v2) {
        int i = at(stream, unit);
        ExactSum.add(sums, i, v);
        ExactSum.add(sumSqs, i, v2);
    }

    /** Counts samples (and their valid tokens) once their values have been added to every unit. */
    public void addSamples(long samples, long validTokens) {
        count += samples;
        tokens += validTokens;
    }

    /** Adds another accumulator over other samples (same units and streams); exact. */
    public void merge(ChannelAccumulator o) {
        if (o.units != units || !o.streams.equals(streams)) {
            throw new IllegalArgumentException("cannot merge accumulators of " + o.units + " units " + o.streams
                    + " into one of " + units + " units " + streams);
        }
        for (int i = 0; i < sums.length; i += ExactSum.WORDS) {
            ExactSum.addTo(sums, i, o.sums, i);
            ExactSum.addTo(sumSqs, i, o.sumSqs, i);
        }
        count += o.count;
        tokens += o.tokens;
    }

    /** A copy (for prefix shards: the copy and the original then accumulate independently). */
    public ChannelAccumulator copy() {
        ChannelAccumulator c = new ChannelAccumulator(units, streams);
        c.merge(this);
        return c;
    }

    public int units() {
        return units;
    }

    public List<String> streams() {
        return streams;
    }

    /** Index of a stream by name; throws naming the known streams. */
    public int stream(String name) {
        int s = streams.indexOf(name);
        if (s < 0) {
            throw new IllegalArgumentException("no stream '" + name + "' in this accumulator (streams: " + streams + ")");
        }
        return s;
    }

    /** Samples accumulated. */
    public long count() {
        return count;
    }

    /** Valid (non-padding) tokens those samples held. */
    public long tokens() {
        return tokens;
    }

    public double sum(int stream, int unit) {
        return ExactSum.toDouble(sums, at(stream, unit));
    }

    public double sumSq(int stream, int unit) {
        return ExactSum.toDouble(sumSqs, at(stream, unit));
    }

    /** Σv of every unit of a stream. */
    public double[] sums(int stream) {
        double[] out = new double[units];
        for (int u = 0; u < units; u++) {
            out[u] = sum(stream, u);
        }
        return out;
    }

    /** Σv² of every unit of a stream. */
    public double[] sumSqs(int stream) {
        double[] out = new double[units];
        for (int u = 0; u < units; u++) {
            out[u] = sumSq(stream, u);
        }
        return out;
    }

    /** The exact Σv as a fixed-point integer q (Σv = q * 2^-80), for lossless storage. */
    public BigInteger exactSum(int stream, int unit) {
        return ExactSum.toBigInteger(sums, at(stream, unit));
    }

    public BigInteger exactSumSq(int stream, int unit) {
        return ExactSum.toBigInteger(sumSqs, at(stream, unit));
    }

    /** Restores exact sums read from storage (see {@link #exactSum}). */
    public void setExact(int stream, int unit, BigInteger sum, BigInteger sumSq) {
        int i = at(stream, unit);
        ExactSum.fromBigInteger(sum, sums, i);
        ExactSum.fromBigInteger(sumSq, sumSqs, i);
    }

    /** Sets the counts (when restoring from storage). */
    public void setCounts(long samples, long validTokens) {
        this.count = samples;
        this.tokens = validTokens;
    }

    /** True if both hold the same counts and bit-identical sums. */
    public boolean sameAs(ChannelAccumulator o) {
        return o.units == units && o.streams.equals(streams) && o.count == count && o.tokens == tokens
                && java.util.Arrays.equals(o.sums, sums) && java.util.Arrays.equals(o.sumSqs, sumSqs);
    }

    @Override
    public String toString() {
        return "ChannelAccumulator[" + units + " units, streams " + streams + ", " + count + " samples, " + tokens
                + " tokens]";
    }
}
