package ai.minitron.tokenize;

import ai.minitron.io.Sha256;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Trains a GPT-2 style byte-level BPE tokenizer.
 *
 * <p>The text is split around special tokens, pre-tokenized with {@link ByteLevel#split} and
 * counted as words; every word starts as its UTF-8 bytes (all 256 byte symbols are always in the
 * vocabulary, so any text encodes). Then, until the vocabulary reaches {@code vocabSize}, the most
 * frequent adjacent pair (weighted by word count) is merged. Ties are broken by the smaller (left
 * id, right id), and ids are assigned deterministically (specials, then bytes in byte order, then
 * merged tokens in learning order), so the same text always gives the same tokenizer.
 *
 * <p>Pair counts are updated incrementally: a merge only touches the words that contain the pair
 * (an index from pair to words) and only the neighbouring pairs in them; a lazily-validated
 * priority queue yields the next best pair. Training stops early if no pair occurs at least
 * {@code minFrequency} times (default 2), so a small text can give a smaller vocabulary than asked.
 *
 * <p>Special tokens take ids {@code 0..k-1}; with the default list {@code <|endoftext|>} is id 0.
 */
public final class BpeTrainer {

    /** The document separator and end-of-sequence token of the project's tokenizer. */
    public static final String ENDOFTEXT = "<|endoftext|>";

    private final int vocabSize;
    private final List<String> specials;
    private final int minFrequency;

    public BpeTrainer(int vocabSize, List<String> specials) {
        this(vocabSize, specials, 2);
    }

    public BpeTrainer(int vocabSize, List<String> specials, int minFrequency) {
        if (new HashSet<>(specials).size() != specials.size()) {
            throw new IllegalArgumentException("duplicate special tokens: " + specials);
        }
        for (String s : specials) {
            if (s.isEmpty()) throw new IllegalArgumentException("empty special token");
        }
        if (vocabSize < specials.size() + 256) {
            throw new IllegalArgumentException("vocabSize " + vocabSize + " is smaller than the "
                    + specials.size() + " special tokens + 256 byte symbols");
        }
        if (minFrequency < 1) throw new IllegalArgumentException("minFrequency must be >= 1");
        this.vocabSize = vocabSize;
        this.specials = List.copyOf(specials);
        this.minFrequency = minFrequency;
    }

    /** Trains on the given texts (each split around special tokens, then pre-tokenized). */
    public ByteLevelBpe train(Iterable<String> texts) {
        Map<String, long[]> counts = new HashMap<>();
        for (String text : texts) {
            for (String[] seg : ByteLevelBpe.splitSpecials(text, specials)) {
                if (seg[1] != null) continue;
                for (String piece : ByteLevel.split(seg[0])) {
                    counts.computeIfAbsent(piece, k -> new long[1])[0]++;
                }
            }
        }
        return trainWords(counts);
    }

    /**
     * Reads UTF-8 text files and trains on them with {@link #ENDOFTEXT}-style specials cut out.
     *
     * @param files text files (e.g. data/corpus/train.txt); must be valid UTF-8
     * @param vocabSize total ids, specials and the 256 byte symbols included
     * @param specials special tokens, ids 0..k-1
     */
    public static ByteLevelBpe trainFromFiles(List<Path> files, int vocabSize,
            List<String> specials) throws IOException {
        List<String> texts = new ArrayList<>();
        for (Path f : files) texts.add(readUtf8(f));
        return new BpeTrainer(vocabSize, specials).train(texts);
    }

    // ------------------------------------------------------------------------------------------

    private record Entry(long count, long pair) {}

    private ByteLevelBpe trainWords(Map<String, long[]> pieceCounts) {
        int k = specials.size();
        List<String> vocab = new ArrayList<>(specials);
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < k; i++) ids.put(specials.get(i), i);
        for (int b = 0; b < 256; b++) {
            String s = String.valueOf(ByteLevel.byteChar(b));
            if (ids.containsKey(s)) {
                throw new IllegalArgumentException("special token '" + s
                        + "' collides with a byte symbol");
            }
            ids.put(s, vocab.size());
            vocab.add(s);
        }

        List<String> pieces = new ArrayList<>(pieceCounts.keySet());
        pieces.sort(null);
        int nWords = pieces.size();
        int[][] words = new int[nWords][];
        long[] wordCount = new long[nWords];
        for (int w = 0; w < nWords; w++) {
            byte[] bytes = pieces.get(w).getBytes(StandardCharsets.UTF_8);
            int[] sym = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) sym[i] = k + (bytes[i] & 0xFF);
            words[w] = sym;
            wordCount[w] = pieceCounts.get(pieces.get(w))[0];
        }

        Map<Long, Long> pairCount = new HashMap<>();
        Map<Long, Set<Integer>> where = new HashMap<>();
        for (int w = 0; w < nWords; w++) {
            int[] s = words[w];
            for (int i = 0; i + 1 < s.length; i++) {
                long p = ByteLevelBpe.pairKey(s[i], s[i + 1]);
                pairCount.merge(p, wordCount[w], Long::sum);
                where.computeIfAbsent(p, x -> new HashSet<>()).add(w);
            }
        }
        // highest count first; ties: smaller (left, right) first (ids are non-negative)
        PriorityQueue<Entry> queue = new PriorityQueue<>((x, y) -> x.count != y.count
                ? Long.compare(y.count, x.count) : Long.compare(x.pair, y.pair));
        pairCount.forEach((p, c) -> queue.add(new Entry(c, p)));

        List<int[]> merges = new ArrayList<>();
        Set<Long> merged = new HashSet<>();
        Map<Long, Long> delta = new HashMap<>();
        while (vocab.size() < vocabSize && !queue.isEmpty()) {
            Entry e = queue.poll();
            long current = pairCount.getOrDefault(e.pair, 0L);
            if (current == 0) continue;
            if (current != e.count) { // stale entry: requeue with the real count
                queue.add(new Entry(current, e.pair));
                continue;
            }
            if (current < minFrequency) break;
            int a = (int) (e.pair >>> 32);
            int b = (int) e.pair;
            String token = vocab.get(a) + vocab.get(b);
            Integer nid = ids.get(token);
            if (nid == null) {
                nid = vocab.size();
                vocab.add(token);
                ids.put(token, nid);
            }
            if (merged.add(e.pair)) merges.add(new int[] {a, b});

            Set<Integer> affected = where.remove(e.pair);
            pairCount.remove(e.pair);
            delta.clear();
            for (int w : affected) {
                words[w] = mergeWord(words[w], a, b, nid, wordCount[w], e.pair, w, delta, where);
            }
            for (Map.Entry<Long, Long> d : delta.entrySet()) {
                long c = pairCount.getOrDefault(d.getKey(), 0L) + d.getValue();
                if (c > 0) {
                    pairCount.put(d.getKey(), c);
                    if (d.getValue() > 0) queue.add(new Entry(c, d.getKey()));
                } else {
                    pairCount.remove(d.getKey());
                }
            }
        }
        return new ByteLevelBpe(specials, vocab, merges);
    }

    /**
     * Merges every (a, b) in one word left to right; records the count changes of the
     * neighbouring pairs in {@code delta} (the merged pair itself is dropped globally) and indexes
     * the word under every pair it gains.
     */
    private static int[] mergeWord(int[] s, int a, int b, int nid, long c, long mergedPair,
            int w, Map<Long, Long> delta, Map<Long, Set<Integer>> where) {
        int n = s.length;
        int[] out = new int[n];
        int m = 0;
        boolean changed = false;
        for (int i = 0; i < n; ) {
            if (i + 1 < n && s[i] == a && s[i + 1] == b) {
                if (m > 0) {
                    int prev = out[m - 1];
                    change(delta, ByteLevelBpe.pairKey(prev, a), -c, mergedPair);
                    long gained = ByteLevelBpe.pairKey(prev, nid);
                    change(delta, gained, c, mergedPair);
                    where.computeIfAbsent(gained, x -> new HashSet<>()).add(w);
                }
                if (i + 2 < n) {
                    int next = s[i + 2];
                    change(delta, ByteLevelBpe.pairKey(b, next), -c, mergedPair);
                    long gained = ByteLevelBpe.pairKey(nid, next);
                    change(delta, gained, c, mergedPair);
                    where.computeIfAbsent(gained, x -> new HashSet<>()).add(w);
                }
                out[m++] = nid;
                i += 2;
                changed = true;
            } else {
                out[m++] = s[i++];
            }
        }
        return changed ? java.util.Arrays.copyOf(out, m) : s;
    }

    private static void change(Map<Long, Long> delta, long pair, long by, long mergedPair) {
        if (pair != mergedPair) delta.merge(pair, by, Long::sum);
    }

    static String readUtf8(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IOException(file + ": not valid UTF-8", e);
        }
    }

    static String sha256(List<Path> files) throws IOException {
        MessageDigest md = Sha256.digest();
        for (Path f : files) md.update(Files.readAllBytes(f));
        return Sha256.hex(md);
    }

    /**
     * Command line: {@code BpeTrainer [--vocab-size N] [--special TOKEN]... --out tokenizer.json
     * FILE...}. Defaults: vocab 8192, special {@code <|endoftext|>}.
     */
    public static void main(String[] args) throws IOException {
        int vocab = 8192;
        List<String> specials = new ArrayList<>();
        Path out = null;
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--vocab-size" -> vocab = Integer.parseInt(args[++i]);
                case "--special" -> specials.add(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> files.add(Path.of(args[i]));
            }
        }
        if (out == null || files.isEmpty()) {
            System.err.println("usage: BpeTrainer [--vocab-size N] [--special TOKEN]... "
                    + "--out tokenizer.json FILE...");
            System.exit(2);
        }
        if (specials.isEmpty()) specials.add(ENDOFTEXT);
        long t0 = System.nanoTime();
        ByteLevelBpe bpe = trainFromFiles(files, vocab, specials);
        double secs = (System.nanoTime() - t0) / 1e9;
        bpe.save(out);
        System.out.printf("trained %d ids (%d merges) in %.2f s from %s (sha256 %s) -> %s%n",
                bpe.vocabSize(), bpe.merges().size(), secs, files, sha256(files), out);
    }
}
