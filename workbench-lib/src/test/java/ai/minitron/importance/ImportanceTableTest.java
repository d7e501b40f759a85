package ai.minitron.importance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.config.Axis;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/** The long table: build, write, load, and the fluent views a notebook and the pruner use. */
class ImportanceTableTest {

    static ImportanceTable toy() {
        double[][] heads = {{0.1, 0.9, 0.5}, {0.7, 0.2, 0.3}};
        double[][] mlp = {{1, 5, 3, 2}, {4, 4, 0, 9}};
        return new ImportanceTable.Builder("run-1")
                .add(new AxisScores(new double[] {3, 1, 2}, heads, mlp, null), "activation", "l2", "mean", 8, 800)
                .add(new AxisScores(new double[] {1, 2, 3}, null, new double[][] {{4, 3, 2, 1}, {1, 2, 3, 4}},
                        new double[] {0.5, 0.25}), "magnitude", "none", "none", 0, 0)
                .add(Axis.LAYERS, -1, "block_importance", "none", "none", new double[] {0.2, 0.6}, 8, 800)
                .build(null);
    }

    @Test
    void viewsRankingsAndMatrices(@TempDir Path tmp) {
        ImportanceTable t = toy();
        t.write(tmp.resolve(ImportanceTable.FILE));
        ImportanceTable back = ImportanceTable.load(tmp);
        assertEquals(t.table().rowCount(), back.table().rowCount());
        assertEquals("run-1", back.runId());
        assertEquals(List.of("activation", "magnitude", "block_importance"), back.metrics());

        ImportanceTable.View v = back.where("activation", Aggregation.L2, Aggregation.MEAN);
        assertArrayEquals(new int[] {3, 0, 1, 2}, v.ranking("mlp", 1), "descending, ties by unit index");
        assertArrayEquals(new int[] {1, 2, 0}, v.ranking("heads", 0));
        assertArrayEquals(new int[] {0, 2, 1}, back.ranking("hidden", -1), "default view: activation l2/mean");
        assertArrayEquals(new int[] {1, 0}, back.ranking("layers", -1), "default layer metric: block importance");
        assertArrayEquals(new double[][] {{0.1, 0.9, 0.5}, {0.7, 0.2, 0.3}}, v.matrix("heads"));
        assertArrayEquals(new double[] {3, 1, 2}, v.hidden());
        assertArrayEquals(new double[] {0.5, 0.25}, back.where("magnitude").layers());

        Table top = v.byLayer("mlp").top(2);
        assertEquals(4, top.rowCount());
        assertEquals(List.of(1, 2, 3, 0), top.intColumn("unit").asList());
        assertEquals(List.of(0, 0, 1, 1), top.intColumn("layer").asList());
        Table bottom = v.byLayer("mlp").bottom(1);
        assertEquals(List.of(0, 2), bottom.intColumn("unit").asList());
        assertEquals(8, v.byLayer("mlp").table().rowCount());
        assertEquals(t.table().rowCount(), v.table().rowCount() + back.where("magnitude").table().rowCount()
                + back.where("block_importance").table().rowCount());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> back.where("activation", "mean", "var"));
        assertTrue(e.getMessage().contains("activation(mean,var)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> v.scores("layer", -1));
        assertTrue(e.getMessage().contains("axis layer"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ImportanceTable.load(tmp.resolve("nowhere")));
    }

    @Test
    void agreementTableComparesEverySpecPair() {
        Table a = Comparisons.agreement(toy(), 0.5);
        // hidden: activation vs magnitude; mlp layers 0 and 1; layer: magnitude vs block importance
        assertEquals(4, a.rowCount());
        Table hidden = a.where(a.stringColumn("axis").isEqualTo("hidden"));
        assertEquals(-0.5, hidden.doubleColumn("spearman").get(0), 1e-12);
        Table layer = a.where(a.stringColumn("axis").isEqualTo("layer"));
        assertEquals(-1.0, layer.doubleColumn("kendall_tau_b").get(0), 1e-12);
    }
}
