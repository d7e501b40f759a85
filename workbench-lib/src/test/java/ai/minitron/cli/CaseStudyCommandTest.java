package ai.minitron.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.config.HfCompatibility;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.eval.Lineage;
import ai.minitron.reproduce.CaseStudy;
import ai.minitron.stats.ArrowIo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/**
 * {@code minitron case-study --budget test} end to end on the embedded teacher: the six models of the
 * table, width and depth students at the same size in loadable shapes, the results and report files, the
 * exported best student with its lineage, and a second run that reuses every step.
 */
class CaseStudyCommandTest {
    @TempDir
    Path tmp;

    @Test
    void testBudgetRunsEveryStepAndResumes() throws Exception {
        Path out = tmp.resolve("cs");
        CliRun r = CliRun.of("case-study", "--model", "../data/teacher", "--corpus", "../data/corpus", "--tasks",
                "../data/tasks", "--budget", "test", "--out", out.toString(), "--seed", "5");
        assertEquals(0, r.code(), r.err());

        Table t = ArrowIo.read(out.resolve("results.arrow"));
        assertEquals(List.of(CaseStudy.TEACHER, CaseStudy.WIDTH_PRUNED, CaseStudy.DEPTH_PRUNED, CaseStudy.WIDTH_DISTILLED,
                CaseStudy.DEPTH_DISTILLED, CaseStudy.SCRATCH), t.stringColumn("model").asList());
        for (String col : List.of("test bits_per_byte", "test word_perplexity", "moby_lastword acc",
                "moby_continuation acc", "moby_continuation acc_norm")) {
            assertTrue(t.columnNames().contains(col) && t.columnNames().contains(col + " se"), col + " in " + t.columnNames());
            for (int i = 0; i < t.rowCount(); i++) {
                assertTrue(Double.isFinite(t.doubleColumn(col).get(i)), col + " row " + i);
            }
        }

        ModelConfig teacher = ModelConfig.load(Path.of("../data/teacher"));
        ModelConfig width = ModelConfig.load(out.resolve("students/width-pruned"));
        ModelConfig depth = ModelConfig.load(out.resolve("students/depth-pruned"));
        assertEquals(teacher.numHiddenLayers(), width.numHiddenLayers(), "the width student keeps every layer");
        assertEquals(teacher.numHiddenLayers() - teacher.numHiddenLayers() / 2, depth.numHiddenLayers());
        assertEquals(teacher.hiddenSize(), depth.hiddenSize());
        long pw = ParamCount.of(width).total();
        long pd = ParamCount.of(depth).total();
        assertTrue(Math.abs(pw - pd) <= 0.02 * pd, "width " + pw + " vs depth " + pd + " parameters");
        assertTrue(HfCompatibility.loadable(width.architecture(), width.hiddenSize(), width.numAttentionHeads()));
        // the scratch baseline has the width student's shape and the students' token budget
        ModelConfig scratch = ModelConfig.load(out.resolve("runs/width-scratch/model"));
        assertEquals(pw, ParamCount.of(scratch).total());
        assertEquals(t.longColumn("train_tokens").get(3), t.longColumn("train_tokens").get(5));
        assertTrue(t.longColumn("train_tokens").get(3) > 0);

        // the best student: a checkpoint with its card, lineage prune -> distill, and evaluation results
        Path best = out.resolve("best");
        List<Lineage.Step> steps = Lineage.read(best);
        assertEquals(List.of("prune", "distill"), steps.stream().map(Lineage.Step::name).toList());
        String card = Files.readString(best.resolve("README.md"));
        assertTrue(card.contains("bits_per_byte"), card);
        assertTrue(Files.isRegularFile(out.resolve("report/report.md")));
        Table gen = ArrowIo.read(out.resolve("generation.arrow"));
        assertEquals(2, gen.rowCount());
        String md = Files.readString(out.resolve("results.md"));
        assertTrue(md.contains("| width-distilled |") && md.contains("peak resident"), md);
        assertTrue(!md.contains("nul") && !md.contains("NaN"), "every cell a number: " + md);
        assertTrue(r.err().contains("step distill width-pruned"), r.err());
        assertTrue(ai.minitron.io.OutputDir.readMarker(out).get("complete").getAsBoolean(), "finished run marked complete");
        assertTrue(ai.minitron.io.OutputDir.verify(out, "results.arrow", "best/model.safetensors"));

        // Resume: every step is reused, the table is the same
        CliRun again = CliRun.of("case-study", "--model", "../data/teacher", "--corpus", "../data/corpus", "--tasks",
                "../data/tasks", "--budget", "test", "--out", out.toString(), "--seed", "5");
        assertEquals(0, again.code(), again.err());
        for (String step : List.of("importance", "prune", "distill width-pruned", "distill depth-pruned", "scratch",
                "evaluate", "generate", "export")) {
            assertTrue(again.err().lines().anyMatch(l -> l.startsWith("step " + step + " ") && l.endsWith("(earlier run, reused)")),
                    step + " reused:\n" + again.err());
        }
        assertTrue(!again.err().contains("distill width-distilled"), "no distillation ran again:\n" + again.err());
        assertEquals(t.toString(), ArrowIo.read(out.resolve("results.arrow")).toString());
    }

    @Test
    void badOptionsAreNamed() {
        CliRun r = CliRun.of("case-study", "--out", tmp.resolve("x").toString(), "--budget", "test");
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("--model DIR or as --gguf FILE"), r.err());
        CliRun b = CliRun.of("case-study", "--model", "../data/teacher", "--out", tmp.resolve("y").toString(), "--budget", "huge");
        assertNotEquals(0, b.code());
        assertTrue(b.err().contains("--budget must be full or test") && b.err().contains("huge"), b.err());
    }
}
