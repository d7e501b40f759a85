package ai.minitron.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.cli.CliRun;
import ai.minitron.importance.ImportanceTable;
import ai.minitron.io.OutputLock;
import ai.minitron.prune.PruningRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18, kill -9 (cases 8, 9, 10): the CLI runs in a child JVM ({@link KillPoint}), is killed with
 * {@link Process#destroyForcibly()} at a chosen moment, and the folder it was writing is then checked
 * and used. Slower than the in-process tests (a JVM start each); {@code mvn -B verify} runs them too.
 */
@Tag("reliability")
@Tag("kill")
class KillTest {
    @TempDir
    Path tmp;

    /** Case 8: importance rerun killed after the new importance.arrow, before run.json: no mismatched pair remains. */
    @Test
    void importanceRerunKilledMidWriteLeavesAConsistentRun() throws Exception {
        Path model = Fixtures.model(tmp.resolve("model"), 3);
        Path imp = tmp.resolve("imp");
        assertEquals(0, CliRun.of(Fixtures.importance(model, imp, 1)).code());
        String oldRun = ImportanceTable.load(imp).runId();

        killAt("run.json", Fixtures.importance(model, imp, 2));

        ImportanceTable t = ImportanceTable.load(imp);
        assertEquals(t.run().get("run_id").getAsString(), t.runId(), "importance.arrow and run.json are of one run");
        assertEquals(oldRun, t.runId(), "the interrupted rerun left the old run");
        CliRun p = CliRun.of(Fixtures.prune(model, imp, tmp.resolve("pruned"), 12));
        assertEquals(0, p.code(), p.err());
        assertTrue(p.out().contains(oldRun), p.out());
    }

    /** Case 9: prune rerun killed after the new weights, before pruning.json: the old export is intact. */
    @Test
    void pruneRerunKilledAfterTheWeightsLeavesTheOldExport() throws Exception {
        Path model = Fixtures.model(tmp.resolve("model"), 3);
        Path imp = tmp.resolve("imp");
        assertEquals(0, CliRun.of(Fixtures.importance(model, imp, 1)).code());
        Path out = tmp.resolve("pruned");
        assertEquals(0, CliRun.of(Fixtures.prune(model, imp, out, 12)).code());
        var before = Fixtures.hashes(out);

        killAt("pruning.json", Fixtures.prune(model, imp, out, 8));

        assertEquals(before, Fixtures.hashes(out), "weights, pruning.json, card and lineage are the old export's");
        CliRun r = CliRun.of(Fixtures.prune(model, imp, out, 8));
        assertEquals(0, r.code(), r.err());
        assertEquals(8, PruningRecord.read(out).hidden().length);
        assertEquals(List.of(), Fixtures.leftovers(out), "the interrupted write's temporary folder is cleaned up");
    }

    /** Case 10: a distill holding --out refuses a second one naming its pid; once killed, its lock is taken over. */
    @Test
    void killedDistillsLockIsTakenOver() throws Exception {
        Path model = Fixtures.model(tmp.resolve("model"), 3);
        Path text = Fixtures.text(tmp);
        Path out = tmp.resolve("distilled");
        Process child = start("never-written", Fixtures.distill(model, text, out, 100_000_000));
        try {
            waitFor(() -> Files.exists(OutputLock.fileOf(out)), child, "the lock of " + out);
            CliRun second = CliRun.of(Fixtures.distill(model, text, out, 64));
            assertEquals(1, second.code(), second.err());
            assertTrue(second.err().contains("pid " + child.pid()), second.err());
        } finally {
            child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        CliRun resumed = CliRun.of(Fixtures.distill(model, text, out, 64));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.err().contains("took over the stale lock") && resumed.err().contains("pid " + child.pid()),
                resumed.err());
    }

    /** Runs the CLI in a child JVM, waits until it is about to write a file whose path contains {@code name}, kills it. */
    private void killAt(String name, String... args) throws Exception {
        Process child = start(name, args);
        try {
            Path signal = tmp.resolve("killpoint-reached");
            waitFor(() -> Files.exists(signal), child, "the kill point " + name);
        } finally {
            child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    private Process start(String name, String... args) throws IOException {
        Path signal = tmp.resolve("killpoint-reached");
        Files.deleteIfExists(signal);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-opens=java.base/java.nio=ALL-UNNAMED", "-Djava.security.manager=allow", "-Xmx1g",
                "-Dkillpoint.name=" + name, "-Dkillpoint.signal=" + signal, "-cp", System.getProperty("java.class.path"),
                KillPoint.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
    }

    private void waitFor(BooleanSupplier condition, Process child, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(600); // a guard against a hang only
        while (!condition.getAsBoolean()) {
            if (!child.isAlive()) {
                throw new AssertionError("the child ended (exit " + child.exitValue() + ") before " + what + ":\n"
                        + Files.readString(tmp.resolve("child.log")));
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the child never reached " + what + ":\n" + Files.readString(tmp.resolve("child.log")));
            }
            Thread.sleep(50);
        }
    }
}
