package ai.minitron.eval;

import ai.djl.ndarray.NDManager;
import ai.minitron.data.Corpus;
import ai.minitron.model.LanguageModel;
import ai.minitron.tokenize.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One model, one tokenizer, every evaluation: the notebook-sized entry point to this package.
 *
 * <pre>{@code
 * var ev = new Evaluator(lm, tok, manager);
 * ev.documentPerplexity(Corpus.read(Path.of("data/corpus/test.txt")), 256).bitsPerByte();
 * ev.task(Path.of("data/tasks/moby_continuation.jsonl"), 0);      // -> EvalRecords: acc, acc_norm
 * ModelCard.update(Path.of("out/student"), ev.records());         // everything measured so far
 * }</pre>
 *
 * Each call also keeps its results as {@link EvalRecord}s ({@link #records()}), ready for a
 * {@link ModelCard}. The model, tokenizer and manager stay owned by the caller.
 */
public final class Evaluator {
    private final LanguageModel lm;
    private final Tokenizer tok;
    private final NDManager m;
    private int batchSize = 8;
    private final List<EvalRecord> records = new ArrayList<>();

    public Evaluator(LanguageModel lm, Tokenizer tok, NDManager m) {
        lm.checkVocab(tok);
        this.lm = lm;
        this.tok = tok;
        this.m = m;
    }

    /** Sequences (windows, choices) per forward pass; default 8. */
    public Evaluator batchSize(int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        this.batchSize = batchSize;
        return this;
    }

    /** The documents as one token stream, each followed by the end-of-text token (when the tokenizer has one). */
    public static long[] stream(Corpus corpus, Tokenizer tok) {
        Integer eos = tok.eosTokenId();
        List<long[]> parts = new ArrayList<>();
        long total = 0;
        for (String doc : corpus.documents()) {
            long[] ids = tok.encode(doc);
            parts.add(ids);
            total += ids.length + (eos != null ? 1 : 0);
        }
        long[] out = new long[Math.toIntExact(total)];
        int at = 0;
        for (long[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
            if (eos != null) {
                out[at++] = eos;
            }
        }
        return out;
    }

    /** Token protocol ({@link Perplexity#windowed}) over the documents joined by end-of-text. */
    public Perplexity.Result tokenPerplexity(Corpus text, int seqLen) {
        Perplexity.Result r = Perplexity.windowed(lm.config(), lm.weights(), m, stream(text, tok), seqLen, batchSize, null);
        keep(text, r);
        return r;
    }

    /** Sliding protocol ({@link Perplexity#sliding}) over the documents joined by end-of-text. */
    public Perplexity.Result slidingPerplexity(Corpus text, int seqLen, int stride) {
        Perplexity.Result r = Perplexity.sliding(lm.config(), lm.weights(), m, stream(text, tok), seqLen, stride, batchSize, null);
        keep(text, r);
        return r;
    }

    /** Document protocol ({@link Perplexity#documents}). */
    public Perplexity.DocumentResult documentPerplexity(Corpus text, int seqLen) {
        Perplexity.DocumentResult r = Perplexity.documents(lm.config(), lm.weights(), m, text.documents(), tok, seqLen,
                batchSize, null);
        records.addAll(records(name(text), source(text), r));
        return r;
    }

    /** Runs a task file (first {@code limit} items, 0 = all) and returns its records. */
    public List<EvalRecord> task(Path jsonl, int limit) {
        TaskFile.Task t = TaskFile.read(jsonl).limit(limit);
        List<EvalRecord> out = t.kind() == TaskFile.Kind.MULTIPLE_CHOICE
                ? multipleChoice(t).records(jsonl.toString())
                : lastWord(t).records(jsonl.toString());
        records.addAll(out);
        return out;
    }

    /** Multiple-choice results with per-item detail (not added to {@link #records()}; see {@link #task}). */
    public MultipleChoice.Result multipleChoice(TaskFile.Task t) {
        return MultipleChoice.evaluate(lm.config(), lm.weights(), m, tok, t.name(), t.multipleChoice(), batchSize, null);
    }

    /** Last-word results with per-item detail (not added to {@link #records()}; see {@link #task}). */
    public LastWord.Result lastWord(TaskFile.Task t) {
        return LastWord.evaluate(lm.config(), lm.weights(), m, tok, t.name(), t.lastWord(), batchSize, null);
    }

    /** Everything measured through this evaluator so far, in order. */
    public List<EvalRecord> records() {
        return List.copyOf(records);
    }

    /** Model-card rows of a document-protocol result. */
    public static List<EvalRecord> records(String task, String source, Perplexity.DocumentResult r) {
        return List.of(
                new EvalRecord(task, "word_perplexity", r.wordPerplexity(), Double.NaN, r.words(), r.protocol(), source),
                new EvalRecord(task, "byte_perplexity", r.bytePerplexity(), Double.NaN, r.bytes(), r.protocol(), source),
                new EvalRecord(task, "bits_per_byte", r.bitsPerByte(), Double.NaN, r.bytes(), r.protocol(), source),
                new EvalRecord(task, "token_perplexity", r.tokenPerplexity(), Double.NaN, r.tokens(), r.protocol(), source));
    }

    /** Model-card row of a token- or sliding-protocol result. */
    public static EvalRecord record(String task, String source, Perplexity.Result r) {
        return new EvalRecord(task, "perplexity", r.perplexity(), Double.NaN, r.tokensScored(), r.protocol(), source);
    }

    private void keep(Corpus text, Perplexity.Result r) {
        records.add(record(name(text), source(text), r));
    }

    private static String name(Corpus text) {
        return text.path() == null ? "text" : text.path().getFileName().toString();
    }

    private static String source(Corpus text) {
        return text.path() == null ? "" : text.path().toString();
    }
}
