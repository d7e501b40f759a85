package ai.minitron.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.stats.ArrowIo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/** The card: every number with its protocol, results accumulate, the user's README text survives. */
class ModelCardTest {
    @TempDir
    Path dir;

    static final EvalRecord PPL = new EvalRecord("test.txt", "perplexity", 42.5, Double.NaN, 1000, "token-level, windows of 256", "data/corpus/test.txt");
    static final EvalRecord ACC = new EvalRecord("moby_continuation", "acc", 0.5, 0.025, 400, "multiple choice by log-likelihood", "t.jsonl");

    @Test
    void writesTheTableTheJsonAndTheArrowFile() throws Exception {
        ModelCard.update(dir, List.of(PPL));
        ModelCard.update(dir, List.of(ACC));
        EvalRecord newer = new EvalRecord("test.txt", "perplexity", 40.0, Double.NaN, 1000, PPL.protocol(), PPL.source());
        EvalRecord otherProtocol = new EvalRecord("test.txt", "perplexity", 38.0, Double.NaN, 1000, "sliding, stride 128", PPL.source());
        List<EvalRecord> all = ModelCard.update(dir, List.of(newer, otherProtocol));
        assertEquals(List.of(ACC, newer, otherProtocol), all, "same task+metric+protocol replaced, others kept");
        assertEquals(all, ModelCard.readResults(dir));

        String readme = Files.readString(dir.resolve("README.md"));
        assertTrue(readme.contains("| test.txt | perplexity | 40.0000 |  | 1,000 | data/corpus/test.txt | token-level, windows of 256 |"), readme);
        assertTrue(readme.contains("| moby_continuation | acc | 0.5000 | 0.0250 | 400 |"), readme);
        assertFalse(readme.contains("42.5"), readme);

        Table t = ArrowIo.read(dir.resolve(ModelCard.RESULTS_ARROW));
        assertEquals(3, t.rowCount());
        assertEquals("moby_continuation", t.stringColumn("task").get(0));
        assertEquals(0.025, t.doubleColumn("stderr").get(0), 0);
        assertEquals(38.0, t.doubleColumn("value").get(2), 0);
    }

    @Test
    void keepsTheRestOfAnExistingReadme() throws Exception {
        Files.writeString(dir.resolve("README.md"), "# My model\n\nTrained on whales.\n");
        ModelCard.update(dir, List.of(PPL));
        String once = Files.readString(dir.resolve("README.md"));
        assertTrue(once.startsWith("# My model\n\nTrained on whales.\n\n" + ModelCard.BEGIN), once);
        Files.writeString(dir.resolve("README.md"), once + "\nLicence: public domain.\n");
        ModelCard.update(dir, List.of(ACC));
        String twice = Files.readString(dir.resolve("README.md"));
        assertTrue(twice.startsWith("# My model\n\nTrained on whales.\n"), twice);
        assertTrue(twice.endsWith(ModelCard.END + "\n\nLicence: public domain.\n"), twice);
        assertEquals(1, twice.split(ModelCard.BEGIN, -1).length - 1, "one section");
        assertTrue(twice.contains("| moby_continuation | acc |") && twice.contains("| test.txt | perplexity |"), twice);
    }
}
