package ai.minitron.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.RepoData;
import ai.minitron.data.Corpus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTest {

    private static Tokenizer tok;
    private static ByteLevelBpe java;

    @BeforeAll
    static void load() {
        tok = Tokenizer.load(RepoData.tokenizerJson());
        java = ByteLevelBpe.load(RepoData.tokenizerJson());
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    @Test
    void committedTokenizerBasics() {
        assertEquals(8192, tok.vocabSize());
        assertEquals(0, tok.eosTokenId());
        assertNull(tok.bosTokenId());
        assertEquals(0, tok.tokenId("<|endoftext|>"));
        assertEquals(java.tokenId("Ġthe"), tok.tokenId("Ġthe"));
        assertEquals(RepoData.tokenizerJson(), tok.path());
        assertEquals(1, tok.specialTokens().size());
    }

    @Test
    void loadsFromTheDirectoryToo() {
        try (Tokenizer t = Tokenizer.load(RepoData.tokenizerJson().getParent())) {
            assertArrayEquals(tok.encode("The Union"), t.encode("The Union"));
        }
    }

    /** decode(encode(text)) == text, and DJL's ids == our Java encoder's, on every slice doc. */
    @Test
    void roundTripsTheWholeCommittedCorpusSlice() {
        long tokens = 0;
        for (Corpus.Split split : Corpus.Split.values()) {
            Corpus c = Corpus.read(RepoData.corpus(), split);
            for (int i = 0; i < c.size(); i++) {
                String doc = c.document(i);
                long[] ids = tok.encode(doc);
                String where = split + " document " + i;
                assertArrayEquals(java.encode(doc), ids, where);
                assertEquals(doc, tok.decode(ids), where);
                tokens += ids.length;
            }
        }
        assertTrue(tokens > 500_000, "slice has " + tokens + " tokens");
    }

    @Test
    void roundTripsEdgeCases() {
        for (String s : EdgeCases.STRINGS) {
            long[] ids = tok.encode(s);
            assertArrayEquals(java.encode(s), ids, () -> "ids differ for " + s);
            assertEquals(s, tok.decode(ids), () -> "round trip of " + s);
        }
    }

    @Test
    void specialTokenRoundTrip() {
        String s = "end of one.<|endoftext|>Start of two";
        long[] ids = tok.encode(s);
        assertEquals(1, Arrays.stream(ids).filter(id -> id == 0).count());
        assertEquals(s, tok.decode(ids));
        assertEquals("end of one.Start of two", tok.decode(ids, true));
        assertArrayEquals(new long[] {0}, tok.encode("<|endoftext|>"));
        assertEquals("<|endoftext|>", tok.decode(new long[] {0}));
    }

    @Test
    void addsNothingAndTruncatesNothing() {
        assertArrayEquals(new long[0], tok.encode(""));
        String longText = Corpus.read(RepoData.corpus(), Corpus.Split.TEST).document(0);
        long[] ids = tok.encode(longText);
        assertTrue(ids.length > 1024, "document has " + ids.length + " tokens");
        assertEquals(longText, tok.decode(ids));
        assertTrue(Arrays.stream(tok.encode("Hello")).noneMatch(id -> id == 0));
    }

    @Test
    void decodeRejectsIdsOutsideTheVocabulary() {
        TokenizerException e = assertThrows(TokenizerException.class,
                () -> tok.decode(new long[] {1, 8192}));
        assertTrue(e.getMessage().contains("8192"), e.getMessage());
    }

    @Test
    void missingFileNamesTheFile(@TempDir Path dir) {
        Path missing = dir.resolve("nope/tokenizer.json");
        TokenizerException e = assertThrows(TokenizerException.class,
                () -> Tokenizer.load(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
    }

    @Test
    void invalidFilesNameTheFile(@TempDir Path dir) throws IOException {
        String[] bad = {
            "", // empty
            "{ not json", // not JSON
            "[1, 2, 3]", // not an object
            "{\"version\": \"1.0\"}", // no model
            // JSON the native library rejects: a merge over tokens missing from the vocabulary
            "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"x y\"]}}",
        };
        for (int i = 0; i < bad.length; i++) {
            Path f = dir.resolve("bad" + i + ".json");
            Files.writeString(f, bad[i], StandardCharsets.UTF_8);
            TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(f),
                    "case " + i);
            assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        }
        Path latin1 = dir.resolve("latin1.json");
        Files.write(latin1, new byte[] {'{', '"', (byte) 0xE9, '"', ':', '1', '}'});
        TokenizerException e = assertThrows(TokenizerException.class,
                () -> Tokenizer.load(latin1));
        assertTrue(e.getMessage().contains(latin1.toString()) && e.getMessage().contains("UTF-8"),
                e.getMessage());
    }

    @Test
    void closedTokenizerRefusesWork() {
        Tokenizer t = Tokenizer.load(RepoData.tokenizerJson());
        t.close();
        t.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> t.encode("x"));
    }
}
