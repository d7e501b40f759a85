package ai.minitron.cli;

import ai.minitron.data.DataException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --data} and {@code --val}: a training split and its validation split (a picocli mixin), and
 * the one resolver every command's split option goes through ({@link #resolve}): a file path, or a
 * split name ({@code train}, {@code validation}, {@code test}) of the corpus directory data/corpus.
 */
final class SplitOptions {
    @Option(names = "--data", required = true, description = "Training split: a corpus file, or a split name (train,"
            + " validation, test) under data/corpus.")
    String data;

    @Option(names = "--val", description = "Validation split: a file or a split name (default: validation.txt beside --data).")
    String val;

    /** The training split file. */
    Path data() {
        return resolve("--data", data);
    }

    /** {@code --val}, or validation.txt beside {@code --data}. */
    Path validation() {
        return val != null ? resolve("--val", val) : data().toAbsolutePath().getParent().resolve("validation.txt");
    }

    /**
     * A split file, or a split name looked up as data/corpus/NAME.txt from the working directory
     * upwards; {@code option} names the option in messages.
     */
    static Path resolve(String option, String value) {
        Path p = Path.of(value);
        if (Files.isRegularFile(p)) {
            return p;
        }
        if (Files.isDirectory(p)) {
            throw new DataException(option + " " + value + ": is a directory; pass a split file (e.g. "
                    + p.resolve("train.txt") + ") or a split name");
        }
        String name = value.endsWith(".txt") ? value : value + ".txt";
        if (!name.contains("/")) {
            for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
                Path f = dir.resolve("data").resolve("corpus").resolve(name);
                if (Files.isRegularFile(f)) {
                    return f;
                }
            }
        }
        throw new DataException(option + " " + value + ": no such split file (nor data/corpus/" + name
                + " above the working directory; split names: train, validation, test)");
    }
}
