package ai.minitron.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.RepoData;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --spark} without the spark module on the classpath (workbench-lib alone, as here) fails with one line
 * saying so, before any output folder is written; the module's own tests run the real thing.
 */
class ClusterOptionsTest {
    @TempDir
    Path tmp;

    @Test
    void sparkWithoutTheModuleSaysWhatIsMissing() {
        Path out = tmp.resolve("imp");
        CliRun r = CliRun.of("importance", "--model", RepoData.dir().resolve("teacher").toString(), "--data",
                RepoData.corpus().resolve("validation.txt").toString(), "--samples", "2", "--seq-len", "16",
                "--metrics", "activation", "--no-charts", "--out", out.toString(), "--spark", "local[2]");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("--spark local[2]: no cluster module on the classpath"), r.err());
        assertTrue(!out.toFile().exists(), "nothing written");
        CliRun neg = CliRun.of("eval", "--model", RepoData.dir().resolve("teacher").toString(), "--text",
                RepoData.corpus().resolve("test.txt").toString(), "--spark", "local[2]",
                "--partitions", "-1");
        assertEquals(1, neg.code(), neg.err());
        assertTrue(neg.err().contains("--partitions must be >= 0"), neg.err());
    }
}
