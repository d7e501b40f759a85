package ai.minitron.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.stats.ArrowIo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

class ReportTest {
    @TempDir
    Path tmp;

    @Test
    void modelsSideBySideWithStandardErrorsAndProtocols() throws Exception {
        Accuracy teacher = new Accuracy(30, 40);
        Report r = new Report()
                .add("teacher", List.of(new EvalRecord("mc", "acc", teacher.value(), teacher.stderr(), 40, "loglik", "mc.jsonl"),
                        new EvalRecord("test.txt", "perplexity", 392.4, Double.NaN, 1000, "token windows of 128", "test.txt")))
                .add("pruned", List.of(new EvalRecord("test.txt", "perplexity", 810.0, Double.NaN, 1000, "token windows of 128", "test.txt")));
        String md = r.markdown();
        assertTrue(md.contains("| task | metric | teacher | pruned | protocol |"), md);
        // 30/40 = 0.75, stderr sqrt(0.75 * 0.25 / 39) = 0.069338...
        assertTrue(md.contains("| mc | acc | 0.7500 ± 0.0693 |  | P1 |"), md);
        assertTrue(md.contains("| test.txt | perplexity | 392.4000 | 810.0000 | P2 |"), md);
        assertTrue(md.contains("- P2: token windows of 128"), md);

        r.write(tmp);
        Table t = ArrowIo.read(tmp.resolve("report.arrow"));
        assertEquals(3, t.rowCount());
        assertEquals(810.0, t.where(t.stringColumn("model").isEqualTo("pruned")).doubleColumn("value").get(0));
        assertTrue(Files.readString(tmp.resolve("report.html")).contains("<td class=\"v\">0.7500 ± 0.0693</td>"));
        assertThrows(IllegalArgumentException.class, () -> r.add(" ", List.of()));
    }
}
