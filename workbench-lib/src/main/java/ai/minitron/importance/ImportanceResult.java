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
