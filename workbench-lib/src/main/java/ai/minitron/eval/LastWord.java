package ai.minitron.eval;

import ai.minitron.generate.Generation;
import ai.minitron.generate.GenerationConfig;
import ai.djl.ndarray.NDManager;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.Weights;
import ai.minitron.tokenize.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntConsumer;
import tech.tablesaw.api.BooleanColumn;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Last-word prediction, LAMBADA-style (Paperno et al. 2016): given a passage without its final
 * word, does the model produce that word? Two readings are reported, separately:
 *
 * <ul>
 *   <li><b>exact_match</b> (greedy decoding to a word boundary): tokens are decoded greedily (argmax,
 *       no sampling) after the context until the generated text completes a word; the predicted
 *       word must equal the target exactly (case-sensitive). The word rule, as {@link #wordIfComplete}:
 *       the generated text must begin with whitespace (else the model extended the context's last
 *       word: prediction ""), leading whitespace is skipped, and the word is the maximal run of word
 *       characters that follows, where word characters are letters, digits, apostrophes (' and ’) and
 *       hyphens. Decoding stops at the first non-word character after the word (or right away when
 *       the first non-space character is not a word character: prediction ""), at end-of-text, or
 *       after {@value #MAX_NEW_TOKENS} tokens. Generated text ending in an incomplete UTF-8 sequence
 *       (U+FFFD) is not judged until the next token.
 *   <li><b>acc</b> and <b>ppl</b> as lm-evaluation-harness's {@code lambada} tasks: the continuation
 *       {@code " " + target} is scored by log-likelihood; acc = every target token is the greedy
 *       argmax ({@code is_greedy}), ppl = exp(-mean over items of the target's log-likelihood).
 *       acc can exceed exact_match: "whale" predicted as the start of "whales" counts for lm-eval.
 * </ul>
 */
public final class LastWord {
    private LastWord() {}

    /** Upper bound on generated tokens per item (targets built here have at most 20 letters). */
    public static final int MAX_NEW_TOKENS = 24;

    public static final String PROTOCOL_EXACT = "last word, exact match: greedy decoding after the context until a word boundary"
            + " (word = letters, digits, apostrophes, hyphens after leading whitespace; at most " + MAX_NEW_TOKENS + " tokens),"
            + " case-sensitive comparison with the target";
    public static final String PROTOCOL_LMEVAL = "last word, lm-eval lambada: log-likelihood of \" \" + target given the context;"
            + " acc = all target tokens greedy, ppl = exp(-mean target log-likelihood)";

    /** A word character: letter, digit, apostrophe (' or ’) or hyphen. */
    public static boolean isWordChar(int cp) {
        return Character.isLetterOrDigit(cp) || cp == '\'' || cp == '\u2019' || cp == '-';
    }

    /**
     * The predicted word once {@code generated} has reached a word boundary, else null (decode on).
     * See the class comment for the rule.
     */
    public static String wordIfComplete(String generated) {
        String g = complete(generated);
        if (g.isEmpty()) {
            return null;
        }
        if (!Character.isWhitespace(g.codePointAt(0))) {
            return ""; // the model glued onto the context's last word
        }
        int start = skipWhitespace(g);
        if (start == g.length()) {
            return null;
        }
        int end = wordEnd(g, start);
        return end == g.length() ? null : g.substring(start, end); // "" when no word character follows the space
    }

    /** The prediction when decoding stops without a boundary (end-of-text or the token limit). */
    public static String wordSoFar(String generated) {
        String g = complete(generated);
        if (g.isEmpty() || !Character.isWhitespace(g.codePointAt(0))) {
            return "";
        }
        int start = skipWhitespace(g);
        return g.substring(start, wordEnd(g, start));
    }

    private static String complete(String g) {
        int end = g.length();
        while (end > 0 && g.charAt(end - 1) == '\uFFFD') { // an incomplete UTF-8 sequence: judge only what is complete
            end--;
        }
        return g.substring(0, end);
    }

    private static int skipWhitespace(String g) {
        int i = 0;
        while (i < g.length() && Character.isWhitespace(g.codePointAt(i))) {
            i += Character.charCount(g.codePointAt(i));
        }
        return i;
    }

    private static int wordEnd(String g, int i) {
        while (i < g.length() && isWordChar(g.codePointAt(i))) {
            i += Character.charCount(g.codePointAt(i));
        }
        return i;
    }

    /** One item's outcome. */
    public record ItemResult(String id, String target, String prediction, String generated, TokenScorer.Score score) {
        public boolean exact() {
            return prediction.equals(target);
        }
    }

    public record Result(String task, List<ItemResult> items) {
        public Accuracy exactMatch() {
            return new Accuracy((int) items.stream().filter(ItemResult::exact).count(), items.size());
        }

        /** lm-eval's lambada acc: every target token greedy. */
        public Accuracy acc() {
            return new Accuracy((int) items.stream().filter(r -> r.score().greedy()).count(), items.size());
        }

        /** lm-eval's lambada perplexity: exp(-mean target log-likelihood). */
        public double perplexity() {
            return Math.exp(-items.stream().mapToDouble(r -> r.score().logLikelihood()).average().orElse(Double.NaN));
        }

        public List<EvalRecord> records(String source) {
            Accuracy em = exactMatch();
            Accuracy a = acc();
            return List.of(
                    new EvalRecord(task, "exact_match", em.value(), em.stderr(), em.n(), PROTOCOL_EXACT, source),
                    new EvalRecord(task, "acc", a.value(), a.stderr(), a.n(), PROTOCOL_LMEVAL, source),
                    new EvalRecord(task, "ppl", perplexity(), Double.NaN, items.size(), PROTOCOL_LMEVAL, source));
        }

        /** One row per item: item, id, target, prediction, generated (the decoded text), exact, loglikelihood, tokens, is_greedy. */
        public Table details() {
            IntColumn item = IntColumn.create("item");
            StringColumn id = StringColumn.create("id");
            StringColumn target = StringColumn.create("target");
            StringColumn prediction = StringColumn.create("prediction");
            StringColumn generated = StringColumn.create("generated");
            BooleanColumn exact = BooleanColumn.create("exact");
            DoubleColumn ll = DoubleColumn.create("loglikelihood");
            IntColumn tokens = IntColumn.create("tokens");
            BooleanColumn greedy = BooleanColumn.create("is_greedy");
            for (int i = 0; i < items.size(); i++) {
                ItemResult r = items.get(i);
                item.append(i);
                id.append(r.id());
                target.append(r.target());
                prediction.append(r.prediction());
                generated.append(r.generated());
                exact.append(r.exact());
                ll.append(r.score().logLikelihood());
                tokens.append(r.score().tokens());
                greedy.append(r.score().greedy());
            }
            return Table.create(task, item, id, target, prediction, generated, exact, ll, tokens, greedy);
        }
    }

    /**
     * Greedy predictions for the items, {@code batchSize} rows decoded together with a KV cache
     * ({@link ai.minitron.generate.Generator}: one prefill, then one token per row per step; rows stop as they finish).
     * {@code m} is unused (the generator works in the weights' manager); kept for the callers' signature.
     *
     * @return the generated text of each item (up to and including the token that ended the word)
     */
    public static List<String> greedyGenerate(ModelConfig c, Weights w, NDManager m, Tokenizer tok, List<long[]> contexts,
            int batchSize) {
        int maxCtx = c.maxPositionEmbeddings() - MAX_NEW_TOKENS + 1;
        if (maxCtx < 1) {
            throw new IllegalArgumentException("the model's context (" + c.maxPositionEmbeddings()
                    + ") is too short for last-word decoding (" + MAX_NEW_TOKENS + " new tokens)");
        }
        List<long[]> prefixes = new ArrayList<>(contexts.size());
        for (long[] ctx : contexts) {
            prefixes.add(ctx.length > maxCtx ? Arrays.copyOfRange(ctx, ctx.length - maxCtx, ctx.length) : ctx);
        }
        // KV-cached greedy decoding; a row stops at EOS (not part of the text), once its text completes a word,
        // or after MAX_NEW_TOKENS
        GenerationConfig cfg = GenerationConfig.defaults().withMaxNewTokens(MAX_NEW_TOKENS).withBatchSize(batchSize);
        List<Generation> gens = new ai.minitron.generate.Generator(c, w, tok).generateTokens(prefixes, cfg, null,
                text -> wordIfComplete(text) != null);
        return gens.stream().map(Generation::text).toList();
    }

    /** The prediction from a generated text, whether decoding reached a boundary or stopped early. */
    public static String prediction(String generated) {
        String w = wordIfComplete(generated);
        return w != null ? w : wordSoFar(generated);
    }

    /**
     * Greedy decoding as a function: the generated text of every item, in item order, for the items' contexts cut
     * into batches; {@link #localGenerator} runs {@link #greedyGenerate} on each batch here, another
     * implementation may run the batches elsewhere (e.g. on a cluster, module {@code spark}).
     */
    @FunctionalInterface
    public interface Generator {
        List<String> generate(List<List<long[]>> batches);
    }

    /** The generator of this process; {@code onItems} gets the items done after each batch (or null). */
    public static Generator localGenerator(ModelConfig c, Weights w, NDManager m, Tokenizer tok, int batchSize,
            IntConsumer onItems) {
        return batches -> {
            List<String> out = new ArrayList<>();
            for (List<long[]> b : batches) {
                out.addAll(greedyGenerate(c, w, m, tok, b, batchSize));
                if (onItems != null) {
                    onItems.accept(out.size());
                }
            }
            return out;
        };
    }

    /**
     * Evaluates last-word items: greedy decoding (exact_match) and target log-likelihood (acc, ppl).
     *
     * @param onItems progress: items done (decoding, then scoring), or null
     */
    public static Result evaluate(ModelConfig c, Weights w, NDManager m, Tokenizer tok, String task,
            List<LastWordItem> items, int batchSize, IntConsumer onItems) {
        return evaluate(c, tok, task, items, batchSize, localGenerator(c, w, m, tok, batchSize, onItems),
                TokenScorer.local(c, w, m, batchSize, null));
    }

    /** The same, with the decoding done by {@code generator} (batches of {@code batchSize} items) and the scoring by {@code scorer}. */
    public static Result evaluate(ModelConfig c, Tokenizer tok, String task, List<LastWordItem> items, int batchSize,
            Generator generator, TokenScorer.Scorer scorer) {
        long prefix = Perplexity.prefixToken(tok);
        List<long[]> contexts = new ArrayList<>(items.size());
        List<TokenScorer.Request> requests = new ArrayList<>(items.size());
        for (LastWordItem item : items) {
            long[][] pair = PairEncoding.encode(tok, item.context(), " " + item.target(), prefix);
            contexts.add(pair[0]);
            requests.add(TokenScorer.Request.of(pair[0], pair[1], c.maxPositionEmbeddings()));
        }
        List<List<long[]>> batches = new ArrayList<>();
        for (int start = 0; start < items.size(); start += batchSize) {
            batches.add(contexts.subList(start, Math.min(items.size(), start + batchSize)));
        }
        List<String> generated = generator.generate(batches);
        List<TokenScorer.Score> scores = scorer.score(requests);
        List<ItemResult> results = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            LastWordItem item = items.get(i);
            results.add(new ItemResult(item.id(), item.target(), prediction(generated.get(i)), generated.get(i), scores.get(i)));
        }
        return new Result(task, results);
    }
}
