package ai.minitron.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --data} and {@code --val}: a training split file and its validation split (a picocli mixin). */
final class SplitOptions {
    @Option(names = "--data", required = true, description = "Training split file (e.g. data/corpus/train.txt).")
    Path data;

    @Option(names = "--val", description = "Validation split file (default: validation.txt beside --data).")
    Path val;

    /** {@code --val}, or validation.txt beside {@code --data}. */
    Path validation() {
        return val != null ? val : data.toAbsolutePath().getParent().resolve("validation.txt");
    }
}
