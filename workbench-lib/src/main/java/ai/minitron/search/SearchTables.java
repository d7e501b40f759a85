package ai.minitron.search;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The two tables of an {@link ArchitectureSearch}, built from its scores and read back on resume.
 *
 * <p>{@code candidates}: one row per candidate — candidate, hidden_size, num_attention_heads,
 * num_key_value_heads, heads_per_group, intermediate_size, num_hidden_layers, params, params_fraction,
 * val_loss, kl_to_teacher (NaN until scored) and, once all are ranked, zero_shot_rank (1 = best).
 *
 * <p>{@code retrain}: one row per (top-K candidate, stage) — candidate, stage (0 = zero-shot), tokens,
 * val_loss, kl_to_teacher, rank (Integer.MIN_VALUE, i.e. missing, until the stage is ranked).
 *
 * <p>Scores are {val_loss, kl} pairs keyed by candidate id; the retraining log maps a candidate id to
 * stage (1..S) to such a pair.
 */
final class SearchTables {
    private SearchTables() {}

    static Table candidates(List<Candidate> cands, Map<String, double[]> scores, long parentParams) {
        StringColumn id = StringColumn.create("candidate");
        IntColumn h = IntColumn.create("hidden_size");
        IntColumn a = IntColumn.create("num_attention_heads");
        IntColumn kv = IntColumn.create("num_key_value_heads");
        IntColumn q = IntColumn.create("heads_per_group");
        IntColumn m = IntColumn.create("intermediate_size");
        IntColumn l = IntColumn.create("num_hidden_layers");
        LongColumn p = LongColumn.create("params");
        DoubleColumn frac = DoubleColumn.create("params_fraction");
        DoubleColumn loss = DoubleColumn.create("val_loss");
        DoubleColumn kl = DoubleColumn.create("kl_to_teacher");
        for (Candidate c : cands) {
            id.append(c.id());
            h.append(c.hiddenSize());
            a.append(c.numAttentionHeads());
            kv.append(c.kvGroups());
            q.append(c.headsPerGroup());
            m.append(c.mlpSize());
            l.append(c.numLayers());
            p.append(c.params());
            frac.append((double) c.params() / parentParams);
            double[] v = scores.get(c.id());
            loss.append(v == null ? Double.NaN : v[0]);
            kl.append(v == null ? Double.NaN : v[1]);
        }
        return Table.create("candidates", id, h, a, kv, q, m, l, p, frac, loss, kl);
    }

    /** Adds the zero_shot_rank column (1 = best). */
    static Table withRanks(Table t, List<Candidate> ranked) {
        Map<String, Integer> r = new LinkedHashMap<>();
        for (int i = 0; i < ranked.size(); i++) {
            r.put(ranked.get(i).id(), i + 1);
        }
        IntColumn col = IntColumn.create("zero_shot_rank");
        for (String id : t.stringColumn("candidate")) {
            col.append(r.get(id));
        }
        return t.addColumns(col);
    }

    /** The scored candidates of a candidates table (rows whose val_loss is not NaN). */
    static Map<String, double[]> scores(Table t) {
        Map<String, double[]> done = new LinkedHashMap<>();
        for (int i = 0; i < t.rowCount(); i++) {
            double loss = t.doubleColumn("val_loss").getDouble(i);
            if (!Double.isNaN(loss)) {
                done.put(t.stringColumn("candidate").get(i), new double[] {loss, t.doubleColumn("kl_to_teacher").getDouble(i)});
            }
        }
        return done;
    }

    /** A retraining table without rows. */
    static Table emptyRetraining() {
        return retraining(List.of());
    }

    /**
     * The retraining table of the top K: stage 0 from the zero-shot scores, stages 1..{@code stages} from
     * the log (a stage not reached yet has no row); ranks from {@code rankings} where a stage is ranked.
     */
    static Table retraining(List<Candidate> top, Map<String, double[]> zero, Map<String, Map<Integer, double[]>> log,
            List<SearchResult.Ranking> rankings, int stages, long tokensPerStage) {
        List<Object[]> rows = new ArrayList<>();
        for (Candidate c : top) {
            for (int s = 0; s <= stages; s++) {
                double[] v = s == 0 ? zero.get(c.id()) : log.getOrDefault(c.id(), Map.of()).get(s);
                if (v == null) {
                    continue;
                }
                int rank = Integer.MIN_VALUE; // missing until the stage is ranked
                if (s < rankings.size()) {
                    List<String> ids = rankings.get(s).ids();
                    rank = s == 0 ? rankAmong(top, ids, c.id()) : ids.indexOf(c.id()) + 1;
                }
                rows.add(new Object[] {c.id(), s, s * tokensPerStage, v[0], v[1], rank});
            }
        }
        return retraining(rows);
    }

    /** The retraining log of a retraining table: candidate id -> stage (1..S) -> {val_loss, kl}. */
    static Map<String, Map<Integer, double[]>> log(Table t) {
        Map<String, Map<Integer, double[]>> log = new LinkedHashMap<>();
        for (int i = 0; i < t.rowCount(); i++) {
            int s = t.intColumn("stage").getInt(i);
            if (s > 0) {
                log.computeIfAbsent(t.stringColumn("candidate").get(i), x -> new LinkedHashMap<>()).put(s, new double[] {
                        t.doubleColumn("val_loss").getDouble(i), t.doubleColumn("kl_to_teacher").getDouble(i)});
            }
        }
        return log;
    }

    private static Table retraining(List<Object[]> rows) {
        Table t = Table.create("retrain", StringColumn.create("candidate"), IntColumn.create("stage"),
                LongColumn.create("tokens"), DoubleColumn.create("val_loss"), DoubleColumn.create("kl_to_teacher"),
                IntColumn.create("rank"));
        for (Object[] r : rows) {
            t.stringColumn(0).append((String) r[0]);
            t.intColumn(1).append((Integer) r[1]);
            t.longColumn(2).append((Long) r[2]);
            t.doubleColumn(3).append((Double) r[3]);
            t.doubleColumn(4).append((Double) r[4]);
            t.intColumn(5).append((Integer) r[5]);
        }
        return t;
    }

    /** 1-based rank of {@code id} among the top-K in an ordering of all candidates. */
    private static int rankAmong(List<Candidate> top, List<String> ordered, String id) {
        Set<String> k = new HashSet<>();
        top.forEach(c -> k.add(c.id()));
        int r = 0;
        for (String x : ordered) {
            if (k.contains(x)) {
                r++;
                if (x.equals(id)) {
                    return r;
                }
            }
        }
        return Integer.MIN_VALUE;
    }
}
