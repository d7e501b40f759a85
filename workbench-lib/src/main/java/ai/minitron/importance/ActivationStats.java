package ai.minitron.importance;

import ai.minitron.stats.ArrowIo;
import ai.minitron.tap.Site;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The raw statistics of one calibration pass: a {@link ChannelAccumulator} per (tap site, layer,
 * quantity), where the quantity says what per-token value was accumulated at that site, e.g.
 * {@code "channel"} (each channel of the activation) or {@code "head_norm"} (the L2 norm of each
 * attention head's output). Everything importance metrics need is derived from these, so they are
 * written next to the importance table ({@code accumulators.arrow}) and shards of a calibration set
 * {@link #merge} into exactly the single-pass statistics.
 *
 * <p>Arrow layout, one row per (layer, site, quantity, unit, stream):
 *
 * <pre>
 *   run_id, layer, site, quantity, unit, seq_agg, count, n_tokens, sum, sumsq, sum_exact, sumsq_exact
 * </pre>
 *
 * {@code sum}/{@code sumsq} are float64 (for analysis); {@code sum_exact}/{@code sumsq_exact} hold the
 * exact fixed-point integers as decimal strings (the value is the integer times 2^-80), so statistics
 * read back from files still merge exactly. Serializable, so statistics computed elsewhere (on a cluster's
 * workers) travel to where they are merged.
 */
public final class ActivationStats implements java.io.Serializable {
    private static final long serialVersionUID = 1L;

    /** Identifies one accumulator. */
    public record Key(Site site, int layer, String quantity) implements Comparable<Key>, java.io.Serializable {
        @Override
        public int compareTo(Key o) {
            int c = Integer.compare(layer, o.layer);
            if (c == 0) c = site.compareTo(o.site);
            if (c == 0) c = quantity.compareTo(o.quantity);
            return c;
        }

        @Override
        public String toString() {
            return site + "@" + layer + "/" + quantity;
        }
    }

    /** Column names of the Arrow table, in order. */
    public static final List<String> COLUMNS = List.of("run_id", "layer", "site", "quantity", "unit", "seq_agg",
            "count", "n_tokens", "sum", "sumsq", "sum_exact", "sumsq_exact");

    private final Map<Key, ChannelAccumulator> accumulators = new LinkedHashMap<>();

    /** The accumulator for a key, created with the given shape on first use. */
    public ChannelAccumulator getOrCreate(Key key, int units, List<String> streams) {
        ChannelAccumulator a = accumulators.computeIfAbsent(key, k -> new ChannelAccumulator(units, streams));
        if (a.units() != units || !a.streams().equals(streams)) {
            throw new IllegalArgumentException("accumulator " + key + " has " + a.units() + " units " + a.streams()
                    + ", not " + units + " " + streams);
        }
        return a;
    }

    /** The accumulator for a key; throws naming the key when absent. */
    public ChannelAccumulator get(Site site, int layer, String quantity) {
        ChannelAccumulator a = accumulators.get(new Key(site, layer, quantity));
        if (a == null) {
            throw new IllegalArgumentException("no statistics for " + new Key(site, layer, quantity)
                    + " (have " + accumulators.size() + " accumulators; was the site tapped?)");
        }
        return a;
    }

    public boolean has(Site site, int layer, String quantity) {
        return accumulators.containsKey(new Key(site, layer, quantity));
    }

    public Map<Key, ChannelAccumulator> asMap() {
        return Collections.unmodifiableMap(accumulators);
    }

    /** Adds another pass's statistics (over other samples) into this one; exact. */
    public ActivationStats merge(ActivationStats o) {
        for (var e : o.accumulators.entrySet()) {
            ChannelAccumulator mine = accumulators.get(e.getKey());
            if (mine == null) {
                accumulators.put(e.getKey(), e.getValue().copy());
            } else {
                mine.merge(e.getValue());
            }
        }
        return this;
    }

    /** A deep copy. */
    public ActivationStats copy() {
        return new ActivationStats().merge(this);
    }

    /** True if both hold the same keys with bit-identical accumulators. */
    public boolean sameAs(ActivationStats o) {
        if (!o.accumulators.keySet().equals(accumulators.keySet())) {
            return false;
        }
        for (var e : accumulators.entrySet()) {
            if (!e.getValue().sameAs(o.accumulators.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    // ---- Arrow / Tablesaw ----

    /** The long table (see the class comment), sorted by layer, site, quantity, stream, unit. */
    public Table toTable(String runId) {
        int rows = 0;
        for (ChannelAccumulator a : accumulators.values()) {
            rows += a.units() * a.streams().size();
        }
        StringColumn run = StringColumn.create("run_id");
        IntColumn layer = IntColumn.create("layer");
        StringColumn site = StringColumn.create("site");
        StringColumn quantity = StringColumn.create("quantity");
        IntColumn unit = IntColumn.create("unit");
        StringColumn seqAgg = StringColumn.create("seq_agg");
        LongColumn count = LongColumn.create("count");
        LongColumn tokens = LongColumn.create("n_tokens");
        DoubleColumn sum = DoubleColumn.create("sum");
        DoubleColumn sumSq = DoubleColumn.create("sumsq");
        StringColumn sumExact = StringColumn.create("sum_exact");
        StringColumn sumSqExact = StringColumn.create("sumsq_exact");
        List<Key> keys = new ArrayList<>(accumulators.keySet());
        Collections.sort(keys);
        for (Key k : keys) {
            ChannelAccumulator a = accumulators.get(k);
            for (int s = 0; s < a.streams().size(); s++) {
                for (int u = 0; u < a.units(); u++) {
                    run.append(runId);
                    layer.append(k.layer());
                    site.append(k.site().name());
                    quantity.append(k.quantity());
                    unit.append(u);
                    seqAgg.append(a.streams().get(s));
                    count.append(a.count());
                    tokens.append(a.tokens());
                    sum.append(a.sum(s, u));
                    sumSq.append(a.sumSq(s, u));
                    sumExact.append(a.exactSum(s, u).toString());
                    sumSqExact.append(a.exactSumSq(s, u).toString());
                }
            }
        }
        assert layer.size() == rows;
        return Table.create("accumulators", run, layer, site, quantity, unit, seqAgg, count, tokens, sum, sumSq,
                sumExact, sumSqExact);
    }

    /** Rebuilds the statistics from {@link #toTable} output (exactly, from the *_exact columns). */
    public static ActivationStats fromTable(Table t, String where) {
        for (String c : COLUMNS) {
            if (!t.columnNames().contains(c)) {
                throw new IllegalArgumentException(where + ": not an accumulators table (missing column '" + c + "')");
            }
        }
        record Cell(int stream, int unit, BigInteger sum, BigInteger sumSq) {}
        Map<Key, List<String>> streams = new LinkedHashMap<>();
        Map<Key, Integer> units = new LinkedHashMap<>();
        Map<Key, long[]> counts = new LinkedHashMap<>();
        Map<Key, List<Cell>> cells = new LinkedHashMap<>();
        IntColumn layer = t.intColumn("layer");
        StringColumn site = t.stringColumn("site");
        StringColumn quantity = t.stringColumn("quantity");
        IntColumn unit = t.intColumn("unit");
        StringColumn seqAgg = t.stringColumn("seq_agg");
        LongColumn count = t.longColumn("count");
        LongColumn tokens = t.longColumn("n_tokens");
        StringColumn sumExact = t.stringColumn("sum_exact");
        StringColumn sumSqExact = t.stringColumn("sumsq_exact");
        for (int r = 0; r < t.rowCount(); r++) {
            Site s;
            try {
                s = Site.valueOf(site.get(r));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": row " + r + " has unknown site '" + site.get(r) + "'");
            }
            Key k = new Key(s, layer.getInt(r), quantity.get(r));
            List<String> ss = streams.computeIfAbsent(k, x -> new ArrayList<>());
            String stream = seqAgg.get(r);
            int si = ss.indexOf(stream);
            if (si < 0) {
                ss.add(stream);
                si = ss.size() - 1;
            }
            units.merge(k, unit.getInt(r) + 1, Math::max);
            counts.put(k, new long[] {count.getLong(r), tokens.getLong(r)});
            try {
                cells.computeIfAbsent(k, x -> new ArrayList<>()).add(new Cell(si, unit.getInt(r),
                        new BigInteger(sumExact.get(r)), new BigInteger(sumSqExact.get(r))));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(where + ": row " + r + " has a malformed exact sum");
            }
        }
        ActivationStats out = new ActivationStats();
        for (Key k : streams.keySet()) {
            ChannelAccumulator a = out.getOrCreate(k, units.get(k), streams.get(k));
            for (Cell c : cells.get(k)) {
                a.setExact(c.stream(), c.unit(), c.sum(), c.sumSq());
            }
            long[] n = counts.get(k);
            a.setCounts(n[0], n[1]);
        }
        return out;
    }

    /** Writes {@code accumulators.arrow}-style files atomically. */
    public void write(Path file, String runId, Map<String, String> metadata) {
        ArrowIo.write(toTable(runId), file, metadata);
    }

    public static ActivationStats read(Path file) {
        return fromTable(ArrowIo.read(file), file.toString());
    }

    @Override
    public String toString() {
        return "ActivationStats[" + accumulators.size() + " accumulators]";
    }
}
