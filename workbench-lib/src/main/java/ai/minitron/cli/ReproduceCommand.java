package ai.minitron.cli;

import ai.minitron.io.OutputDir;
import ai.minitron.reproduce.ComputeBudget;
import ai.minitron.reproduce.Experiment;
import ai.minitron.reproduce.Findings;
import ai.minitron.reproduce.Lab;
import ai.minitron.io.OutputLock;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code minitron reproduce}: the Minitron papers' findings in miniature on the embedded teacher. */
@Command(name = "reproduce", description = "Reproduce nine findings of the Minitron papers in miniature (resumes into the same --out).")
final class ReproduceCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, description = "Output directory: findings.arrow, findings.md, run.json, experiments/, runs/.")
    Path out;

    @Option(names = "--quick", description = "Tiny budgets: checks the pipeline end to end in a few minutes (numbers mean nothing).")
    boolean quick;

    @Option(names = "--only", description = "Experiments to run, e.g. 1,3,5 (default: all nine).")
    String only;

    @Option(names = "--seed", defaultValue = "1234", description = "Seed of data order, calibration, validation rows, random baseline and initialisation; seed i of --seeds derives from it (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--scale", defaultValue = "1", description = "Multiply the full run's token budgets (default ${DEFAULT-VALUE}).")
    int scale;

    @Option(names = "--seeds", description = "Seeds per arm; each verdict rests on the t interval over them (default "
            + ComputeBudget.DEFAULT_SEEDS + "; seed i derives from --seed).")
    Integer seeds;

    @Option(names = "--zero-shot", description = "Only the findings that need no retraining (1, 2, 5, 8, 9), each with a"
            + " paired bootstrap interval over validation windows and a three-valued verdict; for real models (--model).")
    boolean zeroShot;

    @Option(names = {"--teacher", "--model"}, defaultValue = "data/teacher", description = "Teacher checkpoint, e.g. a converted SmolLM2-135M (default ${DEFAULT-VALUE}).")
    Path teacher;

    @Mixin
    OutputOptions output;

    @Option(names = "--corpus", defaultValue = "data/corpus", description = "Corpus directory with train.txt and validation.txt (default ${DEFAULT-VALUE}).")
    Path corpus;

    @Override
    public Integer call() {
        Set<Integer> selected = zeroShot ? Findings.parseOnlyZeroShot(only) : Findings.parseOnly(only);
        ComputeBudget budget = zeroShot ? (quick ? ComputeBudget.zeroShotQuick() : ComputeBudget.zeroShotFindings())
                : quick ? ComputeBudget.quick() : ComputeBudget.full().scaled(scale);
        if (zeroShot && scale != 1) {
            throw new IllegalArgumentException("--scale multiplies retraining budgets; --zero-shot has none");
        }
        if (seeds != null) {
            if (zeroShot) {
                throw new IllegalArgumentException("--seeds: --zero-shot decides on a bootstrap over validation windows"
                        + " with one seed");
            }
            budget = budget.withSeeds(seeds);
        }
        String command = "minitron reproduce --out " + out + (zeroShot ? " --zero-shot" : "")
                + (teacher.equals(Path.of("data/teacher")) ? "" : " --model " + teacher) + (quick ? " --quick" : "")
                + (scale != 1 ? " --scale " + scale : "") + (only != null ? " --only " + only : "") + " --seed " + seed
                + (seeds != null ? " --seeds " + seeds : "");
        List<Findings.Summary> done;
        try (OutputLock lock = output.lockAndOpen(out, OutputKind.REPRODUCE, null); ProgressBars bars = new ProgressBars();
                Lab lab = Lab.open(teacher, corpus, out, budget, seed, bars::update)) {
            done = Findings.run(lab, selected, command, new Findings.Listener() {
                @Override
                public void started(Experiment e) {
                    bars.close();
                    System.err.printf("experiment %d: %s%n", e.number(), e.finding());
                }

                @Override
                public void finished(Experiment e, Findings.Summary s, boolean reused) {
                    bars.close();
                    System.err.printf("experiment %d %s (%.0f s): %s -> %s%n", e.number(),
                            reused ? "reused" : "done", s.seconds(), s.measurement(), s.verdictLabel());
                }
            });
            OutputDir.complete(out, OutputKind.REPRODUCE.key, null);
        }
        System.out.printf("%-3s %-44s %-13s %-32s %-7s %s%n", "#", "finding", "verdict", "d [95% interval]", "seeds",
                "measurement");
        for (Findings.Summary s : done) {
            System.out.printf("%-3d %-44s %-13s %-32s %-7s %s%n", s.number(), s.finding(), s.verdictLabel(),
                    Findings.interval(s), s.seeds() == null ? "-" : s.seeds(), s.measurement());
        }
        System.out.println("findings written to " + out.resolve(Findings.TABLE_FILE) + " and "
                + out.resolve(Findings.MARKDOWN_FILE));
        return 0;
    }
}
