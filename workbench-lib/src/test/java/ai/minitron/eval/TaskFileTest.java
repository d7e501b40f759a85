package ai.minitron.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipped task files: they parse, are what the builder makes, and bad files fail naming file and line. */
class TaskFileTest {
    @TempDir
    Path tmp;

    static Path tasks() {
        return EvalFixtures.data().resolve("tasks");
    }

    @Test
    void shippedTasksParse() {
        TaskFile.Task mc = TaskFile.read(tasks().resolve("moby_continuation.jsonl"));
        assertEquals("moby_continuation", mc.name());
        assertEquals(TaskFile.Kind.MULTIPLE_CHOICE, mc.kind());
        assertEquals(TaskBuilder.DEFAULT_SIZE, mc.items().size());
        int[] goldAt = new int[4];
        Set<String> ids = new HashSet<>();
        for (MultipleChoiceItem it : mc.multipleChoice()) {
            assertEquals(4, it.choices().size());
            assertEquals(4, new HashSet<>(it.choices()).size(), "distinct choices in " + it.id());
            assertTrue(Passages.words(it.context()) >= TaskBuilder.MC_MIN_CONTEXT_WORDS, it.id());
            goldAt[it.gold()]++;
            assertTrue(ids.add(it.id()), "unique ids");
        }
        for (int g : goldAt) {
            assertTrue(g > 70 && g < 130, "gold positions roughly uniform: " + java.util.Arrays.toString(goldAt));
        }
        TaskFile.Task lw = TaskFile.read(tasks().resolve("moby_lastword.jsonl"));
        assertEquals(TaskFile.Kind.LAST_WORD, lw.kind());
        assertEquals(TaskBuilder.DEFAULT_SIZE, lw.items().size());
        for (LastWordItem it : lw.lastWord()) {
            assertTrue(it.target().chars().allMatch(Character::isLetter), it.target());
            assertTrue(it.id().startsWith("test.txt/"), it.id());
        }
        assertEquals(10, lw.limit(10).items().size());
    }

    @Test
    void shippedTasksAreReproducibleFromTheTestSplitAndSeed() throws Exception {
        TaskBuilder.build(EvalFixtures.data().resolve("corpus/test.txt"), tmp, TaskBuilder.DEFAULT_SEED, TaskBuilder.DEFAULT_SIZE);
        for (String f : List.of("moby_continuation.jsonl", "moby_lastword.jsonl")) {
            assertArrayEquals(Files.readAllBytes(tasks().resolve(f)), Files.readAllBytes(tmp.resolve(f)),
                    f + " differs from what TaskBuilder makes (rebuild it: see data/tasks/README.md)");
        }
    }

    @Test
    void writeThenReadRoundTrips() {
        Path f = tmp.resolve("rt.jsonl");
        List<MultipleChoiceItem> items = List.of(new MultipleChoiceItem("1", "Ctx \"quoted\" — dash", List.of("a", "b<c>"), 1),
                new MultipleChoiceItem("2", "", List.of("x", "y", "z"), 2, "\n"));
        TaskFile.write(f, items);
        assertEquals(items, TaskFile.read(f).multipleChoice());
    }

    String error(String name, String... lines) throws Exception {
        Path f = tmp.resolve(name);
        Files.writeString(f, String.join("\n", lines));
        return assertThrows(TaskFormatException.class, () -> TaskFile.read(f)).getMessage();
    }

    @Test
    void badFilesFailNamingFileAndLine() throws Exception {
        String ok = "{\"context\": \"c\", \"choices\": [\"a\", \"b\"], \"gold\": 0}";
        String e = error("bad.jsonl", ok, "", "{\"context\": \"c\", \"choices\": [\"a\", \"b\"], \"gold\": 0");
        assertTrue(e.contains("bad.jsonl:3: not valid JSON"), e);
        e = error("gold.jsonl", ok, "{\"context\": \"c\", \"choices\": [\"a\", \"b\"], \"gold\": 5}");
        assertTrue(e.contains("gold.jsonl:2: gold 5 outside [0, 2)"), e);
        e = error("goldtype.jsonl", "{\"context\": \"c\", \"choices\": [\"a\", \"b\"], \"gold\": \"a\"}");
        assertTrue(e.contains("goldtype.jsonl:1: \"gold\" must be the integer index"), e);
        e = error("nochoice.jsonl", "{\"context\": \"c\", \"gold\": 0}");
        assertTrue(e.contains("nochoice.jsonl:1: neither \"choices\""), e);
        e = error("mixed.jsonl", ok, "{\"context\": \"c\", \"target\": \"word\"}");
        assertTrue(e.contains("mixed.jsonl:2: a last-word item in a multiple-choice task"), e);
        e = error("ctx.jsonl", "{\"choices\": [\"a\", \"b\"], \"gold\": 0}");
        assertTrue(e.contains("ctx.jsonl:1: missing \"context\""), e);
        e = error("array.jsonl", "[1, 2]");
        assertTrue(e.contains("array.jsonl:1: expected a JSON object"), e);
        e = error("lenient.jsonl", "{context: 'c', target: 'w'}");
        assertTrue(e.contains("lenient.jsonl:1: not valid JSON"), e);
        e = error("target.jsonl", "{\"context\": \"c\", \"target\": \"two words\"}");
        assertTrue(e.contains("target.jsonl:1: the target must be one word"), e);
        e = error("empty.jsonl", "", "  ");
        assertTrue(e.contains("empty.jsonl: no task items"), e);
        e = assertThrows(TaskFormatException.class, () -> TaskFile.read(tmp.resolve("missing.jsonl"))).getMessage();
        assertTrue(e.contains("task file not found") && e.contains("missing.jsonl"), e);
    }
}
