package ai.minitron.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.RepoData;
import ai.minitron.tokenize.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Calibration sets: packed and seeded by default, documents padded for comparison, clear errors. */
class CalibrationSetTest {
    static final Path SPLIT = RepoData.corpus().resolve("validation.txt");

    @Test
    void packedSeededWithIdsAndHash() {
        try (Tokenizer tok = Tokenizer.load(RepoData.tokenizerJson())) {
            CalibrationSet a = CalibrationSet.fromSplit(SPLIT, tok, 16, 64, 7, 512);
            CalibrationSet b = CalibrationSet.fromSplit(SPLIT, tok, 16, 64, 7, 512);
            CalibrationSet c = CalibrationSet.fromSplit(SPLIT, tok, 16, 64, 8, 512);
            assertEquals(CalibrationSet.Mode.PACKED, a.mode());
            assertEquals(16, a.size());
            assertEquals(64, a.seqLen());
            assertEquals(16 * 64, a.tokens());
            assertArrayEquals(a.sampleIds(), b.sampleIds(), "same seed, same samples");
            assertEquals(a.contentHash(), b.contentHash());
            assertFalse(Arrays.equals(a.sampleIds(), c.sampleIds()), "another seed, other samples");
            assertNotEquals(a.contentHash(), c.contentHash());
            assertEquals(16, Arrays.stream(a.sampleIds()).distinct().count());
            assertEquals(a.sourceHash(), c.sourceHash(), "both drawn from the same packed split");
            // sample i is window sampleIds[i] of the packed stream
            TokenDataset ds = TokenDataset.pack(Corpus.read(SPLIT).documents(), tok, 64);
            int first = a.sampleIds()[0];
            assertArrayEquals(ds.sample(first), a.row(0));
            for (CalibrationSet.Batch bt : a.batches(5)) {
                assertFalse(bt.padded(), "packed samples are never padded");
            }
            assertEquals(List.of(5, 5, 5, 1), a.batches(5).stream().map(CalibrationSet.Batch::size).toList());
            CalibrationSet half = a.head(8);
            assertArrayEquals(Arrays.copyOf(a.sampleIds(), 8), half.sampleIds());
        }
    }

    @Test
    void documentsArePaddedAndMasked() {
        try (Tokenizer tok = Tokenizer.load(RepoData.tokenizerJson());
                NDManager m = NDManager.newBaseManager()) {
            CalibrationSet d = CalibrationSet.documents(List.of("a b c d e f g h i j k", "hello", "x y z"), tok::encode,
                    3, 6, 1, "three documents");
            assertEquals(CalibrationSet.Mode.DOCUMENTS, d.mode());
            Set<Integer> ids = new HashSet<>();
            for (int id : d.sampleIds()) ids.add(id);
            assertEquals(Set.of(0, 1, 2), ids);
            CalibrationSet.Batch bt = d.batches(3).get(0);
            assertTrue(bt.padded());
            assertEquals(d.tokens(), bt.validTokens());
            float[] mask = bt.mask(m, DataType.FLOAT32).toFloatArray();
            int valid = 0;
            for (float v : mask) valid += (int) v;
            assertEquals(bt.validTokens(), valid);
            for (int b = 0; b < bt.size(); b++) {
                assertEquals(1f, mask[b * bt.width()], "right padding: the first position is a token");
            }
            assertNull(d.batches(1).get(0).mask(m, DataType.FLOAT32), "batch size 1: no padding, no mask");
        }
    }

    @Test
    void badInputGivesClearErrors(@TempDir Path tmp) throws Exception {
        try (Tokenizer tok = Tokenizer.load(RepoData.tokenizerJson())) {
            DataException e = assertThrows(DataException.class,
                    () -> CalibrationSet.fromSplit(SPLIT, tok, 100_000, 64, 1, 512));
            assertTrue(e.getMessage().contains("gives only") && e.getMessage().contains("100000"), e.getMessage());
            e = assertThrows(DataException.class, () -> CalibrationSet.fromSplit(SPLIT, tok, 4, 1024, 1, 512));
            assertTrue(e.getMessage().contains("exceeds the model context of 512"), e.getMessage());
            Path empty = Files.createFile(tmp.resolve("empty.txt"));
            e = assertThrows(DataException.class, () -> CalibrationSet.fromSplit(empty, tok, 4, 64, 1, 512));
            assertTrue(e.getMessage().contains("empty"), e.getMessage());
            e = assertThrows(DataException.class, () -> CalibrationSet.fromSplit(SPLIT, tok, 0, 64, 1, 512));
            assertTrue(e.getMessage().contains(">= 1"), e.getMessage());
            e = assertThrows(DataException.class, () -> CalibrationSet.documents(List.of("one"), tok::encode, 3, 8, 1,
                    "tiny"));
            assertTrue(e.getMessage().contains("tiny has only"), e.getMessage());
            CalibrationSet ok = CalibrationSet.fromSplit(SPLIT, tok, 2, 64, 1, 512);
            e = assertThrows(DataException.class, () -> ok.checkVocab(100));
            assertTrue(e.getMessage().contains("outside the model's vocabulary"), e.getMessage());
        }
    }
}
