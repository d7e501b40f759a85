package ai.minitron.search;

import ai.minitron.config.ParamCount;
import ai.minitron.model.Provenance;
import ai.minitron.io.AtomicFiles;
import ai.minitron.io.Sha256;
import ai.minitron.stats.ArrowIo;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import tech.tablesaw.api.Table;

/**
 * Where an {@link ArchitectureSearch} keeps its results and resumes from: {@code candidates.arrow},
 * {@code retrain.arrow} and the {@code search.json} summary in the search's output directory (none of
 * them without one).
 *
 * <p>Each table carries, in its Arrow metadata under {@code search_settings}, a SHA-256 of every setting
 * that determines its numbers: for the candidates the parent (config and weights), the importance run,
 * the space, budget, tolerance, ranking metric, depth rule, head residual, the validation tokens
 * themselves and the distillation options; for the retraining additionally top K, stages, tokens per
 * stage, learning rate, seed and the training data's shape. A directory whose tables carry another hash
 * holds another search and is refused, so a resumed search never mixes scores of two configurations.
 */
final class SearchStore {
    private static final String SETTINGS_KEY = "search_settings";

    private final ArchitectureSearch search;
    private final Path dir;
    private final String settings;
    private final String retrainSettings;

    private SearchStore(ArchitectureSearch search, Path dir) {
        this.search = search;
        this.dir = dir;
        this.settings = settingsHash(search);
        this.retrainSettings = Sha256.hex(settings + "|topk=" + search.topK + "|stages=" + search.stages + "|tokens="
                + search.tokensPerStage + "|lr=" + search.lr + "|seed=" + search.seed + "|train="
                + (search.train == null ? "-" : search.train.seqLen() + "/" + search.train.size()));
    }

    /** The store of {@code search} in {@code dir} (created); {@code dir} null: nothing is read or written. */
    static SearchStore open(ArchitectureSearch search, Path dir) {
        if (dir != null) {
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
            }
        }
        return new SearchStore(search, dir);
    }

    // ---------------------------------------------------------------- tables

    /** The candidates scored by an earlier run of this search (empty without one). */
    Map<String, double[]> scoredCandidates() {
        Table t = earlier(ArchitectureSearch.CANDIDATES_FILE, settings);
        return t == null ? new LinkedHashMap<>() : SearchTables.scores(t);
    }

    /** Rewrites candidates.arrow (atomically). */
    void writeCandidates(Table t) {
        write(t, ArchitectureSearch.CANDIDATES_FILE, settings);
    }

    /** The retraining stages reached by an earlier run of this search: candidate id -> stage -> {val_loss, kl}. */
    Map<String, Map<Integer, double[]>> retrainingLog() {
        Table t = earlier(ArchitectureSearch.RETRAIN_FILE, retrainSettings);
        return t == null ? new LinkedHashMap<>() : SearchTables.log(t);
    }

    /** Rewrites retrain.arrow (atomically). */
    void writeRetraining(Table t) {
        write(t, ArchitectureSearch.RETRAIN_FILE, retrainSettings);
    }

    /** Table {@code name} as an earlier run wrote it (null if there is none); refused if its settings differ. */
    private Table earlier(String name, String hash) {
        Path f = dir == null ? null : dir.resolve(name);
        if (f == null || !Files.isRegularFile(f)) {
            return null;
        }
        checkSettings(f, hash);
        return ArrowIo.read(f);
    }

    private void write(Table t, String name, String hash) {
        if (dir != null) {
            ArrowIo.write(t, dir.resolve(name), Map.of(SETTINGS_KEY, hash));
        }
    }

    private static void checkSettings(Path f, String settings) {
        String saved = ArrowIo.metadata(f).get(SETTINGS_KEY);
        if (!settings.equals(saved)) {
            throw new IllegalArgumentException(f + ": this directory holds a search with other settings (model, importance,"
                    + " space, budget, metric, validation or retraining differ); use a new output directory");
        }
    }

    // ---------------------------------------------------------------- settings

    /** Everything that determines the zero-shot scores, hashed: a resumed search must match it exactly. */
    private static String settingsHash(ArchitectureSearch s) {
        JsonObject o = new JsonObject();
        o.addProperty("parent_config", s.parent.toJsonString());
        o.addProperty("parent_weights_sha256", Provenance.weightsHash(s.weights));
        o.addProperty("importance", s.scores.runId());
        o.add("space", s.space.toJson());
        o.addProperty("budget", s.budget);
        o.addProperty("tolerance", s.tolerance);
        o.addProperty("metric", s.rankBy.name());
        o.addProperty("depth", s.depth.name());
        o.addProperty("head_residual", s.headResidual);
        o.addProperty("validation_batches", s.valBatches);
        o.addProperty("batch_size", s.batchSize);
        o.addProperty("validation_sha256", validationHash(s));
        o.addProperty("distillation", s.distill.toString());
        return Sha256.hex(o.toString());
    }

    private static String validationHash(ArchitectureSearch s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.valBatches; i++) {
            for (long[] row : s.val.batch(i, s.batchSize)) {
                b.append(Arrays.toString(row)).append('\n');
            }
        }
        return Sha256.hex(b.toString());
    }


    // ---------------------------------------------------------------- summary

    /** Writes search.json: the settings, every ranking, Kendall's τ per stage and the chosen shape with its plan. */
    void writeSummary(SearchResult r, int candidates) {
        if (dir == null) {
            return;
        }
        ArchitectureSearch s = search;
        JsonObject o = new JsonObject();
        o.addProperty("parent_params", ParamCount.of(s.parent).total());
        o.addProperty("budget", s.budget);
        o.addProperty("tolerance", s.tolerance);
        o.addProperty("metric", s.rankBy.name().toLowerCase(Locale.ROOT));
        o.addProperty("depth", s.depth.name());
        o.addProperty("head_residual", s.headResidual);
        o.addProperty("importance", s.scores.runId());
        o.add("space", s.space.toJson());
        o.addProperty("candidates", candidates);
        o.addProperty("validation_batches", s.valBatches);
        o.addProperty("batch_size", s.batchSize);
        o.addProperty("validation_tokens", (long) s.valBatches * s.batchSize * s.val.seqLen());
        JsonObject rt = new JsonObject();
        rt.addProperty("top_k", Math.min(s.topK, candidates));
        rt.addProperty("stages", s.topK > 0 ? s.stages : 0);
        rt.addProperty("tokens_per_stage", s.topK > 0 ? s.tokensPerRetrainStage() : 0);
        rt.addProperty("learning_rate", s.lr);
        rt.addProperty("seed", s.seed);
        o.add("retraining", rt);
        JsonArray rs = new JsonArray();
        for (SearchResult.Ranking k : r.rankings()) {
            JsonObject x = new JsonObject();
            x.addProperty("stage", k.stage());
            x.addProperty("tokens", k.tokens());
            JsonArray ids = new JsonArray();
            k.ids().forEach(ids::add);
            x.add("ranking", ids);
            rs.add(x);
        }
        o.add("rankings", rs);
        JsonArray tau = new JsonArray();
        for (double t : r.tau()) {
            tau.add(Double.isNaN(t) ? null : t);
        }
        o.add("kendall_tau", tau);
        JsonObject best = new JsonObject();
        Candidate b = r.best();
        best.addProperty("id", b.id());
        best.addProperty("hidden_size", b.hiddenSize());
        best.addProperty("num_attention_heads", b.numAttentionHeads());
        best.addProperty("num_key_value_heads", b.kvGroups());
        best.addProperty("intermediate_size", b.mlpSize());
        best.addProperty("num_hidden_layers", b.numLayers());
        best.addProperty("params", b.params());
        best.add("plan", new GsonBuilder().create().toJsonTree(s.planFor(b)));
        o.add("chosen", best);
        o.addProperty("settings_sha256", settings);
        Path f = dir.resolve(ArchitectureSearch.SUMMARY_FILE);
        try {
            AtomicFiles.writeString(f, new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(o) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + f + ": " + e.getMessage(), e);
        }
    }
}
