package ai.minitron.importance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.minitron.TestConfigs;
import ai.minitron.config.ModelConfig;
import ai.minitron.data.CalibrationSet;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Provenance;
import ai.minitron.model.Weights;
import ai.minitron.stats.ArrowIo;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/**
 * A whole run: every metric into one table, provenance, analysis tables, files written atomically,
 * read back in Java, and read by pyarrow and pandas (tools/check_arrow.py).
 */
class EstimatorTest {
    @TempDir
    Path tmp;

    @Test
    void aFullRunWritesEverythingAndReadsBack() throws Exception {
        ModelConfig c = TestConfigs.llama();
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Models.random(c, m, 51);
            Path ckpt = Models.save(c, w, tmp.resolve("model"));
            CalibrationSet cal = Models.rows(c, 8, 12, 52);
            ImportanceResult r;
            try (LanguageModel lm = LanguageModel.load(ckpt, m)) {
                r = ImportanceEstimator.run(lm.config(), lm.weights(), cal,
                        ImportanceEstimator.Options.defaults().withBatchSize(4).withBlockK(1, 2, 9), ckpt, null);
            }
            ImportanceTable t = r.table();
            Set<String> specs = new HashSet<>();
            t.specs().forEach(s -> specs.add(s.toString()));
            assertEquals(9 + 9 + 6 + 1, specs.size(), "9 + 9 activation pairs, 6 plain metrics, 1 block size: " + specs);
            assertTrue(specs.containsAll(List.of("activation(l2,mean)", "activation_channel(var,l2)", "magnitude",
                    "random", "taylor", "wanda", "block_importance", "layer_drop", "block_drop_k1")));
            int perPair = 2 * (4 + 24) + 16; // heads + mlp per layer, hidden
            assertEquals(9 * perPair + 9 * 2 * 4 + 4 * (perPair + 2) + 2 * 2 + 2, t.table().rowCount());

            JsonObject run = r.run();
            assertEquals(64, run.getAsJsonObject("model").get("sha256").getAsString().length());
            assertEquals(Provenance.checkpointHash(ckpt), run.getAsJsonObject("model").get("sha256").getAsString());
            assertEquals(cal.contentHash(), run.getAsJsonObject("calibration").get("content_sha256").getAsString());
            assertEquals(8, run.getAsJsonObject("calibration").getAsJsonArray("sample_ids").size());
            assertTrue(run.getAsJsonObject("libraries").get("djl").getAsString().startsWith("0.36"));
            assertTrue(run.getAsJsonObject("results").get("baseline_loss").getAsDouble() > 0);
            // a 2-layer model has blocks of 1 layer only: k = 2 and 9 are skipped and recorded
            assertEquals("[2,9]", run.getAsJsonObject("options").getAsJsonArray("block_k_skipped").toString());

            Path out = tmp.resolve("run");
            List<Path> files = r.write(out);
            assertEquals(5, files.size());
            try (var s = Files.list(out)) {
                assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temp files left");
            }
            ImportanceTable back = ImportanceTable.load(out);
            assertEquals(t.table().rowCount(), back.table().rowCount());
            assertEquals(t.runId(), back.run().get("run_id").getAsString());
            assertEquals(t.runId(), ArrowIo.metadata(out.resolve(ImportanceTable.FILE)).get("run_id"));
            assertTrue(ActivationStats.read(out.resolve(ImportanceResult.ACCUMULATORS_FILE)).sameAs(r.stats()));
            double[] bi = back.where("block_importance").layers();
            assertEquals(2, bi.length);

            Table agreement = ArrowIo.read(out.resolve(ImportanceResult.AGREEMENT_FILE));
            assertTrue(agreement.rowCount() > 100);
            Table stability = ArrowIo.read(out.resolve(ImportanceResult.STABILITY_FILE));
            assertEquals(List.of(4, 2), List.copyOf(new java.util.TreeSet<>(stability.intColumn("n_samples").asList()))
                    .stream().sorted(java.util.Comparator.reverseOrder()).toList(), "N/2 and N/4 of 8 samples");
            assertTrue(stability.doubleColumn("jaccard").min() >= 0 && stability.doubleColumn("jaccard").max() <= 1);
            assertFalse(stability.doubleColumn("jaccard").isMissing().size() > 0);

            // the notebook conveniences select exactly the rows a filter over the tables would
            assertEquals(run.getAsJsonObject("results").get("baseline_loss").getAsDouble(), r.baselineLoss());
            Table vs = r.agreementWith("activation(l2,mean)");
            int pairs = 0;
            for (int i = 0; i < agreement.rowCount(); i++) {
                String a = agreement.stringColumn("metric_a").get(i);
                String b = agreement.stringColumn("metric_b").get(i);
                if (a.equals("activation(l2,mean)") || b.equals("activation(l2,mean)")) pairs++;
            }
            assertTrue(pairs > 0);
            assertEquals(pairs, vs.rowCount());
            for (int i = 0; i < vs.rowCount(); i++) {
                String a = vs.stringColumn("metric_a").get(i);
                String b = vs.stringColumn("metric_b").get(i);
                assertEquals(a.equals("activation(l2,mean)") ? b : a, vs.stringColumn("versus").get(i));
            }
            Table layer = r.agreementOn("layer");
            assertTrue(layer.rowCount() > 0);
            assertTrue(layer.stringColumn("axis").asList().stream().allMatch("layer"::equals));
            assertFalse(layer.stringColumn("metric_a").contains("random") || layer.stringColumn("metric_b").contains("random"));
            Table best = r.stabilityOf("activation", "l2", "mean");
            assertTrue(best.rowCount() > 0);
            assertTrue(best.stringColumn("metric").asList().stream().allMatch("activation"::equals));
            assertTrue(best.stringColumn("seq_agg").asList().stream().allMatch("mean"::equals));

            pythonCheck(out, back);
        }
    }

    /**
     * pyarrow and pandas read the files (tools/check_arrow.py from the venv .ci/run creates). Skipped
     * on a machine without that venv, except under CI, where a missing venv fails.
     */
    private void pythonCheck(Path out, ImportanceTable t) throws Exception {
        Path python = Path.of("../.venv/bin/python").toAbsolutePath().normalize();
        String env = System.getenv("MINITRON_PYTHON");
        if (env != null) python = Path.of(env);
        boolean ci = "true".equals(System.getenv("CI"));
        if (!Files.isExecutable(python)) {
            if (ci) throw new AssertionError("CI: " + python + " missing (.ci/run must create the venv)");
            Assumptions.abort("no " + python + "; create it with tools/requirements-arrow-check.txt");
        }
        Path script = Path.of("../tools/check_arrow.py").toAbsolutePath().normalize();
        Process p = new ProcessBuilder(python.toString(), script.toString(), out.toString())
                .redirectError(ProcessBuilder.Redirect.PIPE).start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "check_arrow.py timed out");
        if (p.exitValue() != 0 && !ci && stderr.contains("ModuleNotFoundError")) {
            Assumptions.abort(python + " lacks pyarrow/pandas: " + stderr.strip());
        }
        assertEquals(0, p.exitValue(), "check_arrow.py failed: " + stderr + stdout);
        JsonObject res = JsonParser.parseString(stdout).getAsJsonObject().getAsJsonObject("files");
        JsonObject imp = res.getAsJsonObject("importance.arrow");
        assertEquals(t.table().rowCount(), imp.get("rows").getAsInt());
        double sum = t.table().doubleColumn("score").sum();
        assertEquals(sum, imp.get("score_sum").getAsDouble(), 1e-9 * Math.abs(sum));
        assertEquals(sum, imp.get("score_sum_pandas").getAsDouble(), 1e-9 * Math.abs(sum));
        assertEquals(t.runId(), imp.get("run_id").getAsString());
        assertTrue(res.has("accumulators.arrow") && res.has("agreement.arrow") && res.has("stability.arrow"));
        assertTrue(new File(script.toString()).exists());
    }
}
