package ai.minitron.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.RepoData;
import ai.minitron.tokenize.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class TokenDatasetTest {

    /** A toy encoder: one token per character, id = code point + 1 (0 is reserved for EOS). */
    private static final Function<String, long[]> CHARS =
            s -> s.codePoints().mapToLong(cp -> cp + 1L).toArray();

    private static final List<String> DOCS = List.of("hello world", "packing, not padding",
            "abc", "", "the last document of the toy corpus");

    private static long[] expectedStream() {
        List<Long> s = new ArrayList<>();
        for (String d : DOCS) {
            for (long id : CHARS.apply(d)) s.add(id);
            s.add(0L);
        }
        return s.stream().mapToLong(Long::longValue).toArray();
    }

    @Test
    void streamIsDocumentsWithEosAfterEach() {
        TokenDataset ds = TokenDataset.pack(DOCS, CHARS, 0, 8);
        assertArrayEquals(expectedStream(), ds.streamTokens());
        assertEquals(DOCS.size(), ds.documents());
    }

    @Test
    void packingCoversEveryTokenOnceInOrder() {
        long[] stream = expectedStream();
        for (int seqLen : new int[] {1, 3, 8, 16, stream.length - 1}) {
            TokenDataset ds = TokenDataset.pack(DOCS, CHARS, 0, seqLen);
            assertEquals((stream.length - 1) / seqLen, ds.size());
            assertEquals(stream.length - 1 - ds.size() * seqLen, ds.droppedTokens());
            assertTrue(ds.droppedTokens() < seqLen);
            long[][] batch = ds.batch(0, ds.size());
            long[][] in = TokenDataset.inputs(batch);
            long[][] tg = TokenDataset.targets(batch);
            List<Long> inputs = new ArrayList<>();
            List<Long> targets = new ArrayList<>();
            for (int i = 0; i < ds.size(); i++) {
                assertEquals(i, ds.sampleId(i));
                assertEquals(seqLen + 1, batch[i].length);
                assertEquals(seqLen, in[i].length);
                // targets are the inputs shifted by one
                assertArrayEquals(Arrays.copyOfRange(batch[i], 1, seqLen + 1), tg[i]);
                for (int j = 0; j + 1 < seqLen; j++) assertEquals(in[i][j + 1], tg[i][j]);
                for (long t : in[i]) inputs.add(t);
                for (long t : tg[i]) targets.add(t);
            }
            // every covered stream token is an input exactly once, in order ...
            int covered = ds.size() * seqLen;
            for (int k = 0; k < covered; k++) {
                assertEquals(stream[k], inputs.get(k), "input " + k);
                assertEquals(stream[k + 1], targets.get(k), "target " + k);
            }
            assertEquals(covered, inputs.size());
        }
    }

    @Test
    void batchesAsLongsAndIntsAgree() {
        TokenDataset ds = TokenDataset.pack(DOCS, CHARS, 0, 5).shuffled(3);
        long[][] l = ds.batch(2, 4);
        int[][] i = ds.batchInt(2, 4);
        int[] ids = ds.batchIds(2, 4);
        for (int b = 0; b < 4; b++) {
            assertArrayEquals(Arrays.stream(i[b]).asLongStream().toArray(), l[b]);
            assertArrayEquals(ds.sample(2 + b), l[b]);
            assertEquals(ds.sampleId(2 + b), ids[b]);
            // a sample is the window at its id in the stream
            long[] stream = ds.streamTokens();
            assertArrayEquals(Arrays.copyOfRange(stream, ids[b] * 5, ids[b] * 5 + 6), l[b]);
        }
        assertEquals(ds.size() / 4, ds.numBatches(4));
        assertThrows(IndexOutOfBoundsException.class, () -> ds.batch(ds.size() - 1, 2));
    }

    @Test
    void shuffleIsDeterministicBySeed() {
        TokenDataset ds = TokenDataset.pack(DOCS, CHARS, 0, 2);
        int[] a = ds.shuffled(42).sampleIds();
        int[] b = ds.shuffled(42).sampleIds();
        int[] c = ds.shuffled(43).sampleIds();
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
        assertFalse(Arrays.equals(a, ds.sampleIds()));
        // a permutation of all samples
        int[] sorted = a.clone();
        Arrays.sort(sorted);
        assertArrayEquals(ds.sampleIds(), sorted);
        // java.util.Random is specified, so this order is the same on every JVM (golden value
        // from an independent Python re-implementation of its LCG and nextInt)
        TokenDataset ten = TokenDataset.fromTokens(
                java.util.stream.LongStream.range(0, 11).toArray(), 1);
        assertArrayEquals(new int[] {0, 1, 9, 3, 7, 4, 8, 5, 2, 6}, ten.shuffled(7).sampleIds());
        // head keeps the shuffled ids
        assertArrayEquals(Arrays.copyOf(a, 3), ds.shuffled(42).head(3).sampleIds());
    }

    @Test
    void contentHashIsStableAndIgnoresTheShuffle() {
        // golden value computed independently in Python:
        // sha256(b"".join(struct.pack("<i", t) for i in range(4) for t in s[4*i:4*i+5]))
        // with s = range(100, 120)
        TokenDataset ds = TokenDataset.fromTokens(
                java.util.stream.LongStream.range(100, 120).toArray(), 4);
        assertEquals(4, ds.size());
        assertEquals(3, ds.droppedTokens());
        assertEquals("281105c8ac066b90bca363c7d2e9ccf7564a5e6c5e14b4c9416daf5b159d2f18",
                ds.contentHash());
        assertEquals(ds.contentHash(), ds.shuffled(1).contentHash());
        TokenDataset p1 = TokenDataset.pack(DOCS, CHARS, 0, 4);
        TokenDataset p2 = TokenDataset.pack(DOCS, CHARS, 0, 4);
        assertEquals(p1.contentHash(), p2.contentHash());
        assertFalse(p1.contentHash().equals(TokenDataset.pack(DOCS, CHARS, 0, 5).contentHash()));
        assertFalse(p1.contentHash().equals(
                TokenDataset.pack(DOCS.subList(1, DOCS.size()), CHARS, 0, 4).contentHash()));
    }

    @Test
    void seqLenBeyondTheModelContextIsAClearError() {
        TokenDataset ds = TokenDataset.pack(DOCS, CHARS, 0, 16);
        assertEquals(ds, ds.checkContext(16));
        DataException e = assertThrows(DataException.class, () -> ds.checkContext(8));
        assertTrue(e.getMessage().contains("16") && e.getMessage().contains("8")
                && e.getMessage().contains("context"), e.getMessage());
        assertThrows(DataException.class, () -> TokenDataset.checkSeqLen(2048, 1024));
        TokenDataset.checkSeqLen(1024, 1024);
    }

    @Test
    void tooLittleTextIsAClearError() {
        DataException e = assertThrows(DataException.class,
                () -> TokenDataset.pack(List.of("ab"), CHARS, 0, 8));
        assertTrue(e.getMessage().contains("3 tokens") && e.getMessage().contains("9"),
                e.getMessage());
        assertThrows(DataException.class, () -> TokenDataset.pack(DOCS, CHARS, 0, 0));
        assertThrows(DataException.class,
                () -> TokenDataset.pack(DOCS, s -> new long[] {-1}, 0, 2));
    }

    @Test
    void packsTheCommittedValidationSliceWithTheCommittedTokenizer() {
        Corpus validation = Corpus.read(RepoData.corpus(), Corpus.Split.VALIDATION);
        try (Tokenizer tok = Tokenizer.load(RepoData.tokenizerJson())) {
            TokenDataset ds = TokenDataset.pack(validation.documents(), tok, 256);
            long expected = 0;
            for (String d : validation.documents()) expected += tok.encode(d).length + 1;
            assertEquals(expected, ds.streamLength());
            long eos = Arrays.stream(ds.streamTokens()).filter(t -> t == 0).count();
            assertEquals(validation.size(), eos);
            // the first sample decodes to the start of the first document
            String first = tok.decode(TokenDataset.inputs(ds.batch(0, 1))[0]);
            assertTrue(validation.document(0).startsWith(first), first);
            assertEquals(ds.contentHash(),
                    TokenDataset.pack(validation.documents(), tok, 256).contentHash());
        }
    }
}
