package ai.minitron.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.minitron.cluster.ModelRef;
import ai.minitron.config.Axis;
import ai.minitron.data.CalibrationSet;
import ai.minitron.data.Corpus;
import ai.minitron.data.TokenDataset;
import ai.minitron.eval.Evaluator;
import ai.minitron.eval.MultipleChoice;
import ai.minitron.eval.Perplexity;
import ai.minitron.eval.TaskFile;
import ai.minitron.eval.TokenScorer;
import ai.minitron.importance.ImportanceEstimator;
import ai.minitron.importance.ImportanceResult;
import ai.minitron.importance.Metric;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Provenance;
import ai.minitron.prune.UnitScores;
import ai.minitron.search.ArchitectureSearch;
import ai.minitron.search.Candidate;
import ai.minitron.search.SearchSpace;
import ai.minitron.tokenize.Tokenizer;
import ai.minitron.train.BatchSource;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.Table;

/**
 * The three jobs on {@code local[2]} against the single-process library, for 1, 2 and 3 partitions: importance
 * accumulators bit for bit (and every table derived from them), evaluation log-likelihoods and the protocols'
 * results, search candidates' zero-shot scores. The embedded teacher and tiny inputs keep it to about a minute.
 */
class SparkExactnessTest {
    static final Path TEACHER = Path.of("data/teacher");
    static SparkCluster spark;
    static NDManager manager;
    static LanguageModel lm;
    static Tokenizer tok;
    static ModelRef ref;

    @BeforeAll
    static void open() {
        spark = SparkCluster.open("local[2]", 0);
        manager = NDManager.newBaseManager();
        lm = LanguageModel.load(TEACHER, manager);
        tok = lm.openTokenizer(null);
        ref = ModelRef.of(TEACHER, Provenance.checkpointHash(TEACHER));
    }

    @AfterAll
    static void close() {
        tok.close();
        lm.close();
        manager.close();
        spark.close();
    }

    static CalibrationSet calibration() {
        return CalibrationSet.fromSplit(Path.of("data/corpus/validation.txt"), tok, 22, 32, 7,
                lm.config().maxPositionEmbeddings());
    }

    @Test
    void importanceStatisticsEqualTheSingleProcessRunBitForBit() {
        CalibrationSet cal = calibration();
        ImportanceEstimator.Options o = ImportanceEstimator.Options.defaults().withBatchSize(4)
                .withMetrics(EnumSet.of(Metric.ACTIVATION, Metric.ACTIVATION_CHANNEL, Metric.WANDA,
                        Metric.BLOCK_IMPORTANCE, Metric.MAGNITUDE));
        ImportanceResult one = ImportanceEstimator.run(lm.config(), lm.weights(), cal, o, TEACHER, null);
        for (int p = 1; p <= 3; p++) {
            SparkCluster c = spark.withPartitions(p);
            ImportanceResult dist = ImportanceEstimator.run(lm.config(), lm.weights(), cal, o, TEACHER, null,
                    c.activationPass(ref));
            assertTrue(one.stats().sameAs(dist.stats()), p + " partitions: accumulators differ from one process");
            assertSameTable(one.table().table(), dist.table().table(), "importance.arrow", p);
            assertSameTable(one.stability(), dist.stability(), "stability.arrow", p);
            assertSameTable(one.agreement(), dist.agreement(), "agreement.arrow", p);
            assertEquals(strip(one.run()), strip(dist.run()), p + " partitions: run.json");
            JsonObject job = c.jobs().get(c.jobs().size() - 1).getAsJsonObject();
            assertEquals(p, job.get("partitions").getAsInt());
            assertEquals(6, job.get("items").getAsInt(), "22 samples in batches of 4");
        }
    }

    @Test
    void partitionResultsMergeToTheSameBitsInAnyOrderAndGrouping() {
        CalibrationSet cal = calibration();
        int[] bounds = ImportanceEstimator.stabilityBoundaries(cal.size(), 2);
        List<ai.minitron.importance.ActivationStats> one = new ai.minitron.importance.ActivationPass(lm.config(),
                lm.weights()).run(cal, 4, bounds, null);
        List<CalibrationSet.Batch> batches = cal.batches(4);
        List<ImportanceJob.Partial> parts = new ArrayList<>();
        for (int i = 0; i < batches.size(); i++) { // one partial per batch, as 6 partitions would return
            CalibrationSet.Batch b = batches.get(i);
            ImportanceJob.Work w = new ImportanceJob.Work(i, b.inputs(), b.targets(), b.lengths(), b.sampleIds(),
                    ai.minitron.importance.ActivationPass.shardOf(i * 4, b.size(), bounds));
            parts.add(ImportanceJob.compute(ref, bounds.length + 1, List.of(w).iterator()));
        }
        ImportanceJob.Partial forward = new ImportanceJob.Partial(bounds.length + 1);
        parts.forEach(forward::merge);
        ImportanceJob.Partial backward = new ImportanceJob.Partial(bounds.length + 1);
        for (int i = parts.size() - 1; i >= 0; i--) {
            backward.merge(parts.get(i));
        }
        ImportanceJob.Partial tree = new ImportanceJob.Partial(bounds.length + 1) // ((0+5) + (3+1)) + (4+2)
                .merge(new ImportanceJob.Partial(bounds.length + 1).merge(parts.get(0)).merge(parts.get(5))
                        .merge(new ImportanceJob.Partial(bounds.length + 1).merge(parts.get(3)).merge(parts.get(1))))
                .merge(new ImportanceJob.Partial(bounds.length + 1).merge(parts.get(4)).merge(parts.get(2)));
        for (int s = 0; s <= bounds.length; s++) {
            assertTrue(one.get(s).sameAs(forward.shards[s]), "in order, shard " + s);
            assertTrue(one.get(s).sameAs(backward.shards[s]), "reversed, shard " + s);
            assertTrue(one.get(s).sameAs(tree.shards[s]), "as a tree, shard " + s);
        }
    }

    @Test
    void evaluationEqualsTheSingleProcessProtocols() {
        long[] tokens = Arrays.copyOf(Evaluator.stream(Corpus.read(Path.of("data/corpus/test.txt")), tok), 1500);
        List<String> docs = new ArrayList<>();
        for (String d : Corpus.read(Path.of("data/corpus/test.txt")).documents().subList(0, 5)) {
            docs.add(d.substring(0, Math.min(d.length(), 900)));
        }
        List<long[]> docTokens = docs.stream().map(tok::encode).toList();
        long prefix = Perplexity.prefixToken(tok);
        TaskFile.Task mc = TaskFile.read(Path.of("data/tasks/moby_continuation.jsonl")).limit(10);
        var c = lm.config();
        var w = lm.weights();
        Perplexity.Result token = Perplexity.windowed(c, w, manager, tokens, 64, 4, null);
        Perplexity.Result sliding = Perplexity.sliding(c, w, manager, tokens, 64, 32, 4, null);
        Perplexity.DocumentResult documents = Perplexity.documents(c, w, manager, docs, docTokens, prefix, 64, 4, null);
        MultipleChoice.Result choice = MultipleChoice.evaluate(c, w, manager, tok, mc.name(), mc.multipleChoice(), 4, null);
        TaskFile.Task lw = TaskFile.read(Path.of("data/tasks/moby_lastword.jsonl")).limit(6);
        ai.minitron.eval.LastWord.Result last = ai.minitron.eval.LastWord.evaluate(c, w, manager, tok, lw.name(),
                lw.lastWord(), 4, null);
        String tokJson = lm.tokenizerJson().toAbsolutePath().toString();
        List<TokenScorer.Request> requests = Perplexity.slidingWindows(tokens, 64, 32);
        List<TokenScorer.Score> scores = TokenScorer.score(c, w, manager, requests, 4, null);
        for (int p = 1; p <= 3; p++) {
            SparkCluster s = spark.withPartitions(p);
            assertEquals(scores, s.scorer(ref, 4).score(requests), p + " partitions: per-window log-likelihoods");
            Perplexity.Result t = Perplexity.windowed(c, tokens, 64, 4, s.windowNll(ref));
            assertEquals(token.meanNll(), t.meanNll(), 1e-12, "token protocol");
            assertEquals(token.tokensScored(), t.tokensScored());
            assertEquals(sliding.meanNll(), Perplexity.sliding(c, tokens, 64, 32, s.scorer(ref, 4)).meanNll(), 1e-12);
            Perplexity.DocumentResult d = Perplexity.documents(c, docs, docTokens, prefix, 64, s.scorer(ref, 4));
            assertEquals(documents.nll(), d.nll(), 1e-12, "document protocol");
            assertEquals(documents.bitsPerByte(), d.bitsPerByte(), 1e-12);
            MultipleChoice.Result m = MultipleChoice.evaluate(c, tok, mc.name(), mc.multipleChoice(), s.scorer(ref, 4));
            assertEquals(choice.acc(), m.acc());
            assertEquals(choice.accNorm(), m.accNorm());
            assertEquals(choice.records("x"), m.records("x"), "multiple choice records");
            ai.minitron.eval.LastWord.Result l = ai.minitron.eval.LastWord.evaluate(c, tok, lw.name(), lw.lastWord(), 4,
                    s.generator(ref, tokJson, 4), s.scorer(ref, 4));
            assertEquals(last.records("x"), l.records("x"), "last-word records");
            assertEquals(last.details().print(100), l.details().print(100), "last-word items: predictions and scores");
        }
    }

    @Test
    void searchCandidatesScoreAsInOneProcess() {
        var c = lm.config();
        TokenDataset val = TokenDataset.pack(Corpus.read(Path.of("data/corpus/validation.txt")).documents(), tok, 32);
        long[][] rows = val.batch(0, 8);
        SearchSpace space = SearchSpace.of(c).withValues(Axis.HIDDEN, 192, 256).withValues(Axis.MLP, 352, 704)
                .withValues(Axis.LAYERS, 8);
        UnitScores scores = UnitScores.random(c, 3);
        ArchitectureSearch base = ArchitectureSearch.of(c, lm.weights()).importance(scores).space(space)
                .budget(ai.minitron.config.ParamCount.of(c).total() * 8 / 10, 0.25)
                .validation(BatchSource.ofRows(rows), 1, 4);
        List<Candidate> cands = base.candidates();
        assertTrue(cands.size() >= 2, "candidates: " + cands);
        Table local = base.run().candidates();
        for (int p = 1; p <= 3; p++) {
            ArchitectureSearch s = ArchitectureSearch.of(c, lm.weights()).importance(scores).space(space)
                    .budget(ai.minitron.config.ParamCount.of(c).total() * 8 / 10, 0.25)
                    .validation(BatchSource.ofRows(rows), 1, 4).zeroShotScorer(spark.withPartitions(p).zeroShot(ref));
            assertSameTable(local, s.run().candidates(), "candidates.arrow", p);
        }
    }

    /** run.json without what differs between any two runs (id, time, timings). */
    static JsonObject strip(JsonObject run) {
        JsonObject o = run.deepCopy();
        o.remove("run_id");
        o.remove("created");
        o.remove("timings_s");
        o.remove("cluster");
        return o;
    }

    static void assertSameTable(Table a, Table b, String what, int p) {
        assertEquals(a.columnNames(), b.columnNames(), what);
        assertEquals(a.rowCount(), b.rowCount(), what);
        for (String col : a.columnNames()) {
            if (col.equals("run_id")) {
                continue;
            }
            for (int r = 0; r < a.rowCount(); r++) {
                assertEquals(a.column(col).get(r), b.column(col).get(r), p + " partitions: " + what + " " + col + " row " + r);
            }
        }
    }
}
