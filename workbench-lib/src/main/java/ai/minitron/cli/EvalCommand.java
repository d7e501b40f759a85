package ai.minitron.cli;

import ai.djl.ndarray.NDManager;
import ai.minitron.data.Corpus;
import ai.minitron.eval.EvalRecord;
import ai.minitron.eval.Evaluator;
import ai.minitron.eval.ModelCard;
import ai.minitron.eval.Perplexity;
import ai.minitron.eval.UnigramBaseline;
import ai.minitron.model.LanguageModel;
import ai.minitron.tokenize.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code minitron eval}: perplexity of a text file under a stated protocol ({@link Perplexity}):
 * token-level fixed windows (default), sliding windows with a stride (Hugging Face's convention), or
 * whole documents with word- and byte-level perplexity (lm-evaluation-harness's convention).
 */
@Command(name = "eval", description = "Perplexity of a UTF-8 text file; the protocol is printed with the result.")
final class EvalCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, description = "Checkpoint directory (with tokenizer.json).")
    Path model;

    @Option(names = "--text", required = true, description = "UTF-8 text; documents may be separated by <|endoftext|> lines.")
    Path text;

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

    @Option(names = "--tokenizer", description = "tokenizer.json to use instead of the checkpoint's.")
    Path tokenizerPath;

    @Option(names = "--unigram-from", description = "Also report a unigram (add-one) baseline counted on this text, e.g. the train split.")
    Path unigramFrom;

    @Option(names = "--card", description = "Also record the results in the model card of this directory (README.md,"
            + " eval_results.json, eval_results.arrow), e.g. the checkpoint directory.")
    Path card;

    @Override
    public Integer call() {
        if (!List.of("token", "sliding", "document").contains(protocol)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--protocol must be token, sliding or document, got '" + protocol + "'");
        }
        if (stride != null && !protocol.equals("sliding")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--stride applies to --protocol sliding only");
        }
        Corpus corpus = Corpus.read(text);
        try (NDManager m = NDManager.newBaseManager(); LanguageModel lm = LanguageModel.load(model, m)) {
            try (Tokenizer tok = lm.openTokenizer(tokenizerPath)) {
                UnigramBaseline unigram = unigramFrom == null ? null
                        : new UnigramBaseline(encodeDocuments(Corpus.read(unigramFrom), tok), lm.config().vocabSize());
                List<EvalRecord> records = protocol.equals("document")
                        ? documents(lm, m, corpus, tok, unigram)
                        : windows(lm, m, corpus, tok, unigram);
                if (card != null) {
                    ModelCard.update(card, records);
                    System.out.println("card        " + card.resolve("README.md") + " (+ " + ModelCard.RESULTS_JSON + ", "
                            + ModelCard.RESULTS_ARROW + ")");
                }
            }
        }
        return 0;
    }

    /** token and sliding protocols: one token stream, documents joined by end-of-text. */
    private List<EvalRecord> windows(LanguageModel lm, NDManager m, Corpus corpus, Tokenizer tok, UnigramBaseline unigram) {
        long[] tokens = encodeDocuments(corpus, tok);
        boolean sliding = protocol.equals("sliding");
        int s = sliding ? (stride != null ? stride : Math.max(1, seqLen / 2)) : seqLen;
        int windows = sliding ? Perplexity.slidingWindowCount(tokens.length, seqLen, s) : Perplexity.windowCount(tokens.length, seqLen);
        Perplexity.Result r;
        try (ProgressBar pb = progress(windows)) {
            r = sliding ? Perplexity.sliding(lm.config(), lm.weights(), m, tokens, seqLen, s, batchSize, pb::stepTo)
                    : Perplexity.windowed(lm.config(), lm.weights(), m, tokens, seqLen, batchSize, pb::stepTo);
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
        try (ProgressBar pb = progress(Perplexity.documentWindowCount(tokens, seqLen))) {
            r = Perplexity.documents(lm.config(), lm.weights(), m, texts, tokens, prefix, seqLen, batchSize, pb::stepTo);
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

    private static ProgressBar progress(int windows) {
        return new ProgressBarBuilder().setTaskName("eval").setInitialMax(windows)
                .setStyle(ProgressBarStyle.ASCII).setUnit(" windows", 1).continuousUpdate().build();
    }

    /** Documents encoded and joined with the end-of-text token (when the tokenizer has one). */
    static long[] encodeDocuments(Corpus corpus, Tokenizer tok) {
        return Evaluator.stream(corpus, tok);
    }
}
