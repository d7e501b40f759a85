package ai.minitron.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code minitron} command line: one subcommand per capability of the workbench. Library code
 * throws; this layer presents: a failure prints one line naming what is wrong and exits non-zero.
 */
@Command(name = "minitron", mixinStandardHelpOptions = true, version = "minitron-workbench 0.1.0",
        description = "Derive small language models from large ones: importance, pruning, distillation.",
        subcommands = {InfoCommand.class, EvalCommand.class, EvalTasksCommand.class, ForwardCommand.class, TrainCommand.class, DistillCommand.class, ImportanceCommand.class, PruneCommand.class, SearchCommand.class, BenchCommand.class, ConvertCommand.class, GenerateCommand.class, TeacherCacheCommand.class, ReproduceCommand.class, CaseStudyCommand.class, ServeCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        ai.minitron.model.EngineThreads.configure();
        boolean help = args.length == 0 || java.util.Set.of("-h", "--help", "-V", "--version", "help").contains(args[0]);
        if (!help) {
            System.err.println("minitron: engine " + ai.minitron.model.EngineThreads.describe());
        }
        System.exit(run(args));
    }

    /** The arguments of the command being run, for the "commands that made it" in model cards. */
    static volatile java.util.List<String> invocation = java.util.List.of();

    /** Runs the CLI and returns its exit code (tests call this instead of main). */
    public static int run(String... args) {
        invocation = java.util.List.of(args);
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("error: " + oneLine(ex));
            if (System.getenv("MINITRON_DEBUG") != null) {
                ex.printStackTrace(cmd.getErr());
            }
            return 1;
        });
        return cl.execute(args);
    }

    static String oneLine(Throwable ex) {
        String msg = ex.getMessage();
        if (msg == null || msg.isBlank()) {
            msg = ex.getClass().getSimpleName();
        }
        return msg.lines().findFirst().orElse(msg);
    }
}
