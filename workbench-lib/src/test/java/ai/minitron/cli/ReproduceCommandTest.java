package ai.minitron.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.reproduce.ComputeBudget;
import ai.minitron.reproduce.Experiment;
import ai.minitron.reproduce.Findings;
import ai.minitron.reproduce.Lab;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/**
 * {@code minitron reproduce --quick} end to end on the embedded teacher: every experiment produces its
 * rows, the Arrow tables read back, findings.md has one line per experiment, run.json records the seed and
 * budget, and a second invocation into the same --out reuses every finished experiment. The findings
 * themselves are not asserted (the quick budget is far too small to test them).
 */
class ReproduceCommandTest {
    static final Path TEACHER = Path.of("../data/teacher");
    static final Path CORPUS = Path.of("../data/corpus");

    @TempDir
    Path tmp;

    @Test
    void quickRunProducesEveryExperimentAndResumes() throws Exception {
        Path out = tmp.resolve("repro");
        CliRun r = CliRun.of("reproduce", "--quick", "--out", out.toString(), "--teacher", TEACHER.toString(),
                "--corpus", CORPUS.toString(), "--seed", "7");
        assertEquals(0, r.code(), r.err());

        Table findings = Findings.load(out);
        assertEquals(List.of("experiment", "finding", "paper_claim", "setting", "metric", "value", "holds", "verdict"),
                findings.columnNames());
        Set<Integer> seen = new TreeSet<>(findings.intColumn("experiment").asList());
        assertEquals(Set.of(1, 2, 3, 4, 5, 6, 7, 8, 9), seen);
        for (int i = 0; i < findings.rowCount(); i++) {
            double v = findings.doubleColumn("value").get(i);
            assertFalse(Double.isNaN(v), "row " + i + " (" + findings.row(i) + ") has no value");
        }
        // Experiment 1 measures all 9 aggregations; every experiment has a detail table.
        assertEquals(9, Findings.detail(out, 1).rowCount());
        for (Experiment e : Findings.all()) {
            assertTrue(Findings.detail(out, e.number()).rowCount() > 0, "detail table of experiment " + e.number());
        }

        List<String> md = Files.readAllLines(out.resolve(Findings.MARKDOWN_FILE));
        for (int n = 1; n <= 9; n++) {
            String prefix = "| " + n + " |";
            assertEquals(1, md.stream().filter(l -> l.startsWith(prefix)).count(), "one line for experiment " + n);
        }
        assertTrue(md.get(0).contains("--quick") && md.get(0).contains("seed 7"), md.get(0));

        JsonObject run = JsonParser.parseString(Files.readString(out.resolve(Findings.RUN_FILE))).getAsJsonObject();
        assertEquals(7, run.get("seed").getAsLong());
        assertEquals("quick", run.getAsJsonObject("budget").get("name").getAsString());
        assertEquals(9, run.getAsJsonObject("experiment_seconds").size());
        double teacherLoss = run.get("teacher_val_loss").getAsDouble();
        assertTrue(teacherLoss > 0 && teacherLoss < Math.log(8192), "teacher loss " + teacherLoss + " beats uniform");

        // Resume: the same --out reuses every experiment (none starts again) and gives the same table.
        List<Integer> started = new ArrayList<>();
        List<Boolean> reused = new ArrayList<>();
        try (Lab lab = Lab.open(TEACHER, CORPUS, out, ComputeBudget.quick(), 7, null)) {
            Findings.run(lab, Findings.parseOnly(null), "test resume", new Findings.Listener() {
                @Override
                public void started(Experiment e) {
                    started.add(e.number());
                }

                @Override
                public void finished(Experiment e, Findings.Summary s, boolean wasReused) {
                    reused.add(wasReused);
                }
            });
            // Another seed into the same directory is refused, naming it.
            try (Lab other = Lab.open(TEACHER, CORPUS, out, ComputeBudget.quick(), 8, null)) {
                IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                        () -> Findings.run(other, Set.of(1), "x", null));
                assertTrue(ex.getMessage().contains(out.toString()) && ex.getMessage().contains("seed 7"), ex.getMessage());
            }
        }
        assertEquals(List.of(), started);
        assertEquals(9, reused.size());
        assertTrue(reused.stream().allMatch(b -> b));
        assertEquals(findings.rowCount(), Findings.load(out).rowCount());
    }

    /**
     * {@code --zero-shot --quick}: only the five forward-only findings, each with a paired bootstrap interval
     * and a verdict of the three computed values (holds iff the verdict says so); experiments that need
     * retraining are refused by name, and another teacher is refused in the same --out.
     */
    @Test
    void zeroShotRunHasIntervalsAndThreeValuedVerdicts() throws Exception {
        Path out = tmp.resolve("zs");
        CliRun r = CliRun.of("reproduce", "--zero-shot", "--quick", "--out", out.toString(), "--model",
                TEACHER.toString(), "--corpus", CORPUS.toString(), "--seed", "3");
        assertEquals(0, r.code(), r.err());
        List<Findings.Summary> all = Findings.summaries(out);
        assertEquals(List.of(1, 2, 5, 8, 9), all.stream().map(Findings.Summary::number).toList());
        assertTrue(ai.minitron.io.OutputDir.readMarker(out).get("complete").getAsBoolean(), "finished run marked complete");
        assertTrue(ai.minitron.io.OutputDir.verify(out), "the marker's hashes match the files");
        for (Findings.Summary s : all) {
            assertTrue(List.of("holds", "fails", "inconclusive").contains(s.verdict()), s.toString());
            assertEquals(s.verdict().equals("holds"), s.holds(), s.toString());
            assertTrue(s.diffLo() <= s.diffMean() && s.diffMean() <= s.diffHi(), s.toString());
            assertTrue(s.rule().contains("95% interval"), s.rule());
        }
        Table baselines = Findings.detail(out, 2);
        assertEquals(List.of("activation", "magnitude", "wanda", "taylor", "random"),
                baselines.stringColumn("metric").asList());
        String md = Files.readString(out.resolve(Findings.MARKDOWN_FILE));
        assertTrue(md.contains("paired bootstrap") && md.contains("d [95% interval]"), md);

        CliRun bad = CliRun.of("reproduce", "--zero-shot", "--quick", "--out", tmp.resolve("zs2").toString(), "--only",
                "3", "--model", TEACHER.toString(), "--corpus", CORPUS.toString());
        assertNotEquals(0, bad.code());
        assertTrue(bad.err().contains("experiment 3 needs retraining"), bad.err());

        // another teacher (a copy with one weight changed) into the same --out is refused, naming both
        Path other = tmp.resolve("other-teacher");
        Files.createDirectories(other);
        try (var files = Files.list(TEACHER)) {
            for (Path f : files.toList()) {
                Files.copy(f, other.resolve(f.getFileName()));
            }
        }
        Files.writeString(other.resolve("config.json"), Files.readString(other.resolve("config.json")) + " ");
        CliRun mixed = CliRun.of("reproduce", "--zero-shot", "--quick", "--out", out.toString(), "--model",
                other.toString(), "--corpus", CORPUS.toString(), "--seed", "3");
        assertNotEquals(0, mixed.code());
        assertTrue(mixed.err().contains("another teacher") && mixed.err().contains(other.toString()), mixed.err());
    }

    @Test
    void badOptionsAreNamed() {
        CliRun r = CliRun.of("reproduce", "--quick", "--out", tmp.resolve("x").toString(), "--only", "1,12",
                "--teacher", TEACHER.toString(), "--corpus", CORPUS.toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("--only") && r.err().contains("12"), r.err());
        CliRun c = CliRun.of("reproduce", "--quick", "--out", tmp.resolve("y").toString(), "--teacher",
                TEACHER.toString(), "--corpus", tmp.resolve("nowhere").toString());
        assertNotEquals(0, c.code());
        assertTrue(c.err().contains("nowhere") && c.err().contains("train.txt"), c.err());
    }
}
