package ai.minitron.data;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the committed data/ directory (tests run from workbench-lib/, the CLI from the root). */
final class RepoData {
    private RepoData() {}

    static Path dir() {
        Path p = Path.of("").toAbsolutePath();
        for (; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("data/corpus/train.txt"))) {
                return p.resolve("data");
            }
        }
        throw new IllegalStateException("data/corpus/train.txt not found above "
                + Path.of("").toAbsolutePath());
    }

    static Path corpus() {
        return dir().resolve("corpus");
    }

    static Path tokenizerJson() {
        return dir().resolve("tokenizer/tokenizer.json");
    }
}
