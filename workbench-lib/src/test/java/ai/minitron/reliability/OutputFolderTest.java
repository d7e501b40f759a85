package ai.minitron.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.minitron.cli.CliRun;
import ai.minitron.io.OutputDir;
import ai.minitron.io.OutputLock;
import ai.minitron.io.gguf.TinyGgufs;
import ai.minitron.model.LanguageModel;
import ai.minitron.prune.PruningRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18, data loss (cases 1, 8, 9, 10), through the command line in-process: a command writing a
 * folder leaves the old folder or the new one, never a mix, refuses a folder of another kind or model
 * without --force, and refuses a second writer.
 */
@Tag("reliability")
class OutputFolderTest {
    @TempDir
    Path tmp;

    /** Case 1: convert into an existing checkpoint folder neither corrupts it on failure nor keeps stale files on success. */
    @Test
    void convertIntoAnExistingCheckpointIsAllOrNothing() throws Exception {
        Path ckpt = Fixtures.model(tmp.resolve("ckpt"), 1);
        Files.writeString(ckpt.resolve("README.md"), "# old model card\n");
        Files.writeString(ckpt.resolve("eval_results.json"), "{}\n");
        var before = Fixtures.hashes(ckpt);

        Path bad = tmp.resolve("unsupported.gguf");
        TinyGgufs.write(bad, 2, true);
        CliRun r = CliRun.of("convert", "--in", bad.toString(), "--out", ckpt.toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("blk.7.attn_q.weight"), r.err());
        assertEquals(before, Fixtures.hashes(ckpt), "a failed convert leaves the folder exactly as it was");
        assertFalse(Files.exists(ckpt.resolve("tokenizer_config.json")));

        Path good = tmp.resolve("tiny.gguf");
        TinyGgufs.write(good, 3, false);
        CliRun ok = CliRun.of("convert", "--in", good.toString(), "--out", ckpt.toString());
        assertEquals(0, ok.code(), ok.err());
        assertFalse(Files.exists(ckpt.resolve("README.md")), "the old model card is gone");
        assertFalse(Files.exists(ckpt.resolve("eval_results.json")), "the old metrics are gone");
        assertTrue(Files.exists(ckpt.resolve("tokenizer_config.json")));
        try (NDManager m = NDManager.newBaseManager(); LanguageModel lm = LanguageModel.load(ckpt, m)) {
            assertEquals(262, lm.config().vocabSize());
        }
        assertTrue(OutputDir.verify(ckpt), "the converted folder carries a verified marker");
        assertEquals(java.util.List.of(), Fixtures.leftovers(ckpt));
    }

    /** Case 8: an importance run without run.json, or with files of two runs, is refused by prune, naming the file. */
    @Test
    void pruneRefusesAnIncompleteOrMixedImportanceRun() throws Exception {
        Path model = Fixtures.model(tmp.resolve("model"), 3);
        Path a = tmp.resolve("imp-a");
        Path b = tmp.resolve("imp-b");
        assertEquals(0, CliRun.of(Fixtures.importance(model, a, 1)).code());
        assertEquals(0, CliRun.of(Fixtures.importance(model, b, 2)).code());

        Path noRun = tmp.resolve("imp-no-run");
        copyTree(a, noRun);
        Files.delete(noRun.resolve("run.json"));
        CliRun r = CliRun.of(Fixtures.prune(model, noRun, tmp.resolve("p1"), 12));
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains(noRun.resolve("run.json").toString()), r.err());
        Files.delete(noRun.resolve(OutputDir.MARKER)); // a folder written before markers existed: same answer
        r = CliRun.of(Fixtures.prune(model, noRun, tmp.resolve("p1"), 12));
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains(noRun.resolve("run.json") + " is missing"), r.err());

        Path mixed = tmp.resolve("imp-mixed");
        copyTree(a, mixed);
        Files.copy(b.resolve("importance.arrow"), mixed.resolve("importance.arrow"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        r = CliRun.of(Fixtures.prune(model, mixed, tmp.resolve("p2"), 12));
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains(mixed.resolve("importance.arrow").toString()), r.err());
        Files.delete(mixed.resolve(OutputDir.MARKER));
        r = CliRun.of(Fixtures.prune(model, mixed, tmp.resolve("p2"), 12));
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("mixed from two runs"), r.err());
        assertFalse(Files.exists(tmp.resolve("p1")) || Files.exists(tmp.resolve("p2")), "nothing exported");

        // the rerun into an existing folder replaces the pair whole
        assertEquals(0, CliRun.of(Fixtures.importance(model, a, 5)).code());
        assertEquals(0, CliRun.of(Fixtures.prune(model, a, tmp.resolve("p3"), 12)).code());
    }

    /** Case 9: prune rerun into an existing export replaces it whole; another model's export is refused without --force. */
    @Test
    void pruneRerunReplacesTheWholeExport() throws Exception {
        Path model = Fixtures.model(tmp.resolve("model"), 3);
        Path imp = tmp.resolve("imp");
        assertEquals(0, CliRun.of(Fixtures.importance(model, imp, 1)).code());
        Path out = tmp.resolve("pruned");
        assertEquals(0, CliRun.of(Fixtures.prune(model, imp, out, 12)).code());
        Files.writeString(out.resolve("eval_results.json"), "{\"stale\": true}\n");

        CliRun r = CliRun.of(Fixtures.prune(model, imp, out, 8));
        assertEquals(0, r.code(), r.err());
        assertFalse(Files.exists(out.resolve("eval_results.json")), "nothing of the old export survives");
        assertEquals(8, PruningRecord.read(out).hidden().length);
        try (NDManager m = NDManager.newBaseManager(); LanguageModel lm = LanguageModel.load(out, m)) {
            assertEquals(8, lm.config().hiddenSize());
        }
        assertTrue(OutputDir.verify(out));

        Path other = Fixtures.model(tmp.resolve("other"), 4);
        Path otherImp = tmp.resolve("other-imp");
        assertEquals(0, CliRun.of(Fixtures.importance(other, otherImp, 1)).code());
        var before = Fixtures.hashes(out);
        r = CliRun.of(Fixtures.prune(other, otherImp, out, 12));
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains(out + " holds a 'prune' folder of another model") && r.err().contains("--force"),
                r.err());
        assertEquals(before, Fixtures.hashes(out));
        String[] forced = java.util.stream.Stream.concat(java.util.Arrays.stream(Fixtures.prune(other, otherImp, out, 12)),
                java.util.stream.Stream.of("--force")).toArray(String[]::new);
        assertEquals(0, CliRun.of(forced).code());
        assertNotEquals(before, Fixtures.hashes(out));
    }

    /** Case 10: a second distill on one --out is refused naming the lock owner's pid; a folder of another kind too. */
    @Test
    void secondDistillOnOneOutIsRefused() throws Exception {
        Path model = Fixtures.model(tmp.resolve("model"), 3);
        Path text = Fixtures.text(tmp);
        Path out = tmp.resolve("distilled");
        try (OutputLock held = OutputLock.acquire(out)) {
            CliRun r = CliRun.of(Fixtures.distill(model, text, out, 64));
            assertEquals(1, r.code(), r.err());
            assertTrue(r.err().contains("pid " + ProcessHandle.current().pid()), r.err());
            assertTrue(r.err().contains("being written by another minitron process"), r.err());
            assertFalse(Files.exists(out), "the refused run wrote nothing");
        }
        CliRun r = CliRun.of(Fixtures.distill(model, text, out, 64));
        assertEquals(0, r.code(), r.err());
        assertFalse(Files.exists(OutputLock.fileOf(out)), "the lock is released");

        Path imp = tmp.resolve("imp");
        assertEquals(0, CliRun.of(Fixtures.importance(model, imp, 1)).code());
        r = CliRun.of(Fixtures.distill(model, text, imp, 64));
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains(imp + " holds a 'importance' folder, not a 'distill' one"), r.err());
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (var s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Files.copy(p, to.resolve(from.relativize(p).toString()));
            }
        }
    }
}
