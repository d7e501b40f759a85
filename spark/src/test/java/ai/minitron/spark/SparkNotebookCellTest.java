package ai.minitron.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.minitron.cluster.ModelRef;
import ai.minitron.data.CalibrationSet;
import ai.minitron.importance.Aggregation;
import ai.minitron.importance.ImportanceEstimator;
import ai.minitron.importance.Metric;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Provenance;
import java.nio.file.Path;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.Table;

/** The README's notebook cell ("Past one machine"), as written there: a local SparkSession doing the importance pass. */
class SparkNotebookCellTest {
    @Test
    void readmeNotebookCell() {
        // ---- the cell (only the sample count is smaller) ----
        var teacher = Path.of("data/teacher");
        var lm = LanguageModel.load(teacher, NDManager.newBaseManager());
        var tok = lm.openTokenizer(null);
        var cal = CalibrationSet.fromSplit(Path.of("data/corpus/validation.txt"), tok, 16, 128, 1234,
                lm.config().maxPositionEmbeddings());
        Table top;
        try (var spark = SparkCluster.open("local[2]", 4)) {   // a local SparkSession (spark.session()), 4 partitions
            var result = ImportanceEstimator.run(lm.config(), lm.weights(), cal,
                    ImportanceEstimator.Options.defaults().withMetrics(EnumSet.of(Metric.ACTIVATION, Metric.BLOCK_IMPORTANCE)),
                    teacher, null, spark.activationPass(ModelRef.of(teacher, Provenance.checkpointHash(teacher))));
            top = result.table().where("activation", Aggregation.L2, Aggregation.MEAN).byLayer("mlp").top(5);
            assertEquals("local[2]", spark.session().sparkContext().master());
        }
        // ----
        assertTrue(top.rowCount() > 0, top.print());
        tok.close();
        lm.close();
    }
}
