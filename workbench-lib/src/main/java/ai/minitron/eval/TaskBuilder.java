package ai.minitron.eval;

import ai.minitron.data.Corpus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Builds the shipped evaluation tasks from a held-out split (by default {@code data/corpus/test.txt},
 * Moby-Dick chapters the models never train on), deterministically from a seed. Rules, in the
 * vocabulary of {@link Passages} (paragraphs, sentences, words = whitespace-separated):
 *
 * <p><b>moby_lastword</b> (LAMBADA-style, {@link LastWordItem}): a candidate is a paragraph whose
 * last whitespace-separated token, without its trailing non-alphanumeric characters, is a word of
 * 2..20 letters (no digits, apostrophes, hyphens or leading quotes) with 40..200 words before it.
 * Context = the paragraph up to that word, trailing whitespace removed; target = the word.
 * Candidates (in corpus order) are shuffled with {@code java.util.Random(seed)} and the first
 * {@code size} kept, in that shuffled order.
 *
 * <p><b>moby_continuation</b> (4-way multiple choice, {@link MultipleChoiceItem}): a candidate is a
 * sentence (not the first of its paragraph) of 6..50 words whose context, the longest run of
 * directly preceding sentences of the same paragraph with at most 150 words, has at least 25
 * words. Candidates are shuffled with {@code Random(seed)}; walking the shuffled list, the first
 * candidate of each paragraph is kept until {@code size} items. Then, per item in that order and
 * with the same generator: three distractors drawn uniformly without replacement among the
 * sentences of 6..50 words from <em>other</em> documents (chapters) of the split whose length in
 * characters is within [0.5, 2] times the true sentence's, and distinct from it and each other;
 * the true sentence's position is {@code nextInt(4)}. The choices follow the context after lm-eval's
 * default delimiter {@code " "}.
 *
 * <p>Run: {@code java -cp <classpath> ai.minitron.eval.TaskBuilder --corpus data/corpus/test.txt
 * --out data/tasks [--seed 1234] [--size 400]}; the committed files are checked to be reproducible
 * by a test.
 */
public final class TaskBuilder {
    private TaskBuilder() {}

    public static final long DEFAULT_SEED = 1234;
    public static final int DEFAULT_SIZE = 400;
    public static final String LAST_WORD_TASK = "moby_lastword";
    public static final String CONTINUATION_TASK = "moby_continuation";

    static final int LW_MIN_CONTEXT_WORDS = 40;
    static final int LW_MAX_CONTEXT_WORDS = 200;
    static final int LW_MAX_TARGET_LETTERS = 20;
    static final int MC_MIN_CONTEXT_WORDS = 25;
    static final int MC_MAX_CONTEXT_WORDS = 150;
    static final int MC_MIN_SENTENCE_WORDS = 6;
    static final int MC_MAX_SENTENCE_WORDS = 50;
    static final int MC_CHOICES = 4;

    /** Last-word candidates of one paragraph: the item, or null when the paragraph does not qualify. */
    static LastWordItem lastWordOf(String paragraph, String id) {
        int tokenStart = paragraph.length();
        while (tokenStart > 0 && !Character.isWhitespace(paragraph.charAt(tokenStart - 1))) {
            tokenStart--;
        }
        if (tokenStart == 0) {
            return null;
        }
        String token = paragraph.substring(tokenStart);
        int end = token.length();
        while (end > 0 && !Character.isLetterOrDigit(token.charAt(end - 1))) {
            end--;
        }
        String target = token.substring(0, end);
        if (target.length() < 2 || target.length() > LW_MAX_TARGET_LETTERS || !target.chars().allMatch(Character::isLetter)) {
            return null;
        }
        String context = paragraph.substring(0, tokenStart).stripTrailing();
        int words = Passages.words(context);
        if (words < LW_MIN_CONTEXT_WORDS || words > LW_MAX_CONTEXT_WORDS) {
            return null;
        }
        return new LastWordItem(id, context, target);
    }

    public static List<LastWordItem> lastWord(Corpus corpus, String source, long seed, int size) {
        List<LastWordItem> candidates = new ArrayList<>();
        List<String> docs = corpus.documents();
        for (int d = 0; d < docs.size(); d++) {
            List<String> paras = Passages.paragraphs(docs.get(d));
            for (int p = 0; p < paras.size(); p++) {
                LastWordItem item = lastWordOf(paras.get(p), source + "/d" + d + "/p" + p);
                if (item != null) {
                    candidates.add(item);
                }
            }
        }
        Collections.shuffle(candidates, new Random(seed));
        return List.copyOf(candidates.subList(0, Math.min(size, candidates.size())));
    }

    private record Sentence(int doc, int paragraph, int index, String text, int chars) {}

    private record Candidate(int doc, int paragraph, int index, String context, String gold) {}

    public static List<MultipleChoiceItem> continuation(Corpus corpus, String source, long seed, int size) {
        List<Sentence> pool = new ArrayList<>();
        List<Candidate> candidates = new ArrayList<>();
        List<String> docs = corpus.documents();
        for (int d = 0; d < docs.size(); d++) {
            List<String> paras = Passages.paragraphs(docs.get(d));
            for (int p = 0; p < paras.size(); p++) {
                String para = paras.get(p);
                List<Passages.Span> spans = Passages.sentences(para);
                for (int i = 0; i < spans.size(); i++) {
                    String s = spans.get(i).of(para);
                    int words = Passages.words(s);
                    if (words < MC_MIN_SENTENCE_WORDS || words > MC_MAX_SENTENCE_WORDS) {
                        continue;
                    }
                    pool.add(new Sentence(d, p, i, s, s.codePointCount(0, s.length())));
                    if (i == 0) {
                        continue;
                    }
                    int j = i; // context = sentences j..i-1
                    while (j > 0 && Passages.words(para.substring(spans.get(j - 1).start(), spans.get(i - 1).end()))
                            <= MC_MAX_CONTEXT_WORDS) {
                        j--;
                    }
                    if (j == i) {
                        continue; // the preceding sentence alone is too long
                    }
                    String context = para.substring(spans.get(j).start(), spans.get(i - 1).end());
                    if (Passages.words(context) >= MC_MIN_CONTEXT_WORDS) {
                        candidates.add(new Candidate(d, p, i, context, s));
                    }
                }
            }
        }
        Random rng = new Random(seed);
        Collections.shuffle(candidates, rng);
        List<Candidate> chosen = new ArrayList<>();
        Set<Long> usedParagraphs = new HashSet<>();
        for (Candidate c : candidates) {
            if (chosen.size() == size) {
                break;
            }
            if (usedParagraphs.add(((long) c.doc() << 32) | c.paragraph())) {
                chosen.add(c);
            }
        }
        List<MultipleChoiceItem> items = new ArrayList<>(chosen.size());
        for (Candidate c : chosen) {
            int len = c.gold().codePointCount(0, c.gold().length());
            List<String> eligible = new ArrayList<>();
            for (Sentence s : pool) {
                if (s.doc() != c.doc() && 2 * s.chars() >= len && s.chars() <= 2 * len && !s.text().equals(c.gold())) {
                    eligible.add(s.text());
                }
            }
            Set<String> picked = new HashSet<>();
            List<String> choices = new ArrayList<>();
            if (new HashSet<>(eligible).size() < MC_CHOICES - 1) {
                throw new IllegalStateException("too few distractor sentences for " + c);
            }
            while (choices.size() < MC_CHOICES - 1) {
                String s = eligible.get(rng.nextInt(eligible.size()));
                if (picked.add(s)) {
                    choices.add(s);
                }
            }
            int gold = rng.nextInt(MC_CHOICES);
            choices.add(gold, c.gold());
            items.add(new MultipleChoiceItem(source + "/d" + c.doc() + "/p" + c.paragraph() + "/s" + c.index(),
                    c.context(), choices, gold));
        }
        return items;
    }

    /** Writes {@code <out>/moby_lastword.jsonl} and {@code <out>/moby_continuation.jsonl}. */
    public static void build(Path corpusFile, Path outDir, long seed, int size) throws IOException {
        Corpus corpus = Corpus.read(corpusFile);
        String source = corpusFile.getFileName().toString();
        Files.createDirectories(outDir);
        List<LastWordItem> lw = lastWord(corpus, source, seed, size);
        List<MultipleChoiceItem> mc = continuation(corpus, source, seed, size);
        TaskFile.write(outDir.resolve(LAST_WORD_TASK + ".jsonl"), lw);
        TaskFile.write(outDir.resolve(CONTINUATION_TASK + ".jsonl"), mc);
        System.out.println(outDir.resolve(LAST_WORD_TASK + ".jsonl") + ": " + lw.size() + " items");
        System.out.println(outDir.resolve(CONTINUATION_TASK + ".jsonl") + ": " + mc.size() + " items");
    }

    public static void main(String[] args) throws Exception {
        Path corpus = Path.of("data/corpus/test.txt");
        Path out = Path.of("data/tasks");
        long seed = DEFAULT_SEED;
        int size = DEFAULT_SIZE;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                usage("missing value after " + a);
            }
            switch (a) {
                case "--corpus" -> corpus = Path.of(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--size" -> size = Integer.parseInt(args[++i]);
                default -> usage("unknown option " + a);
            }
        }
        build(corpus, out, seed, size);
    }

    private static void usage(String problem) {
        System.err.println("error: " + problem);
        System.err.println("usage: TaskBuilder [--corpus data/corpus/test.txt] [--out data/tasks] [--seed 1234] [--size 400]");
        System.exit(2);
    }
}
