package ai.minitron.importance;

import ai.minitron.io.AtomicFiles;
import ai.minitron.stats.ArrowIo;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Everything one importance run produced, and how it is laid out on disk:
 *
 * <pre>
 *   OUT/importance.arrow     the long importance table ({@link ImportanceTable})
 *   OUT/accumulators.arrow   raw count / Σ / Σ² per layer, site, unit, seq_agg ({@link ActivationStats})
 *   OUT/agreement.arrow      rank agreement between metrics ({@link Comparisons#agreement})
 *   OUT/stability.arrow      calibration-size stability ({@link Comparisons#stability})
 *   OUT/run.json             provenance
 *   OUT/charts/*.png|svg     charts, written by {@code viz.Charts.report} (viz depends on importance, not the reverse)
 * </pre>
 *
 * Every file is written atomically (temporary sibling + rename).
 */
public record ImportanceResult(ImportanceTable table, ActivationStats stats, Table agreement, Table stability,
        JsonObject run) {
    public static final String ACCUMULATORS_FILE = "accumulators.arrow";
    public static final String AGREEMENT_FILE = "agreement.arrow";
    public static final String STABILITY_FILE = "stability.arrow";

    /**
     * The calibration loss of the unpruned model (mean next-token NLL over the depth-scan samples), the
     * baseline the layer-drop and block-drop increases are measured from; NaN when no depth scan ran.
     */
    public double baselineLoss() {
        JsonObject results = run.getAsJsonObject("results");
        return results == null || !results.has("baseline_loss") ? Double.NaN : results.get("baseline_loss").getAsDouble();
    }

    /**
     * The agreement rows that compare {@code spec} (e.g. {@code "activation(l2,mean)"}) with another metric, with a
     * column {@code versus} naming that other metric (whichever side of the pair it was on).
     */
    public Table agreementWith(String spec) {
        Table t = agreement.where(agreement.stringColumn("metric_a").isEqualTo(spec)
                .or(agreement.stringColumn("metric_b").isEqualTo(spec)));
        StringColumn versus = StringColumn.create("versus");
        for (int r = 0; r < t.rowCount(); r++) {
            String a = t.stringColumn("metric_a").get(r);
            versus.append(a.equals(spec) ? t.stringColumn("metric_b").get(r) : a);
        }
        return t.addColumns(versus).setName("agreement with " + spec);
    }

    /** The agreement rows of one axis ("heads", "mlp", "hidden", "layer") between metrics other than random. */
    public Table agreementOn(String axis) {
        return agreement.where(agreement.stringColumn("axis").isEqualTo(axis)
                .and(agreement.stringColumn("metric_a").isNotEqualTo("random"))
                .and(agreement.stringColumn("metric_b").isNotEqualTo("random"))).setName("agreement on " + axis);
    }

    /** The stability rows of one metric and aggregation (kept-set Jaccard and Spearman at N/2, N/4, ...). */
    public Table stabilityOf(String metric, String batchAgg, String seqAgg) {
        return stability.where(stability.stringColumn("metric").isEqualTo(metric)
                .and(stability.stringColumn("batch_agg").isEqualTo(batchAgg))
                .and(stability.stringColumn("seq_agg").isEqualTo(seqAgg)))
                .setName(metric + " (" + batchAgg + ", " + seqAgg + ") stability");
    }

    /** Writes the run into {@code out}; returns the files written. */
    public List<Path> write(Path out) {
        List<Path> files = new ArrayList<>();
        String runId = table.runId();
        Map<String, String> meta = Map.of("run_id", runId, "producer", "minitron-workbench importance");
        Path imp = out.resolve(ImportanceTable.FILE);
        table.write(imp);
        files.add(imp);
        if (stats != null) {
            Path acc = out.resolve(ACCUMULATORS_FILE);
            stats.write(acc, runId, Map.of("run_id", runId, "producer", "minitron-workbench importance",
                    "fixed_point_fraction_bits", String.valueOf(ai.minitron.stats.ExactSum.FRACTION_BITS)));
            files.add(acc);
        }
        if (agreement != null) {
            Path a = out.resolve(AGREEMENT_FILE);
            ArrowIo.write(agreement, a, meta);
            files.add(a);
        }
        if (stability != null) {
            Path s = out.resolve(STABILITY_FILE);
            ArrowIo.write(stability, s, meta);
            files.add(s);
        }
        Path runFile = out.resolve(ImportanceTable.RUN_FILE);
        try {
            AtomicFiles.writeString(runFile, new GsonBuilder().setPrettyPrinting().serializeNulls()
                    .disableHtmlEscaping().create().toJson(run) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + runFile + ": " + e.getMessage(), e);
        }
        files.add(runFile);
        return files;
    }
}
