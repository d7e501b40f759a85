package ai.minitron.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Locations of the committed golden fixtures (made by tools/make_golden_fixtures.py). */
final class Fixtures {
    static final Path GOLDEN = Path.of("src/test/resources/golden");

    private Fixtures() {}

    static Path dir(String name) {
        return GOLDEN.resolve(name);
    }

    /** Every fixture directory (each has a config.json and a reference.safetensors). */
    static Stream<String> names() throws IOException {
        try (Stream<Path> s = Files.list(GOLDEN)) {
            return s.filter(p -> Files.isRegularFile(p.resolve("reference.safetensors")))
                    .map(p -> p.getFileName().toString()).sorted().toList().stream();
        }
    }
}
