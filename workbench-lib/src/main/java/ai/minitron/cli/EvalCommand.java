package ai.minitron.cli;

import ai.djl.ndarray.NDManager;
import ai.minitron.cluster.Cluster;
import ai.minitron.cluster.ModelRef;
import ai.minitron.data.Corpus;
import ai.minitron.model.Provenance;
import ai.minitron.eval.TokenScorer;
import ai.minitron.eval.EvalRecord;
import ai.minitron.eval.Evaluator;
import ai.minitron.eval.LastWord;
import ai.minitron.eval.MultipleChoice;
import ai.minitron.eval.Report;
import ai.minitron.eval.TaskFile;
import ai.minitron.eval.ModelCard;
import ai.minitron.eval.Perplexity;
import ai.minitron.eval.UnigramBaseline;
import ai.minitron.model.LanguageModel;
import ai.minitron.tokenize.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine;
import ai.minitron.io.OutputDir;
import ai.minitron.io.OutputLock;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code minitron eval}: one or several models on the same evaluations, each number printed with its
 * protocol. Perplexity of a text file under a stated protocol ({@link Perplexity}): token-level fixed
 * windows (default), sliding windows with a stride (Hugging Face's convention), or whole documents with
 * word- and byte-level perplexity (lm-evaluation-harness's convention); and, with {@code --tasks},
 * downstream tasks ({@link TaskFile}). With {@code --out}, a side-by-side {@link Report} of all models.
 */
@Command(name = "eval", description = "Evaluate one or more models: perplexity (protocol printed with the result) and JSONL tasks;"
        + " --out writes a side-by-side report (Arrow, Markdown, HTML).")
final class EvalCommand implements Callable<Integer> {
    /** Task names that resolve to the embedded default's files (run from the repository root). */
    static final Map<String, String> NAMED_TASKS = Map.of(
            "lastword", "data/tasks/moby_lastword.jsonl",
            "continuation", "data/tasks/moby_continuation.jsonl");
    static final String DEFAULT_TEXT = "data/corpus/test.txt";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, description = "Checkpoint directory (with tokenizer.json); repeat for several models.")
    List<Path> models;

    @Option(names = "--text", description = "UTF-8 text for perplexity; documents may be separated by <|endoftext|> lines"
            + " (default with --tasks ppl: " + DEFAULT_TEXT + ").")
    Path text;

    @Option(names = "--tasks", split = ",", description = "Comma-separated: ppl (perplexity of --text under --protocol), lastword ("
            + "data/tasks/moby_lastword.jsonl), continuation (data/tasks/moby_continuation.jsonl), or FILE.jsonl. Default: ppl.")
    List<String> tasks;

    @Option(names = "--out", description = "Write report.arrow, report.md and report.html (all models side by side) here.")
    Path out;

    @Mixin
    OutputOptions output;

    @Mixin
    ClusterOptions cluster;

    private Cluster cl; // with --spark: where the forward passes run

    @Option(names = "--limit", defaultValue = "0", description = "Use only the first N items of each task file (0 = all).")
    int limit;

    @Option(names = "--protocol", defaultValue = "token", description = "token (non-overlapping windows), sliding (windows every"
            + " --stride tokens, HF convention) or document (whole documents: word/byte perplexity, bits per byte, lm-eval"
            + " convention). Default ${DEFAULT-VALUE}.")
    String protocol;

    @Option(names = "--seq-len", defaultValue = "256", description = "Context window in tokens (default ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--stride", description = "With --protocol sliding: tokens between window starts, 1..seq-len (default seq-len/2).")
    Integer stride;

    @Option(names = "--batch-size", defaultValue = "8", description = "Windows per forward pass (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--tokenizer", description = "tokenizer.json to use instead of the checkpoints' own.")
    Path tokenizerPath;

    @Option(names = "--unigram-from", description = "Also report a unigram (add-one) baseline counted on this text, e.g. the train split.")
    Path unigramFrom;

    @Option(names = "--card", description = "Also record the results in the model card of this directory (README.md,"
            + " eval_results.json, eval_results.arrow), e.g. the checkpoint directory. One --model only.")
    Path card;

    private Path model; // the model being evaluated
    private ModelRef ref; // the same, as the cluster's workers find it (with --spark)

    @Override
    public Integer call() {
        if (!List.of("token", "sliding", "document").contains(protocol)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--protocol must be token, sliding or document, got '" + protocol + "'");
        }
        if (seqLen < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--seq-len must be >= 1, got " + seqLen);
        }
        if (batchSize < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--batch-size must be >= 1, got " + batchSize);
        }
        if (stride != null && !protocol.equals("sliding")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--stride applies to --protocol sliding only");
        }
        if (card != null && models.size() > 1) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--card records one model's results; with " + models.size() + " models use --out for a report");
        }
        List<String> taskList = tasks == null || tasks.isEmpty() ? List.of("ppl") : tasks;
        Corpus corpus = null;
        List<TaskFile.Task> files = new ArrayList<>();
        for (String t : taskList) {
            String name = t.trim();
            if (!name.equals("ppl") && !NAMED_TASKS.containsKey(name) && !name.endsWith(".jsonl")) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--tasks: unknown task '" + name
                        + "'; choose from ppl, " + String.join(", ", new TreeSet<>(NAMED_TASKS.keySet())) + " or a FILE.jsonl");
            }
        }
        for (String t : taskList) { // every input is read and checked before any model loads
            String name = t.trim();
            if (name.equals("ppl")) {
                if (text == null) {
                    text = Path.of(DEFAULT_TEXT);
                }
                corpus = Corpus.read(text);
            } else {
                files.add(TaskFile.read(Path.of(NAMED_TASKS.getOrDefault(name, name))).limit(limit));
            }
        }
        if (corpus == null && text != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--text is used by the ppl task; add ppl to --tasks");
        }
        Report report = new Report();
        cl = cluster.enabled() ? cluster.open() : null;
        try {
            evaluate(report, corpus, files);
        } finally {
            if (cl != null) {
                cl.close();
            }
        }
        if (models.size() > 1) {
            System.out.println(report.markdown());
        }
        if (out != null) {
            try (OutputLock lock = OutputOptions.lock(out)) {
                output.check(out, OutputKind.EVAL, null);
                OutputDir.replace(out, OutputKind.EVAL.key, null, report::write);
            }
            System.out.println("report      " + out.resolve("report.md") + " (+ report.arrow, report.html)");
        }
        return 0;
    }

    /** Every model on every evaluation, into the report. */
    private void evaluate(Report report, Corpus corpus, List<TaskFile.Task> files) {
        for (Path dir : models) {
            model = dir;
            ref = cl == null ? null : ModelRef.of(dir, Provenance.checkpointHash(dir));
            List<EvalRecord> records = new ArrayList<>();
            try (NDManager m = NDManager.newBaseManager(); LanguageModel lm = LanguageModel.load(dir, m);
                    Tokenizer tok = lm.openTokenizer(tokenizerPath)) {
                if (corpus != null) {
                    UnigramBaseline unigram = unigramFrom == null ? null
                            : new UnigramBaseline(Evaluator.stream(Corpus.read(unigramFrom), tok), lm.config().vocabSize());
                    records.addAll(protocol.equals("document")
                            ? documents(lm, m, corpus, tok, unigram)
                            : windows(lm, m, corpus, tok, unigram));
                }
                Evaluator ev = new Evaluator(lm, tok, m).batchSize(batchSize);
                for (TaskFile.Task t : files) {
                    records.addAll(task(ev, lm, tok, t));
                }
            }
            requireFinite(dir, records);
            report.add(reportName(dir), records);
            if (card != null) {
                ModelCard.update(card, records);
                System.out.println("card        " + card.resolve("README.md") + " (+ " + ModelCard.RESULTS_JSON + ", "
                        + ModelCard.RESULTS_ARROW + ")");
            }
            System.out.println();
        }
    }

    /** Refuses (exit 1) a non-finite metric: NaN or infinite outputs are never reported as a result. */
    static void requireFinite(Path dir, List<EvalRecord> records) {
        for (EvalRecord r : records) {
            if (!Double.isFinite(r.value())) {
                throw new IllegalStateException(dir + ": " + r.task() + " " + r.metric() + " is " + r.value()
                        + " (the model's outputs are not finite): nothing recorded");
            }
        }
    }

    /** A task file through the evaluator, printed as it would be by eval-tasks. */
    private List<EvalRecord> task(Evaluator ev, LanguageModel lm, Tokenizer tok, TaskFile.Task t) {
        System.out.println("model       " + model);
        if (t.kind() == TaskFile.Kind.MULTIPLE_CHOICE) {
            MultipleChoice.Result r = cl == null ? ev.multipleChoice(t)
                    : MultipleChoice.evaluate(lm.config(), tok, t.name(), t.multipleChoice(), cl.scorer(ref, batchSize));
            System.out.println("task        " + t.name() + " (" + t.path() + ": multiple choice, " + t.multipleChoice().size() + " items)");
            System.out.println("protocol    " + MultipleChoice.PROTOCOL);
            System.out.println("acc         " + r.acc());
            System.out.println("acc_norm    " + r.accNorm());
            return r.records(t.path().toString());
        }
        LastWord.Result r = cl == null ? ev.lastWord(t)
                : LastWord.evaluate(lm.config(), tok, t.name(), t.lastWord(), batchSize,
                        cl.generator(ref, (tokenizerPath != null ? tokenizerPath : lm.tokenizerJson()).toAbsolutePath()
                                .toString(), batchSize), cl.scorer(ref, batchSize));
        System.out.println("task        " + t.name() + " (" + t.path() + ": last word, " + t.lastWord().size() + " items)");
        System.out.println("protocol    " + LastWord.PROTOCOL_EXACT);
        System.out.println("exact_match " + r.exactMatch());
        System.out.println("protocol    " + LastWord.PROTOCOL_LMEVAL);
        System.out.println("acc         " + r.acc());
        System.out.printf("ppl         %.3f%n", r.perplexity());
        return r.records(t.path().toString());
    }

    /** The model's column name in the report: its directory name, or the whole path when names collide. */
    private String reportName(Path dir) {
        String name = dir.toAbsolutePath().normalize().getFileName().toString();
        long same = models.stream().filter(p -> p.toAbsolutePath().normalize().getFileName().toString().equals(name)).count();
        return same > 1 ? dir.toString() : name;
    }

    /** token and sliding protocols: one token stream, documents joined by end-of-text. */
    private List<EvalRecord> windows(LanguageModel lm, NDManager m, Corpus corpus, Tokenizer tok, UnigramBaseline unigram) {
        long[] tokens = Evaluator.stream(corpus, tok);
        boolean sliding = protocol.equals("sliding");
        int s = sliding ? (stride != null ? stride : Math.max(1, seqLen / 2)) : seqLen;
        int windows = sliding ? Perplexity.slidingWindowCount(tokens.length, seqLen, s) : Perplexity.windowCount(tokens.length, seqLen);
        Perplexity.Result r;
        try (ProgressBar pb = ProgressBars.open("eval", windows, " windows")) {
            if (cl != null) {
                r = sliding ? Perplexity.sliding(lm.config(), tokens, seqLen, s, cl.scorer(ref, batchSize))
                        : Perplexity.windowed(lm.config(), tokens, seqLen, batchSize, cl.windowNll(ref));
            } else {
                r = sliding ? Perplexity.sliding(lm.config(), lm.weights(), m, tokens, seqLen, s, batchSize, pb::stepTo)
                        : Perplexity.windowed(lm.config(), lm.weights(), m, tokens, seqLen, batchSize, pb::stepTo);
            }
        }
        System.out.println("model       " + model);
        System.out.println("text        " + text + " (" + corpus.size() + " documents, " + tokens.length + " tokens)");
        System.out.println("protocol    " + r.protocol());
        System.out.printf("scored      %,d tokens in %d windows%n", r.tokensScored(), r.windows());
        System.out.printf("mean NLL    %.4f nats/token (%.4f bits/token)%n", r.meanNll(), r.bitsPerToken());
        System.out.printf("perplexity  %.3f%n", r.perplexity());
        if (unigram != null) {
            System.out.printf("unigram     %.3f perplexity (add-one unigram counted on %s, same tokens)%n",
                    Math.exp(unigram.meanNll(tokens)), unigramFrom);
        }
        return List.of(Evaluator.record(text.getFileName().toString(), text.toString(), r));
    }

    /** document protocol: each document scored whole (lm-eval loglikelihood_rolling). */
    private List<EvalRecord> documents(LanguageModel lm, NDManager m, Corpus corpus, Tokenizer tok, UnigramBaseline unigram) {
        List<String> texts = corpus.documents();
        List<long[]> tokens = new ArrayList<>(texts.size());
        for (String t : texts) {
            tokens.add(tok.encode(t));
        }
        long prefix = Perplexity.prefixToken(tok);
        Perplexity.DocumentResult r;
        try (ProgressBar pb = ProgressBars.open("eval", Perplexity.documentWindowCount(tokens, seqLen), " windows")) {
            r = cl != null ? Perplexity.documents(lm.config(), texts, tokens, prefix, seqLen, cl.scorer(ref, batchSize))
                    : Perplexity.documents(lm.config(), lm.weights(), m, texts, tokens, prefix, seqLen, batchSize, pb::stepTo);
        }
        System.out.println("model       " + model);
        System.out.println("text        " + text + " (" + corpus.size() + " documents)");
        System.out.println("protocol    " + r.protocol());
        System.out.printf("scored      %,d tokens in %d windows; %,d words, %,d UTF-8 bytes%n", r.tokens(), r.windows(), r.words(), r.bytes());
        System.out.printf("word ppl    %.3f%n", r.wordPerplexity());
        System.out.printf("byte ppl    %.4f%n", r.bytePerplexity());
        System.out.printf("bits/byte   %.4f%n", r.bitsPerByte());
        System.out.printf("token ppl   %.3f (tokenizer-dependent)%n", r.tokenPerplexity());
        if (unigram != null) {
            double nll = 0;
            for (long[] t : tokens) {
                nll += unigram.totalNll(t, 0);
            }
            System.out.printf("unigram     word ppl %.3f, byte ppl %.4f, bits/byte %.4f, token ppl %.3f"
                    + " (add-one unigram counted on %s, same tokens)%n", Math.exp(nll / r.words()), Math.exp(nll / r.bytes()),
                    nll / r.bytes() / Math.log(2), Math.exp(nll / r.tokens()), unigramFrom);
        }
        return Evaluator.records(text.getFileName().toString(), text.toString(), r);
    }
}
