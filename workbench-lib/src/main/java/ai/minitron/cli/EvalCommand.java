package ai.minitron.cli;

import ai.djl.ndarray.NDManager;
import ai.minitron.data.Corpus;
import ai.minitron.eval.Perplexity;
import ai.minitron.eval.UnigramBaseline;
import ai.minitron.model.LanguageModel;
import ai.minitron.tokenize.Tokenizer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code minitron eval}: token-level perplexity of a text file, with the protocol stated. */
@Command(name = "eval", description = "Token-level perplexity of a UTF-8 text file over fixed-length windows.")
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Checkpoint directory (with tokenizer.json).")
    Path model;

    @Option(names = "--text", required = true, description = "UTF-8 text; documents may be separated by <|endoftext|> lines.")
    Path text;

    @Option(names = "--seq-len", defaultValue = "256", description = "Predicted tokens per window (default ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--batch-size", defaultValue = "8", description = "Windows per forward pass (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--tokenizer", description = "tokenizer.json to use instead of the checkpoint's.")
    Path tokenizerPath;

    @Option(names = "--unigram-from", description = "Also report a unigram (add-one) baseline counted on this text, e.g. the train split.")
    Path unigramFrom;

    @Override
    public Integer call() {
        Corpus corpus = Corpus.read(text);
        try (NDManager m = NDManager.newBaseManager(); LanguageModel lm = LanguageModel.load(model, m)) {
            Path tp = tokenizerPath != null ? tokenizerPath : lm.tokenizerJson();
            if (tp == null) {
                throw new IllegalArgumentException(model + ": no tokenizer.json in the checkpoint; pass --tokenizer");
            }
            long[] tokens;
            Double unigramNll = null;
            try (Tokenizer tok = Tokenizer.load(tp)) {
                if (tok.vocabSize() > lm.config().vocabSize()) {
                    throw new IllegalArgumentException(tp + ": tokenizer has " + tok.vocabSize()
                            + " tokens but the model's vocab_size is " + lm.config().vocabSize());
                }
                tokens = encodeDocuments(corpus, tok);
                if (unigramFrom != null) {
                    long[] train = encodeDocuments(Corpus.read(unigramFrom), tok);
                    unigramNll = new UnigramBaseline(train, lm.config().vocabSize()).meanNll(tokens);
                }
            }
            int windows = Perplexity.windowCount(tokens.length, seqLen);
            Perplexity.Result r;
            try (ProgressBar pb = new ProgressBarBuilder().setTaskName("eval").setInitialMax(windows)
                    .setStyle(ProgressBarStyle.ASCII).setUnit(" windows", 1).continuousUpdate().build()) {
                r = Perplexity.windowed(lm.config(), lm.weights(), m, tokens, seqLen, batchSize, pb::stepTo);
            }
            System.out.println("model       " + model);
            System.out.println("text        " + text + " (" + corpus.size() + " documents, " + tokens.length + " tokens)");
            System.out.println("protocol    " + r.protocol());
            System.out.printf("scored      %,d tokens in %d windows%n", r.tokensScored(), r.windows());
            System.out.printf("mean NLL    %.4f nats/token (%.4f bits/token)%n", r.meanNll(), r.bitsPerToken());
            System.out.printf("perplexity  %.3f%n", r.perplexity());
            if (unigramNll != null) {
                System.out.printf("unigram     %.3f perplexity (add-one unigram counted on %s, same tokens)%n",
                        Math.exp(unigramNll), unigramFrom);
            }
        }
        return 0;
    }

    /** Documents encoded and joined with the end-of-text token (when the tokenizer has one). */
    static long[] encodeDocuments(Corpus corpus, Tokenizer tok) {
        Integer eos = tok.eosTokenId();
        java.util.List<long[]> parts = new java.util.ArrayList<>();
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
}
