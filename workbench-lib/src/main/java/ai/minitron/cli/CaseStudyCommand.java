package ai.minitron.cli;

import ai.minitron.io.OutputDir;
import ai.minitron.io.OutputLock;
import ai.minitron.io.TensorDType;
import ai.minitron.io.gguf.GgufFile;
import ai.minitron.model.GgufConversion;
import ai.minitron.reproduce.CaseStudy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import tech.tablesaw.api.Table;

/**
 * {@code minitron case-study}: the whole recipe on a real pretrained model, each step resuming (see
 * {@link CaseStudy}); {@code --gguf} converts a llama.cpp file to an F32 teacher in OUT/teacher first.
 */
@Command(name = "case-study", description = "The Minitron recipe end to end on a real model: importance, width and depth"
        + " students at the same size, distillation, a from-scratch baseline, evaluation, generation, export"
        + " (resumes into the same --out).")
final class CaseStudyCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Teacher checkpoint (Hugging Face layout).")
    Path model;

    @Option(names = "--gguf", description = "A GGUF file to convert to an F32 teacher in OUT/teacher first (instead of --model).")
    Path gguf;

    @Option(names = "--out", required = true, description = "Output directory (see README, Case study).")
    Path out;

    @Option(names = "--budget", defaultValue = "full", description = "full (the README's run) or test (tiny; numbers mean nothing).")
    String budget;

    @Option(names = "--seed", defaultValue = "1234", description = "Seed of data order, calibration and validation rows, initialisation (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--corpus", defaultValue = "data/corpus", description = "Corpus with train, validation and test splits (default ${DEFAULT-VALUE}).")
    Path corpus;

    @Option(names = "--tasks", defaultValue = "data/tasks", description = "Directory of the downstream tasks (default ${DEFAULT-VALUE}).")
    Path tasks;

    @Mixin
    OutputOptions output;

    @Override
    public Integer call() throws Exception {
        if ((model == null) == (gguf == null)) {
            throw new IllegalArgumentException("give the teacher as --model DIR or as --gguf FILE (one of them)");
        }
        CaseStudy.Budget b = switch (budget) {
            case "full" -> CaseStudy.Budget.full();
            case "test" -> CaseStudy.Budget.test();
            default -> throw new IllegalArgumentException("--budget must be full or test, got '" + budget + "'");
        };
        Table results;
        try (OutputLock lock = output.lockAndOpen(out, OutputKind.CASE_STUDY, null)) {
            Path teacher = model != null ? model : convert(gguf, out.resolve("teacher"));
            try (ProgressBars bars = new ProgressBars();
                    CaseStudy cs = CaseStudy.open(teacher, corpus, tasks, out, b, seed, bars::update)) {
                results = cs.runAll();
                bars.close();
                for (CaseStudy.StepCost c : cs.costs()) {
                    System.err.printf("step %-28s %7.1f min  peak resident %,6d MB%s%n", c.step(), c.seconds() / 60,
                            c.peakRssMb(), c.reused() ? "  (earlier run, reused)" : "");
                }
            }
            OutputDir.complete(out, OutputKind.CASE_STUDY.key, null);
        }
        System.out.println(Files.readString(out.resolve("results.md")));
        System.out.println("results written to " + out.resolve("results.arrow") + " and " + out.resolve("results.md")
                + "; report in " + out.resolve("report") + "; best student in " + out.resolve("best"));
        return results.rowCount() > 0 ? 0 : 1;
    }

    /** Converts once (a finished conversion is reused). */
    private static Path convert(Path file, Path dir) throws Exception {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--gguf: file not found: " + file);
        }
        if (Files.isRegularFile(dir.resolve("config.json")) && Files.isRegularFile(dir.resolve("model.safetensors"))) {
            System.err.println("teacher: " + dir + " (converted earlier, reused)");
            return dir; // what GgufConversion.convertOnce would reuse, without opening the GGUF for a progress bar
        }
        long steps;
        try (GgufFile g = GgufFile.open(file)) {
            steps = GgufConversion.steps(g);
        }
        try (ProgressBar pb = ProgressBars.open("convert", steps, " steps")) {
            return GgufConversion.convertOnce(file, dir, TensorDType.F32, pb::stepTo);
        }
    }
}
