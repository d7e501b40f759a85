package ai.minitron.eval;

import ai.djl.ndarray.NDManager;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.Weights;
import ai.minitron.tokenize.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import tech.tablesaw.api.BooleanColumn;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Multiple-choice scoring by log-likelihood, as lm-evaluation-harness's {@code output_type:
 * multiple_choice} tasks do (HellaSwag, PIQA, ARC, ...):
 *
 * <pre>
 *   ll_i      = sum over the tokens of (target_delimiter + choice_i) of log p(token | context, earlier tokens)
 *   acc       = [argmax_i ll_i == gold]
 *   acc_norm  = [argmax_i ll_i / len(choice_i) == gold]      len in characters (Unicode code points, as Python's len)
 * </pre>
 *
 * Both are reported, separately: {@code acc} favours short choices (fewer tokens, fewer negative
 * terms), {@code acc_norm} corrects for length the way lm-eval does (by characters, not tokens, so it
 * does not depend on the tokenizer). Ties go to the lowest index ({@code np.argmax}). Context and
 * continuation are tokenised by {@link PairEncoding}; every choice of every item is one
 * {@link TokenScorer.Request}, and all of them are batched together.
 */
public final class MultipleChoice {
    private MultipleChoice() {}

    public static final String PROTOCOL = "multiple choice by log-likelihood (lm-eval): acc = argmax_i sum log p(target_delimiter + choice_i | context);"
            + " acc_norm = argmax_i of that sum / len(choice_i) in characters; context and continuation encoded separately,"
            + " trailing context whitespace moved to the continuation";

    /** One item's outcome: per choice, its score and character length. */
    public record ItemResult(String id, int gold, List<TokenScorer.Score> scores, int[] charLengths) {
        public double[] logLikelihoods() {
            return scores.stream().mapToDouble(TokenScorer.Score::logLikelihood).toArray();
        }

        public int predicted() {
            return argmax(logLikelihoods());
        }

        public int predictedNorm() {
            return argmax(normalised(logLikelihoods(), charLengths));
        }

        public boolean correct() {
            return predicted() == gold;
        }

        public boolean correctNorm() {
            return predictedNorm() == gold;
        }
    }

    /** A task's outcome. */
    public record Result(String task, List<ItemResult> items) {
        public Accuracy acc() {
            return new Accuracy((int) items.stream().filter(ItemResult::correct).count(), items.size());
        }

        public Accuracy accNorm() {
            return new Accuracy((int) items.stream().filter(ItemResult::correctNorm).count(), items.size());
        }

        /** acc and acc_norm as model-card rows. */
        public List<EvalRecord> records(String source) {
            Accuracy a = acc();
            Accuracy an = accNorm();
            return List.of(
                    new EvalRecord(task, "acc", a.value(), a.stderr(), a.n(), PROTOCOL, source),
                    new EvalRecord(task, "acc_norm", an.value(), an.stderr(), an.n(), PROTOCOL, source));
        }

        /** One row per (item, choice): item, id, choice, is_gold, ll, tokens, chars, ll_per_char, greedy. */
        public Table details() {
            IntColumn item = IntColumn.create("item");
            StringColumn id = StringColumn.create("id");
            IntColumn choice = IntColumn.create("choice");
            BooleanColumn isGold = BooleanColumn.create("is_gold");
            DoubleColumn ll = DoubleColumn.create("loglikelihood");
            IntColumn tokens = IntColumn.create("tokens");
            IntColumn chars = IntColumn.create("chars");
            DoubleColumn norm = DoubleColumn.create("loglikelihood_per_char");
            BooleanColumn greedy = BooleanColumn.create("is_greedy");
            for (int i = 0; i < items.size(); i++) {
                ItemResult r = items.get(i);
                for (int k = 0; k < r.scores().size(); k++) {
                    TokenScorer.Score s = r.scores().get(k);
                    item.append(i);
                    id.append(r.id());
                    choice.append(k);
                    isGold.append(k == r.gold());
                    ll.append(s.logLikelihood());
                    tokens.append(s.tokens());
                    chars.append(r.charLengths()[k]);
                    norm.append(s.logLikelihood() / r.charLengths()[k]);
                    greedy.append(s.greedy());
                }
            }
            return Table.create(task, item, id, choice, isGold, ll, tokens, chars, norm, greedy);
        }
    }

    /** Index of the largest value; ties go to the lowest index (as numpy's argmax). */
    public static int argmax(double[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }

    /** ll_i / len_i. */
    public static double[] normalised(double[] ll, int[] lengths) {
        double[] out = new double[ll.length];
        for (int i = 0; i < ll.length; i++) {
            out[i] = ll[i] / lengths[i];
        }
        return out;
    }

    /** Choice lengths in Unicode code points (Python's {@code len}), without the delimiter, as lm-eval. */
    public static int[] charLengths(List<String> choices) {
        return choices.stream().mapToInt(s -> s.codePointCount(0, s.length())).toArray();
    }

    /** The scoring requests of one item, one per choice, in choice order. */
    public static List<TokenScorer.Request> requests(MultipleChoiceItem item, Tokenizer tok, long prefixToken, int maxInput) {
        List<TokenScorer.Request> out = new ArrayList<>(item.choices().size());
        for (String choice : item.choices()) {
            long[][] pair = PairEncoding.encode(tok, item.context(), item.targetDelimiter() + choice, prefixToken);
            out.add(TokenScorer.Request.of(pair[0], pair[1], maxInput));
        }
        return out;
    }

    /**
     * Scores every choice of every item, {@code batchSize} sequences per forward pass.
     *
     * @param onRows progress: sequences scored so far (items x choices in total), or null
     */
    public static Result evaluate(ModelConfig c, Weights w, NDManager m, Tokenizer tok, String task,
            List<MultipleChoiceItem> items, int batchSize, IntConsumer onRows) {
        return evaluate(c, tok, task, items, TokenScorer.local(c, w, m, batchSize, onRows));
    }

    /** The same, with the sequences scored by {@code scorer}. */
    public static Result evaluate(ModelConfig c, Tokenizer tok, String task, List<MultipleChoiceItem> items,
            TokenScorer.Scorer scorer) {
        long prefix = Perplexity.prefixToken(tok);
        List<TokenScorer.Request> all = new ArrayList<>();
        for (MultipleChoiceItem item : items) {
            try {
                all.addAll(requests(item, tok, prefix, c.maxPositionEmbeddings()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(task + " item " + item.id() + ": " + e.getMessage(), e);
            }
        }
        List<TokenScorer.Score> scores = scorer.score(all);
        List<ItemResult> results = new ArrayList<>(items.size());
        int at = 0;
        for (MultipleChoiceItem item : items) {
            int k = item.choices().size();
            results.add(new ItemResult(item.id(), item.gold(), List.copyOf(scores.subList(at, at + k)),
                    charLengths(item.choices())));
            at += k;
        }
        return new Result(task, results);
    }

    /** Number of sequences {@link #evaluate} scores. */
    public static int sequenceCount(List<MultipleChoiceItem> items) {
        return items.stream().mapToInt(i -> i.choices().size()).sum();
    }
}
