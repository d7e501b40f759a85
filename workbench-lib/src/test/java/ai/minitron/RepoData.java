package ai.minitron;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the repository and its committed data/ directory (tests run from workbench-lib/, the CLI from the root). */
public final class RepoData {
    private RepoData() {}

    /** The repository root: the nearest directory above the working directory with data/corpus/train.txt. */
    public static Path root() {
        Path p = Path.of("").toAbsolutePath();
        for (; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("data/corpus/train.txt"))) {
                return p;
            }
        }
        throw new IllegalStateException("data/corpus/train.txt not found above "
                + Path.of("").toAbsolutePath());
    }

    public static Path dir() {
        return root().resolve("data");
    }

    public static Path corpus() {
        return dir().resolve("corpus");
    }

    public static Path tokenizerJson() {
        return dir().resolve("tokenizer/tokenizer.json");
    }
}
