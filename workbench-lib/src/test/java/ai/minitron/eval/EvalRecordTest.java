package ai.minitron.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class EvalRecordTest {
    @Test
    void ofFindsAMetricAmongATasksRecordsAndNamesTheOnesThereAreOtherwise() {
        EvalRecord acc = new EvalRecord("mc", "acc", 0.5, 0.1, 10, "lm-eval", "test");
        EvalRecord norm = new EvalRecord("mc", "acc_norm", 0.6, 0.1, 10, "lm-eval", "test");
        List<EvalRecord> records = List.of(acc, norm);
        assertSame(norm, EvalRecord.of(records, "acc_norm"));
        assertEquals(0.5, EvalRecord.of(records, "acc").value());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EvalRecord.of(records, "exact_match"));
        assertTrue(e.getMessage().contains("exact_match") && e.getMessage().contains("[acc, acc_norm]"), e.getMessage());
    }
}
