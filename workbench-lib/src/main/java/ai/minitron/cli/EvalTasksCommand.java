package ai.minitron.cli;

import ai.djl.ndarray.NDManager;
import ai.minitron.eval.Accuracy;
import ai.minitron.eval.EvalRecord;
import ai.minitron.eval.LastWord;
import ai.minitron.eval.ModelCard;
import ai.minitron.eval.MultipleChoice;
import ai.minitron.eval.TaskFile;
import ai.minitron.model.LanguageModel;
import ai.minitron.stats.ArrowIo;
import ai.minitron.tokenize.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tech.tablesaw.api.Table;

/**
 * {@code minitron eval-tasks}: downstream tasks from JSONL files ({@link TaskFile}): multiple choice
 * scored by log-likelihood ({@link MultipleChoice}: acc and acc_norm) and last-word prediction
 * ({@link LastWord}: greedy exact match, and lm-eval's lambada acc and ppl).
 */
@Command(name = "eval-tasks", description = "Accuracy on JSONL tasks (multiple choice: acc, acc_norm; last word: exact_match, acc, ppl).")
final class EvalTasksCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Checkpoint directory (with tokenizer.json).")
    Path model;

    @Option(names = "--tasks", required = true, arity = "1..*", description = "Task files (.jsonl), e.g. data/tasks/*.jsonl.")
    List<Path> tasks;

    @Option(names = "--limit", defaultValue = "0", description = "Use only the first N items of each task (0 = all, the default).")
    int limit;

    @Option(names = "--batch-size", defaultValue = "16", description = "Sequences per forward pass (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--tokenizer", description = "tokenizer.json to use instead of the checkpoint's.")
    Path tokenizerPath;

    @Option(names = "--card", description = "Also record the results in the model card of this directory (README.md,"
            + " eval_results.json, eval_results.arrow), e.g. the checkpoint directory.")
    Path card;

    @Option(names = "--details", description = "Write per-item results as DIR/<task>.arrow.")
    Path details;

    @Override
    public Integer call() throws Exception {
        List<TaskFile.Task> parsed = new ArrayList<>();
        for (Path p : tasks) {
            parsed.add(TaskFile.read(p).limit(limit)); // all files are checked before the model loads
        }
        List<EvalRecord> records = new ArrayList<>();
        try (NDManager m = NDManager.newBaseManager(); LanguageModel lm = LanguageModel.load(model, m)) {
            try (Tokenizer tok = lm.openTokenizer(tokenizerPath)) {
                System.out.println("model        " + model);
                for (TaskFile.Task t : parsed) {
                    System.out.println();
                    records.addAll(t.kind() == TaskFile.Kind.MULTIPLE_CHOICE ? multipleChoice(lm, m, tok, t) : lastWord(lm, m, tok, t));
                }
            }
        }
        if (card != null) {
            ModelCard.update(card, records);
            System.out.println();
            System.out.println("card         " + card.resolve("README.md") + " (+ " + ModelCard.RESULTS_JSON + ", "
                    + ModelCard.RESULTS_ARROW + ")");
        }
        return 0;
    }

    private List<EvalRecord> multipleChoice(LanguageModel lm, NDManager m, Tokenizer tok, TaskFile.Task t) {
        var items = t.multipleChoice();
        MultipleChoice.Result r;
        try (ProgressBar pb = ProgressBars.open(t.name(), MultipleChoice.sequenceCount(items), " sequences")) {
            r = MultipleChoice.evaluate(lm.config(), lm.weights(), m, tok, t.name(), items, batchSize, pb::stepTo);
        }
        double chance = items.stream().mapToDouble(i -> 1.0 / i.choices().size()).average().orElse(Double.NaN);
        System.out.println("task         " + t.name() + " (" + t.path() + ": multiple choice, " + items.size() + " items)");
        System.out.println("protocol     " + MultipleChoice.PROTOCOL);
        print("acc", r.acc());
        print("acc_norm", r.accNorm());
        System.out.printf("chance       %.4f%n", chance);
        writeDetails(t.name(), r.details());
        return r.records(t.path().toString());
    }

    private List<EvalRecord> lastWord(LanguageModel lm, NDManager m, Tokenizer tok, TaskFile.Task t) {
        var items = t.lastWord();
        LastWord.Result r;
        try (ProgressBar pb = ProgressBars.open(t.name(), items.size(), " items")) {
            r = LastWord.evaluate(lm.config(), lm.weights(), m, tok, t.name(), items, batchSize, pb::stepTo);
        }
        System.out.println("task         " + t.name() + " (" + t.path() + ": last word, " + items.size() + " items)");
        System.out.println("protocol     " + LastWord.PROTOCOL_EXACT);
        print("exact_match", r.exactMatch());
        System.out.println("protocol     " + LastWord.PROTOCOL_LMEVAL);
        print("acc", r.acc());
        System.out.printf("ppl          %.3f%n", r.perplexity());
        writeDetails(t.name(), r.details());
        return r.records(t.path().toString());
    }

    private void writeDetails(String task, Table table) {
        if (details == null) {
            return;
        }
        try {
            Files.createDirectories(details);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + details + ": " + e.getMessage(), e);
        }
        Path out = details.resolve(task + ".arrow");
        ArrowIo.write(table, out, Map.of("task", task, "model", model.toString()));
        System.out.println("details      " + out);
    }

    private static void print(String metric, Accuracy a) {
        System.out.printf("%-12s %.4f ± %.4f (%d/%d)%n", metric, a.value(), a.stderr(), a.correct(), a.n());
    }
}
