package ai.minitron.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.RepoData;
import ai.minitron.data.Corpus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BpeTrainerTest {

    private static final List<String> EOT = List.of(BpeTrainer.ENDOFTEXT);

    /**
     * Words of "the cat the hat the bat": the, Ġthe x2, Ġcat, Ġhat, Ġbat. Pair counts: (t,h) 3,
     * (h,e) 3, (a,t) 3 (cat, hat, bat), (Ġ,t) 2, the rest 1. Ties go to the smaller (left, right)
     * id and ids follow byte order (a=97 < h=104 < t=116):
     * <ol>
     *   <li>a t (3) -> "at"
     *   <li>h e (3) -> "he"; now (t,he) = 3
     *   <li>t he (3) -> "the"; now (Ġ,the) = 2
     *   <li>Ġ the (2) -> "Ġthe"; every remaining pair occurs once: stop (minFrequency 2)
     * </ol>
     */
    @Test
    void firstMergesMatchTheHandComputation() {
        ByteLevelBpe bpe = new BpeTrainer(300, EOT).train(List.of("the cat the hat the bat"));
        assertEquals(List.of("a t", "h e", "t he", "Ġ the"), bpe.merges());
        assertEquals(1 + 256 + 4, bpe.vocabSize());
        assertEquals(0, bpe.tokenId(BpeTrainer.ENDOFTEXT));
        assertEquals(1 + 'a', bpe.tokenId("a"));
        assertEquals(257, bpe.tokenId("at"));
        assertEquals(260, bpe.tokenId("Ġthe"));
        assertEquals(List.of("the", "Ġ", "c", "at", "Ġthe", "Ġ", "h", "at"),
                bpe.tokens("the cat the hat"));
    }

    @Test
    void minFrequencyOneKeepsMergingWithTheSameTieBreak() {
        ByteLevelBpe bpe = new BpeTrainer(263, EOT, 1).train(List.of("the cat the hat the bat"));
        // after the 4 merges above every pair has count 1 and the smallest (left, right) ids win:
        // Ġ is id 33 (byte 32 + 1 special), b 99, c 100, h 105, so (Ġ,b) then (Ġ,c)
        assertEquals(List.of("a t", "h e", "t he", "Ġ the", "Ġ b", "Ġ c"), bpe.merges());
        assertEquals(263, bpe.vocabSize());
    }

    @Test
    void vocabularySizeIsTheOneRequested() throws IOException {
        Path validation = RepoData.corpus().resolve("validation.txt");
        for (int size : new int[] {300, 1000, 2048}) {
            ByteLevelBpe bpe = BpeTrainer.trainFromFiles(List.of(validation), size, EOT);
            assertEquals(size, bpe.vocabSize(), "vocab " + size);
            assertEquals(size - 257, bpe.merges().size());
        }
    }

    @Test
    void specialTokensTakeTheFirstIdsAndAreNeverMerged() {
        List<String> specials = List.of("<|endoftext|>", "<|pad|>");
        String text = "one<|endoftext|>one<|pad|>one<|endoftext|>";
        ByteLevelBpe bpe = new BpeTrainer(400, specials, 1).train(List.of(text, text));
        assertEquals(0, bpe.tokenId("<|endoftext|>"));
        assertEquals(1, bpe.tokenId("<|pad|>"));
        assertEquals(2, bpe.tokenId("Ā")); // byte 0 follows the specials
        for (String m : bpe.merges()) {
            assertTrue(!m.contains("|") && !m.contains("<"), "merge across a special: " + m);
        }
        assertArrayEquals(new long[] {bpe.tokenId("one"), 0, bpe.tokenId("one"), 1,
            bpe.tokenId("one"), 0}, bpe.encode(text));
        assertEquals(text, bpe.decode(bpe.encode(text)));
    }

    @Test
    void trainingIsDeterministic() {
        String text = "abab cdcd abcd dcba ".repeat(5) + "the quick brown fox";
        String a = new BpeTrainer(320, EOT, 1).train(List.of(text)).toJsonString();
        String b = new BpeTrainer(320, EOT, 1).train(List.of(text)).toJsonString();
        assertEquals(a, b);
        assertNotEquals(a, new BpeTrainer(320, EOT, 1).train(List.of(text + " fox fox fox"))
                .toJsonString());
    }

    @Test
    void rejectsImpossibleSettings() {
        assertThrows(IllegalArgumentException.class, () -> new BpeTrainer(256, EOT));
        assertThrows(IllegalArgumentException.class,
                () -> new BpeTrainer(300, List.of("<a>", "<a>")));
    }

    @Test
    void javaEncoderAgreesWithDjlOnTheSavedTokenizerJson(@TempDir Path dir) throws IOException {
        ByteLevelBpe bpe = BpeTrainer.trainFromFiles(
                List.of(RepoData.corpus().resolve("validation.txt")), 1500, EOT);
        Path file = dir.resolve("tok/tokenizer.json");
        bpe.save(file);
        // atomic write: only the target is left behind
        try (Stream<Path> s = Files.list(file.getParent())) {
            assertEquals(List.of(file), s.toList());
        }
        assertEquals(bpe.toJsonString(), Files.readString(file, StandardCharsets.UTF_8));
        try (Tokenizer tok = Tokenizer.load(file)) {
            assertEquals(1500, tok.vocabSize());
            assertEquals(0, tok.eosTokenId());
            for (String s : EdgeCases.STRINGS) {
                assertArrayEquals(bpe.encode(s), tok.encode(s), () -> "ids differ for " + s);
                assertEquals(s, tok.decode(tok.encode(s)));
            }
            for (String doc : Corpus.read(RepoData.corpus().resolve("test.txt")).head(10)
                    .documents()) {
                assertArrayEquals(bpe.encode(doc), tok.encode(doc));
            }
        }
        // and our own loader reads back the same model
        ByteLevelBpe again = ByteLevelBpe.load(file);
        assertEquals(bpe.merges(), again.merges());
        assertEquals(bpe.toJsonString(), again.toJsonString());
    }

    /** The committed tokenizer is exactly what the documented command produces. */
    @Test
    void committedTokenizerIsReproducible() throws IOException {
        ByteLevelBpe bpe = BpeTrainer.trainFromFiles(
                List.of(RepoData.corpus().resolve("train.txt")), 8192, EOT);
        assertEquals(8192, bpe.vocabSize());
        assertEquals(Files.readString(RepoData.tokenizerJson(), StandardCharsets.UTF_8),
                bpe.toJsonString(), "data/tokenizer/tokenizer.json is stale: retrain it "
                        + "(see data/tokenizer/README.md)");
    }
}
