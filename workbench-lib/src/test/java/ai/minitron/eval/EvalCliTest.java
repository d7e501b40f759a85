package ai.minitron.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.TestConfigs;
import ai.minitron.config.ModelConfig;
import ai.minitron.cli.CliRun;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code minitron eval --protocol ...} and {@code minitron eval-tasks} end to end on a random tiny model. */
class EvalCliTest {
    static final ModelConfig TINY = TestConfigs.evalLlama();

    @TempDir
    static Path tmp;

    static Path model;
    static Path text;
    static Path mc;
    static Path lw;



    @BeforeAll
    static void setUp() throws Exception {
        model = tmp.resolve("random");
        try (NDManager m = NDManager.newBaseManager()) {
            new LanguageModel(TINY, Weights.random(TINY, m, 1, DataType.FLOAT32),
                    EvalFixtures.tokenizer(), TensorDType.F32).save(model, TensorDType.F32);
        }
        text = tmp.resolve("text.txt");
        Files.writeString(text, "Call me Ishmael. Some years ago, never mind how long precisely.\n\n<|endoftext|>\n\n"
                + "It is a way I have of driving off the spleen and regulating the circulation.\n");
        mc = tmp.resolve("mc.jsonl");
        TaskFile.write(mc, List.of(new MultipleChoiceItem("1", "Call me", List.of("Ishmael.", "a whale."), 0),
                new MultipleChoiceItem("2", "The sea", List.of("was calm.", "is a sandwich."), 0),
                new MultipleChoiceItem("3", "Ahab", List.of("limped.", "danced."), 0)));
        lw = tmp.resolve("lw.jsonl");
        TaskFile.write(lw, List.of(new LastWordItem("1", "Call me", "Ishmael"), new LastWordItem("2", "The white", "whale")));
    }

    @Test
    void evalStatesEachProtocol() {
        CliRun doc = CliRun.of("eval", "--model", model.toString(), "--text", text.toString(), "--protocol", "document", "--seq-len", "16",
                "--unigram-from", text.toString(), "--card", tmp.resolve("card").toString());
        assertEquals(0, doc.code(), doc.err());
        assertTrue(doc.out().contains("protocol    document-level (lm-eval loglikelihood_rolling)"), doc.out());
        assertTrue(doc.out().contains("word ppl") && doc.out().contains("bits/byte") && doc.out().contains("unigram     word ppl"), doc.out());
        assertTrue(doc.out().contains("; 26 words,"), doc.out());
        assertTrue(ModelCard.readResults(tmp.resolve("card")).stream().anyMatch(r -> r.metric().equals("bits_per_byte")));

        CliRun sliding = CliRun.of("eval", "--model", model.toString(), "--text", text.toString(), "--protocol", "sliding", "--seq-len", "16",
                "--stride", "4");
        assertEquals(0, sliding.code(), sliding.err());
        assertTrue(sliding.out().contains("sliding windows of up to 16 context tokens advanced by 4"), sliding.out());

        CliRun bad = CliRun.of("eval", "--model", model.toString(), "--text", text.toString(), "--protocol", "words");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--protocol must be token, sliding or document"), bad.err());
        CliRun stride = CliRun.of("eval", "--model", model.toString(), "--text", text.toString(), "--stride", "4");
        assertEquals(2, stride.code());
        assertTrue(stride.err().contains("--stride applies to --protocol sliding only"), stride.err());
    }

    @Test
    void evalTasksReportsEachMetricSeparately() {
        Path details = tmp.resolve("details");
        CliRun r = CliRun.of("eval-tasks", "--model", model.toString(), "--tasks", mc.toString(), lw.toString(), "--limit", "2",
                "--details", details.toString(), "--card", tmp.resolve("card2").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("task         mc (") && r.out().contains("multiple choice, 2 items"), r.out());
        assertTrue(r.out().contains("acc_norm ") && r.out().contains("chance       0.5000"), r.out());
        assertTrue(r.out().contains("exact_match") && r.out().contains("ppl "), r.out());
        assertTrue(Files.isRegularFile(details.resolve("mc.arrow")) && Files.isRegularFile(details.resolve("lw.arrow")));
        assertEquals(5, ModelCard.readResults(tmp.resolve("card2")).size()); // acc, acc_norm; exact_match, acc, ppl
    }

    @Test
    void aBadTaskFileIsOneLineNamingFileAndLine() throws Exception {
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"context\": \"c\", \"choices\": [\"a\", \"b\"], \"gold\": 0}\n{\"context\": \"c\", \"choices\": [\"a\"], \"gold\": 0}\n");
        CliRun r = CliRun.of("eval-tasks", "--model", model.toString(), "--tasks", bad.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: " + bad + ":2: a multiple-choice item needs at least 2 choices"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void severalModelsSideBySideInOneReport() throws Exception {
        Path other = tmp.resolve("random2");
        try (NDManager m = NDManager.newBaseManager()) {
            new LanguageModel(TINY, Weights.random(TINY, m, 2, DataType.FLOAT32),
                    EvalFixtures.tokenizer(), TensorDType.F32).save(other, TensorDType.F32);
        }
        Path report = tmp.resolve("report");
        CliRun r = CliRun.of("eval", "--model", model.toString(), "--model", other.toString(), "--tasks", "ppl," + mc + "," + lw,
                "--text", text.toString(), "--seq-len", "16", "--out", report.toString());
        assertEquals(0, r.code(), r.err());
        // long form: 2 models x (perplexity + acc, acc_norm + exact_match, acc, ppl) rows
        tech.tablesaw.api.Table t = ai.minitron.stats.ArrowIo.read(report.resolve("report.arrow"));
        assertEquals(12, t.rowCount());
        assertEquals(List.of("random", "random2"), t.stringColumn("model").unique().asList().stream().sorted().toList());
        // each model's numbers equal a single-model run's
        CliRun single = CliRun.of("eval-tasks", "--model", other.toString(), "--tasks", mc.toString());
        String acc = single.out().lines().filter(l -> l.startsWith("acc ")).findFirst().orElseThrow().split("\\s+")[1];
        double reported = t.where(t.stringColumn("model").isEqualTo("random2").and(t.stringColumn("task").isEqualTo("mc"))
                .and(t.stringColumn("metric").isEqualTo("acc"))).doubleColumn("value").get(0);
        assertEquals(Double.parseDouble(acc), reported, 1e-4);
        String md = Files.readString(report.resolve("report.md"));
        assertTrue(md.contains("| task | metric | random | random2 | protocol |"), md);
        assertTrue(md.contains(" ± "), md); // accuracies carry standard errors
        assertTrue(Files.readString(report.resolve("report.html")).contains("<th>random2</th>"));

        CliRun unknown = CliRun.of("eval", "--model", model.toString(), "--tasks", "ppl,hellaswag");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("unknown task 'hellaswag'; choose from ppl, continuation, lastword or a FILE.jsonl"),
                unknown.err());
        CliRun twoCards = CliRun.of("eval", "--model", model.toString(), "--model", other.toString(), "--text", text.toString(),
                "--card", tmp.resolve("c").toString());
        assertEquals(2, twoCards.code());
        assertTrue(twoCards.err().contains("use --out for a report"), twoCards.err());
    }
}
