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
 * {@code minitron reproduce --quick} end to end on the embedded teacher: every experiment runs with the
 * budget's seeds and produces its rows, a mean difference with its 95 % interval over the seeds and a
 * three-valued verdict; the Arrow tables read back, findings.md has one line per experiment, run.json
 * records the seeds and budget, a second invocation into the same --out reuses every finished experiment,
 * and an experiment rerun reuses exactly the finished per-seed runs. The findings themselves are not
 * asserted (the quick budget is far too small to test them).
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
        assertEquals(List.of("experiment", "finding", "paper_claim", "setting", "metric", "value", "holds", "verdict",
                "d_mean", "d_lo", "d_hi", "n_seeds"), findings.columnNames());
        int seeds = ComputeBudget.quick().seeds();
        assertTrue(seeds >= 2, "quick budget seeds: " + seeds);
        assertTrue(findings.intColumn("n_seeds").asList().stream().allMatch(n -> n == seeds));
        Set<Integer> seen = new TreeSet<>(findings.intColumn("experiment").asList());
        assertEquals(Set.of(1, 2, 3, 4, 5, 6, 7, 8, 9), seen);
        for (int i = 0; i < findings.rowCount(); i++) {
            double v = findings.doubleColumn("value").get(i);
            assertFalse(Double.isNaN(v), "row " + i + " (" + findings.row(i) + ") has no value");
        }
        // Experiment 1 measures all 9 aggregations per seed; every experiment has a detail table with a seed column.
        Table agg = Findings.detail(out, 1);
        assertEquals(9 * seeds, agg.rowCount());
        assertEquals(List.of("seed", "seed_value", "d"), agg.columnNames().subList(0, 3));
        for (Experiment e : Findings.all()) {
            Table d = Findings.detail(out, e.number());
            assertTrue(d.rowCount() > 0, "detail table of experiment " + e.number());
            assertEquals(Set.copyOf(java.util.stream.IntStream.range(0, seeds).boxed().toList()),
                    Set.copyOf(d.intColumn("seed").asList()), "seeds in the detail of experiment " + e.number());
        }
        // Every finding: a mean difference with its interval over the seeds and a computed three-valued verdict.
        List<Findings.Summary> summaries = Findings.summaries(out);
        assertEquals(9, summaries.size());
        for (Findings.Summary s : summaries) {
            assertEquals(seeds, s.seeds(), s.toString());
            assertTrue(List.of("holds", "fails", "inconclusive").contains(s.verdict()), s.toString());
            assertEquals(s.verdict().equals("holds"), s.holds(), s.toString());
            if (Double.isNaN(s.diffMean())) {
                assertEquals("inconclusive", s.verdict(), "an undefined difference decides nothing: " + s);
            } else {
                assertTrue(s.diffLo() <= s.diffMean() && s.diffMean() <= s.diffHi() && s.diffLo() < s.diffHi(),
                        s.toString());
            }
            assertTrue(s.rule().contains("Student-t interval") && s.rule().contains("95% interval"), s.rule());
            assertTrue(s.measurement().contains("over " + seeds + " seeds"), s.measurement());
        }
        assertTrue(summaries.get(8).rule().contains("no gain") || summaries.get(8).rule().contains("rules out a gain"),
                summaries.get(8).rule());
        for (int i = 0; i < seeds; i++) {
            assertTrue(Files.isRegularFile(out.resolve("seeds/" + i + "/runs/width-activation-fkl/run.json")),
                    "seed " + i + "'s Minitron student run");
        }

        List<String> md = Files.readAllLines(out.resolve(Findings.MARKDOWN_FILE));
        for (int n = 1; n <= 9; n++) {
            String prefix = "| " + n + " |";
            assertEquals(1, md.stream().filter(l -> l.startsWith(prefix)).count(), "one line for experiment " + n);
        }
        assertTrue(md.get(0).contains("--quick") && md.get(0).contains("seed 7"), md.get(0));
        String mdText = String.join("\n", md);
        assertTrue(mdText.contains("Student-t interval") && mdText.contains("d [95% interval] | n | verdict")
                && mdText.contains("| " + seeds + " seeds |"), mdText);
        assertTrue(r.out().contains("d [95% interval]"), r.out());

        JsonObject run = JsonParser.parseString(Files.readString(out.resolve(Findings.RUN_FILE))).getAsJsonObject();
        assertEquals(7, run.get("seed").getAsLong());
        assertEquals(seeds, run.getAsJsonArray("seeds").size());
        assertEquals(7, run.getAsJsonArray("seeds").get(0).getAsLong(), "seed 0 is --seed itself");
        assertEquals(seeds, run.getAsJsonObject("budget").get("seeds").getAsInt());
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
            // So is another number of seeds per arm.
            try (Lab other = Lab.open(TEACHER, CORPUS, out, ComputeBudget.quick().withSeeds(seeds + 1), 7, null)) {
                IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                        () -> Findings.run(other, Set.of(1), "x", null));
                assertTrue(ex.getMessage().contains(seeds + " seed(s) per arm"), ex.getMessage());
            }
            // And a budget of the same name and seeds with other token budgets.
            ComputeBudget q = ComputeBudget.quick();
            ComputeBudget longer = new ComputeBudget(q.name(), q.seqLen(), q.batchSize(), q.calibrationSamples(),
                    q.depthSamples(), q.validationRows(), 2 * q.distillTokens(), q.searchTokens(), q.searchStages(),
                    q.searchTopK(), q.scratchTokens(), q.scratchFactor(), q.iterativeSteps(), q.lr(), q.seeds());
            try (Lab other = Lab.open(TEACHER, CORPUS, out, longer, 7, null)) {
                IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                        () -> Findings.run(other, Set.of(1), "x", null));
                assertTrue(ex.getMessage().contains("another 'quick' budget"), ex.getMessage());
            }
        }
        assertEquals(List.of(), started);
        assertEquals(9, reused.size());
        assertTrue(reused.stream().allMatch(b -> b));
        assertEquals(findings.rowCount(), Findings.load(out).rowCount());

        // Rerunning experiment 7 (its summary deleted, and seed 1's second-step run with it) reuses exactly the
        // finished per-seed runs: the other runs' records (with their wall times) stay byte for byte, only seed 1's
        // deleted run is trained again, and every seed's difference comes out the same.
        Table before = Findings.detail(out, 7);
        Path exp7 = out.resolve("experiments/7-two-step");
        Files.delete(exp7.resolve("summary.json"));
        Path deleted = out.resolve("seeds/1/runs/two-step-small-fkl");
        ai.minitron.io.FileTrees.delete(deleted);
        java.util.Map<Path, String> kept = new java.util.HashMap<>();
        for (int i = 0; i < seeds; i++) {
            for (String key : List.of("width-activation-fkl", "two-step-mid-fkl", "two-step-small-fkl")) {
                Path f = out.resolve("seeds/" + i + "/runs/" + key + "/run.json");
                if (Files.isRegularFile(f)) kept.put(f, Files.readString(f));
            }
        }
        assertEquals(3 * seeds - 1, kept.size());
        started.clear();
        try (Lab lab = Lab.open(TEACHER, CORPUS, out, ComputeBudget.quick(), 7, null)) {
            Findings.run(lab, Set.of(7), "test rerun 7", new Findings.Listener() {
                @Override
                public void started(Experiment e) {
                    started.add(e.number());
                }

                @Override
                public void finished(Experiment e, Findings.Summary s, boolean wasReused) {}
            });
        }
        assertEquals(List.of(7), started);
        for (var e : kept.entrySet()) {
            assertEquals(e.getValue(), Files.readString(e.getKey()), e.getKey() + " was reused, not recomputed");
        }
        assertTrue(Files.isRegularFile(deleted.resolve("run.json")), "the deleted run is trained again");
        Table after = Findings.detail(out, 7);
        assertEquals(before.rowCount(), after.rowCount());
        for (int i = 0; i < before.rowCount(); i++) {
            int seed = before.intColumn("seed").get(i);
            double b = before.doubleColumn("d").get(i);
            double a = after.doubleColumn("d").get(i);
            // seeds 0 and 2 reuse every run: identical; seed 1 retrained one run with the same seed
            assertEquals(b, a, seed == 1 ? 1e-4 : 0.0, "d of seed " + seed);
        }
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
        assertTrue(all.stream().allMatch(s -> s.seeds() == 1), all.toString());
        assertTrue(md.contains(" windows |"), md);

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
