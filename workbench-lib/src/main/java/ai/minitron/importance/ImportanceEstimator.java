package ai.minitron.importance;

import ai.minitron.config.Axis;
import ai.minitron.config.ModelConfig;
import ai.minitron.data.CalibrationSet;
import ai.minitron.io.Sha256;
import ai.minitron.model.Provenance;
import ai.minitron.model.Weights;
import ai.minitron.progress.Progress;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import tech.tablesaw.api.Table;

/**
 * Step (1) of Minitron (arXiv 2407.14679 §2; docs/architecture.md, "Importance statistics"): scores every prunable unit of a
 * trained model — attention heads, MLP neurons, embedding channels, layers — with the paper's
 * activation importance under all 9 aggregation pairs, its depth metrics, and the baselines it is
 * compared with, in one {@link ImportanceTable}.
 *
 * <p>Cost: one forward pass over the calibration set for every activation-derived metric together
 * (activation, activation_channel, wanda, block importance, and the calibration-size stability
 * prefixes); one forward + backward pass for Taylor; one forward pass per layer and per block for the
 * loss-based depth metrics; none for magnitude and random.
 */
public final class ImportanceEstimator {
    private ImportanceEstimator() {}

    /**
     * What to compute.
     *
     * @param metrics the metrics to score (depth metrics included)
     * @param batchSize samples per forward pass
     * @param seed seed of the random baseline (and recorded as the run's seed)
     * @param blockK block sizes of the contiguous block-drop scan
     * @param depthSamples samples used by the loss-based depth metrics and Taylor (0 = all)
     * @param includeFinalNorm add the final norm's output to the embedding-channel score (ModelOpt: no)
     * @param stabilityLevels halvings for the calibration-size stability table (N/2, N/4, ...; 0 = none)
     * @param keepFraction fraction of units the stability table's kept sets hold
     * @param topFraction k = fraction · units of the agreement table's top-k overlap
     */
    public record Options(Set<Metric> metrics, int batchSize, long seed, int[] blockK, int depthSamples,
            boolean includeFinalNorm, int stabilityLevels, double keepFraction, double topFraction,
            Set<Aggregation> seqAggregations) {
        public Options {
            metrics = metrics.isEmpty() ? EnumSet.noneOf(Metric.class) : EnumSet.copyOf(metrics);
            if (seqAggregations == null || seqAggregations.isEmpty()) {
                throw new IllegalArgumentException("at least one sequence aggregation is needed (mean, l2, var)");
            }
            seqAggregations = EnumSet.copyOf(seqAggregations);
            if (metrics.contains(Metric.WANDA) && !seqAggregations.contains(Aggregation.L2)) {
                throw new IllegalArgumentException("the wanda metric needs the l2 sequence aggregation (its input norms);"
                        + " sequence aggregations given: " + seqAggregations);
            }
            if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
            if (depthSamples < 0) throw new IllegalArgumentException("depth samples must be >= 0, got " + depthSamples);
            if (!(keepFraction > 0 && keepFraction <= 1)) {
                throw new IllegalArgumentException("keep fraction must be in (0, 1], got " + keepFraction);
            }
            if (!(topFraction > 0 && topFraction <= 1)) {
                throw new IllegalArgumentException("top fraction must be in (0, 1], got " + topFraction);
            }
            blockK = blockK.clone();
        }

        /** Every metric; batch 8; seed 1234; blocks of 2; all samples; final norm included; N/2 and N/4. */
        public static Options defaults() {
            return new Options(EnumSet.allOf(Metric.class), 8, 1234, new int[] {2}, 0, true, 2, 0.5, 0.1,
                    EnumSet.allOf(Aggregation.class));
        }

        public Options withMetrics(Set<Metric> m) {
            return new Options(m, batchSize, seed, blockK, depthSamples, includeFinalNorm, stabilityLevels,
                    keepFraction, topFraction, seqAggregations);
        }

        public Options withBatchSize(int b) {
            return new Options(metrics, b, seed, blockK, depthSamples, includeFinalNorm, stabilityLevels,
                    keepFraction, topFraction, seqAggregations);
        }

        public Options withSeed(long s) {
            return new Options(metrics, batchSize, s, blockK, depthSamples, includeFinalNorm, stabilityLevels,
                    keepFraction, topFraction, seqAggregations);
        }

        public Options withBlockK(int... k) {
            return new Options(metrics, batchSize, seed, k, depthSamples, includeFinalNorm, stabilityLevels,
                    keepFraction, topFraction, seqAggregations);
        }

        public Options withDepthSamples(int n) {
            return new Options(metrics, batchSize, seed, blockK, n, includeFinalNorm, stabilityLevels,
                    keepFraction, topFraction, seqAggregations);
        }

        public Options withIncludeFinalNorm(boolean b) {
            return new Options(metrics, batchSize, seed, blockK, depthSamples, b, stabilityLevels, keepFraction,
                    topFraction, seqAggregations);
        }

        public Options withStabilityLevels(int n) {
            return new Options(metrics, batchSize, seed, blockK, depthSamples, includeFinalNorm, n, keepFraction,
                    topFraction, seqAggregations);
        }

        /** Whether a metric reads the per-channel moments of the attention heads' context (o_proj's input). */
        public boolean needsHeadChannels() {
            return metrics.contains(Metric.ACTIVATION_CHANNEL) || metrics.contains(Metric.WANDA);
        }

        /**
         * Only these sequence aggregations (the activation pass reduces nothing the others would need): e.g.
         * {@code EnumSet.of(MEAN)} with metrics {activation, block_importance} is the paper's metric alone.
         */
        public Options withSeqAggregations(Set<Aggregation> aggs) {
            return new Options(metrics, batchSize, seed, blockK, depthSamples, includeFinalNorm, stabilityLevels,
                    keepFraction, topFraction, aggs);
        }

        /** The same options without the loss-based depth metrics (block importance stays: it is free). */
        public Options withoutDepthScan() {
            EnumSet<Metric> m = metrics.isEmpty() ? EnumSet.noneOf(Metric.class) : EnumSet.copyOf(metrics);
            m.remove(Metric.LAYER_DROP);
            m.remove(Metric.BLOCK_DROP);
            return withMetrics(m);
        }
    }

    /**
     * The calibration pass as a function: the statistics of samples [0, b1), [b1, b2), ..., [bk, N) of
     * the set, one {@link ActivationStats} per shard, exactly as {@link ActivationPass#run(CalibrationSet, int,
     * int[], Progress)} computes them in this process. Another implementation may compute them elsewhere (e.g.
     * on a cluster, module {@code spark}) as long as every batch of {@code batchSize} samples is the same
     * forward pass, so the exact sums are bit for bit the same.
     */
    @FunctionalInterface
    public interface ShardPass {
        List<ActivationStats> run(CalibrationSet cal, int batchSize, int[] boundaries, Progress progress);
    }

    /**
     * Runs the estimation.
     *
     * @param modelDir the checkpoint directory (hashed for provenance), or null to hash the weights
     * @param progress phase progress (may be null)
     */
    public static ImportanceResult run(ModelConfig c, Weights w, CalibrationSet cal, Options o, java.nio.file.Path modelDir,
            Progress progress) {
        return run(c, w, cal, o, modelDir, progress, new ActivationPass(c, w, List.copyOf(o.seqAggregations()),
                o.needsHeadChannels())::run);
    }

    /**
     * Runs the estimation with the calibration pass computed by {@code pass} (the activation statistics);
     * everything else (data-free baselines, Taylor, depth scans, tables, provenance) runs here.
     */
    public static ImportanceResult run(ModelConfig c, Weights w, CalibrationSet cal, Options o, java.nio.file.Path modelDir,
            Progress progress, ShardPass pass) {
        cal.checkContext(c.maxPositionEmbeddings()).checkVocab(c.vocabSize());
        Instant started = Instant.now();
        String modelHash = modelDir != null ? Provenance.checkpointHash(modelDir) : Provenance.weightsHash(w);
        String calHash = cal.contentHash();
        String runId = runId(started, modelHash, calHash, o);
        int n = cal.size();
        long tokens = cal.tokens();
        JsonObject timings = new JsonObject();
        ImportanceTable.Builder rows = new ImportanceTable.Builder(runId);
        Set<Metric> m = o.metrics();

        // ---- one calibration pass: every activation-derived metric and the stability prefixes ----
        ActivationStats full = null;
        List<Comparisons.Subset> subsets = new ArrayList<>();
        boolean needActivations = m.stream().anyMatch(Metric::usesActivations);
        if (needActivations) {
            int[] bounds = stabilityBoundaries(n, o.stabilityLevels());
            long t0 = System.nanoTime();
            List<ActivationStats> shards = pass.run(cal, o.batchSize(), bounds, progress);
            timings.addProperty("activation_pass", (System.nanoTime() - t0) / 1e9);
            ActivationStats prefix = new ActivationStats();
            for (int i = 0; i < shards.size(); i++) {
                prefix.merge(shards.get(i));
                if (i < bounds.length) {
                    subsets.add(new Comparisons.Subset(bounds[i], prefix.copy()));
                }
            }
            full = prefix;
            java.util.Collections.reverse(subsets); // N/2 first
            if (m.contains(Metric.ACTIVATION)) {
                for (Aggregation b : Aggregation.values()) {
                    for (Aggregation s : o.seqAggregations()) {
                        rows.add(ActivationMetric.scores(c, full, Metric.ACTIVATION, b, s, o.includeFinalNorm()),
                                Metric.ACTIVATION.key(), b.key(), s.key(), n, tokens);
                    }
                }
            }
            if (m.contains(Metric.ACTIVATION_CHANNEL)) {
                for (Aggregation b : Aggregation.values()) {
                    for (Aggregation s : o.seqAggregations()) {
                        AxisScores a = ActivationMetric.scores(c, full, Metric.ACTIVATION_CHANNEL, b, s,
                                o.includeFinalNorm());
                        rows.add(new AxisScores(null, a.heads(), null, null), Metric.ACTIVATION_CHANNEL.key(),
                                b.key(), s.key(), n, tokens);
                    }
                }
            }
            if (m.contains(Metric.WANDA)) {
                rows.add(WandaMetric.scores(c, w, full), Metric.WANDA.key(), ImportanceTable.NONE,
                        ImportanceTable.NONE, n, tokens);
            }
            if (m.contains(Metric.BLOCK_IMPORTANCE)) {
                rows.add(Axis.LAYERS, -1, Metric.BLOCK_IMPORTANCE.key(), ImportanceTable.NONE, ImportanceTable.NONE,
                        BlockImportance.scores(c, full), n, tokens);
            }
        }

        // ---- data-free baselines ----
        if (m.contains(Metric.MAGNITUDE)) {
            rows.add(MagnitudeMetric.scores(c, w), Metric.MAGNITUDE.key(), ImportanceTable.NONE, ImportanceTable.NONE,
                    0, 0);
        }
        if (m.contains(Metric.RANDOM)) {
            rows.add(RandomMetric.scores(c, o.seed()), Metric.RANDOM.key(), ImportanceTable.NONE, ImportanceTable.NONE,
                    0, 0);
        }

        // ---- gradient and loss-based metrics (on the first depthSamples samples) ----
        CalibrationSet small = o.depthSamples() > 0 && o.depthSamples() < n ? cal.head(o.depthSamples()) : cal;
        if (m.contains(Metric.TAYLOR)) {
            long t0 = System.nanoTime();
            AxisScores t = TaylorMetric.scores(c, w, small, o.batchSize(), progress);
            timings.addProperty("taylor", (System.nanoTime() - t0) / 1e9);
            rows.add(t, Metric.TAYLOR.key(), ImportanceTable.NONE, ImportanceTable.NONE, small.size(), small.tokens());
        }
        Double baseline = null;
        JsonArray skippedK = new JsonArray();
        if (m.contains(Metric.LAYER_DROP) || m.contains(Metric.BLOCK_DROP)) {
            long t0 = System.nanoTime();
            DepthScan scan = new DepthScan(c, w, small, o.batchSize());
            baseline = scan.baseline();
            if (m.contains(Metric.LAYER_DROP)) {
                rows.add(Axis.LAYERS, -1, Metric.LAYER_DROP.key(), ImportanceTable.NONE, ImportanceTable.NONE,
                        scan.layerDrop(baseline, progress), small.size(), small.tokens());
            }
            if (m.contains(Metric.BLOCK_DROP)) {
                for (int k : o.blockK()) {
                    if (k < 1 || k >= c.numHiddenLayers()) {
                        skippedK.add(k);
                        continue;
                    }
                    rows.add(Axis.LAYERS, -1, Metric.blockDrop(k), ImportanceTable.NONE, ImportanceTable.NONE,
                            scan.blockDrop(k, baseline, progress), small.size(), small.tokens());
                }
            }
            timings.addProperty("depth_scan", (System.nanoTime() - t0) / 1e9);
        }

        // ---- provenance ----
        JsonObject run = new JsonObject();
        run.addProperty("run_id", runId);
        run.addProperty("created", DateTimeFormatter.ISO_INSTANT.format(started));
        JsonObject model = new JsonObject();
        model.addProperty("dir", modelDir == null ? null : modelDir.toAbsolutePath().normalize().toString());
        model.addProperty(modelDir != null ? "sha256" : "weights_sha256", modelHash);
        if (modelDir != null) {
            JsonArray files = new JsonArray();
            Provenance.checkpointFiles(modelDir).forEach(f -> files.add(f.getFileName().toString()));
            model.add("hashed_files", files);
        }
        model.addProperty("architecture", c.architecture().hfClass());
        model.addProperty("num_hidden_layers", c.numHiddenLayers());
        model.addProperty("hidden_size", c.hiddenSize());
        model.addProperty("num_attention_heads", c.numAttentionHeads());
        model.addProperty("num_key_value_heads", c.numKeyValueHeads());
        model.addProperty("head_dim", c.headDim());
        model.addProperty("intermediate_size", c.intermediateSize());
        model.addProperty("compute_dtype", String.valueOf(w.dataType()));
        run.add("model", model);
        JsonObject calib = new JsonObject();
        calib.addProperty("source", cal.source());
        calib.addProperty("mode", cal.mode().name().toLowerCase());
        calib.addProperty("samples", n);
        calib.addProperty("seq_len", cal.seqLen());
        calib.addProperty("tokens", tokens);
        calib.addProperty("seed", cal.seed());
        calib.addProperty("batch_size", o.batchSize());
        calib.addProperty("content_sha256", calHash);
        calib.addProperty("source_sha256", cal.sourceHash());
        calib.add("sample_ids", toJson(cal.sampleIds()));
        calib.addProperty("depth_and_taylor_samples", small.size());
        run.add("calibration", calib);
        run.addProperty("seed", o.seed());
        JsonArray metrics = new JsonArray();
        m.forEach(x -> metrics.add(x.key()));
        run.add("metrics", metrics);
        JsonObject opts = new JsonObject();
        JsonArray ks = new JsonArray();
        Arrays.stream(o.blockK()).forEach(ks::add);
        opts.add("block_k", ks);
        if (skippedK.size() > 0) opts.add("block_k_skipped", skippedK);
        opts.addProperty("include_final_norm", o.includeFinalNorm());
        opts.addProperty("stability_levels", o.stabilityLevels());
        opts.addProperty("keep_fraction", o.keepFraction());
        opts.addProperty("top_fraction", o.topFraction());
        JsonArray seqAggs = new JsonArray();
        o.seqAggregations().forEach(a -> seqAggs.add(a.key()));
        opts.add("seq_aggregations", seqAggs);
        run.add("options", opts);
        JsonObject res = new JsonObject();
        if (baseline != null) {
            res.addProperty("baseline_loss", baseline);
            res.addProperty("baseline_perplexity", Math.exp(baseline));
        }
        run.add("results", res);
        run.add("timings_s", timings);
        run.add("libraries", Provenance.libraryVersions());
        run.addProperty("notes", "score: higher = more important. batch_agg/seq_agg 'none' for metrics without"
                + " aggregation. layer_drop and block_drop_kK are LM-loss increases over baseline_loss."
                + " activation_channel is NVIDIA ModelOpt's head score (per-channel aggregation, then L2 over"
                + " head_dim); activation follows the paper (per-token L2 over head_dim, then aggregation).");

        ImportanceTable table = rows.build(run);
        Table agreement = table.table().rowCount() > 0 ? Comparisons.agreement(table, o.topFraction()) : null;
        Table stability = full != null && !subsets.isEmpty()
                ? Comparisons.stability(c, w, full, n, subsets, o.keepFraction(), o.includeFinalNorm(),
                        o.seqAggregations(), o.needsHeadChannels()) : null;
        return new ImportanceResult(table, full, agreement, stability, run);
    }

    /** Prefix sizes N/2^levels, ..., N/4, N/2 (distinct, in (0, N)). */
    public static int[] stabilityBoundaries(int n, int levels) {
        List<Integer> b = new ArrayList<>();
        for (int i = levels; i >= 1; i--) {
            int s = n >> i;
            if (s >= 1 && s < n && (b.isEmpty() || b.get(b.size() - 1) < s)) b.add(s);
        }
        return b.stream().mapToInt(Integer::intValue).toArray();
    }

    /** "imp-20250101T120000Z-1a2b3c4d": time plus a hash of model, data, seed and metrics. */
    static String runId(Instant t, String modelHash, String calHash, Options o) {
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(t);
        String key = modelHash + "|" + calHash + "|" + o.seed() + "|" + o.metrics() + "|" + t.toEpochMilli();
        return "imp-" + stamp + "-" + Sha256.hex(key).substring(0, 8);
    }

    private static JsonArray toJson(int[] ids) {
        JsonArray a = new JsonArray();
        for (int i : ids) a.add(i);
        return a;
    }
}
