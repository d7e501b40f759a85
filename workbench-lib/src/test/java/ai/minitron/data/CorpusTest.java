package ai.minitron.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.RepoData;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorpusTest {

    @Test
    void splitsDocumentsAtSeparatorLines() {
        String text = "First doc.\nSecond line.\n\nNew paragraph.\n\n<|endoftext|>\n\n"
                + "Second doc.\n<|endoftext|>\nThird doc.\r\n<|endoftext|>\r\n\n"
                + "<|endoftext|>\n"  // an empty document is dropped
                + "  indented stays indented\n"
                + "inline <|endoftext|> is text, not a separator\n";
        assertEquals(List.of(
                "First doc.\nSecond line.\n\nNew paragraph.",
                "Second doc.",
                "Third doc.",
                "  indented stays indented\ninline <|endoftext|> is text, not a separator"),
                Corpus.parse(text));
        assertEquals(List.of("only"), Corpus.parse("only"));
        assertEquals(List.of(), Corpus.parse("\n\n<|endoftext|>\n\n"));
    }

    @Test
    void formatAndParseRoundTrip(@TempDir Path dir) throws IOException {
        List<String> docs = List.of("α β γ", "two\n\nparagraphs", "emoji 😀 and\ttab");
        assertEquals(docs, Corpus.parse(Corpus.format(docs)));
        Path f = dir.resolve("sub/train.txt");
        Corpus.write(f, docs);
        try (Stream<Path> s = Files.list(f.getParent())) {
            assertEquals(List.of(f), s.toList()); // no temp file left behind
        }
        assertEquals("α β γ\n\n<|endoftext|>\n\ntwo\n\nparagraphs\n\n<|endoftext|>\n\n"
                + "emoji 😀 and\ttab\n", Files.readString(f, StandardCharsets.UTF_8));
        Corpus c = Corpus.read(f);
        assertEquals(docs, c.documents());
        assertEquals(f, c.path());
        assertEquals(9, c.words());
        assertThrows(IllegalArgumentException.class,
                () -> Corpus.format(List.of("ok", "bad\n<|endoftext|>\nbad")));
        assertThrows(IllegalArgumentException.class, () -> Corpus.format(List.of("\nlead")));
    }

    @Test
    void emptyFileIsAClearErrorNamingTheFile(@TempDir Path dir) throws IOException {
        Path empty = dir.resolve("empty.txt");
        Files.write(empty, new byte[0]);
        DataException e = assertThrows(DataException.class, () -> Corpus.read(empty));
        assertTrue(e.getMessage().contains(empty.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("empty"), e.getMessage());

        Path blank = dir.resolve("blank.txt");
        Files.writeString(blank, "\n\n<|endoftext|>\n  \n");
        e = assertThrows(DataException.class, () -> Corpus.read(blank));
        assertTrue(e.getMessage().contains(blank.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("no documents"), e.getMessage());
    }

    @Test
    void nonUtf8FileIsAClearErrorNamingTheFileAndOffset(@TempDir Path dir) throws IOException {
        Path latin1 = dir.resolve("latin1.txt");
        Files.write(latin1, "café au lait".getBytes(StandardCharsets.ISO_8859_1));
        DataException e = assertThrows(DataException.class, () -> Corpus.read(latin1));
        assertTrue(e.getMessage().contains(latin1.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
        assertTrue(e.getMessage().contains("byte offset 3"), e.getMessage());

        Path truncated = dir.resolve("truncated.txt");
        byte[] euro = "ok €".getBytes(StandardCharsets.UTF_8);
        Files.write(truncated, java.util.Arrays.copyOf(euro, euro.length - 1));
        e = assertThrows(DataException.class, () -> Corpus.read(truncated));
        assertTrue(e.getMessage().contains(truncated.toString()), e.getMessage());
    }

    @Test
    void missingFileNamesTheFile(@TempDir Path dir) {
        DataException e = assertThrows(DataException.class,
                () -> Corpus.read(dir, Corpus.Split.VALIDATION));
        assertTrue(e.getMessage().contains(dir.resolve("validation.txt").toString()),
                e.getMessage());
    }

    @Test
    void byteOrderMarkIsNotPartOfTheFirstDocument(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("bom.txt");
        Files.writeString(f, "\uFEFFhello\n");
        assertEquals(List.of("hello"), Corpus.read(f).documents());
    }

    /** The committed slice agrees with the counts tools/fetch_corpus.py recorded. */
    @Test
    void committedSliceMatchesTheManifest() throws IOException {
        JsonObject manifest = JsonParser.parseString(Files.readString(
                RepoData.corpus().resolve("manifest.json"))).getAsJsonObject();
        long totalBytes = 0;
        for (Corpus.Split split : Corpus.Split.values()) {
            String name = split.fileName().replace(".txt", "");
            JsonObject slice = manifest.getAsJsonObject("splits").getAsJsonObject(name)
                    .getAsJsonObject("slice");
            Corpus c = Corpus.read(RepoData.corpus(), split);
            assertEquals(slice.get("documents").getAsInt(), c.size(), name);
            assertEquals(slice.get("words").getAsLong(), c.words(), name);
            long bytes = Files.size(c.path());
            assertEquals(slice.get("bytes").getAsLong(), bytes, name);
            assertEquals(Corpus.format(c.documents()),
                    Files.readString(c.path(), StandardCharsets.UTF_8), name);
            totalBytes += bytes;
        }
        assertTrue(totalBytes < 3_000_000, "committed slice is " + totalBytes + " bytes");
    }
}
