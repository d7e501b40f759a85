package ai.minitron.cli;

import ai.djl.ndarray.NDManager;
import ai.minitron.cluster.Cluster;
import ai.minitron.cluster.ModelRef;
import ai.minitron.data.CalibrationSet;
import ai.minitron.data.Corpus;
import ai.minitron.importance.ActivationPass;
import ai.minitron.importance.ImportanceBenchmark;
import ai.minitron.importance.Aggregation;
import ai.minitron.importance.ImportanceEstimator;
import ai.minitron.importance.ImportanceResult;
import ai.minitron.importance.ImportanceTable;
import ai.minitron.importance.Metric;
import ai.minitron.io.AtomicFiles;
import ai.minitron.io.OutputDir;
import ai.minitron.io.OutputLock;
import ai.minitron.model.Provenance;
import ai.minitron.model.LanguageModel;
import ai.minitron.tokenize.Tokenizer;
import ai.minitron.viz.Charts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code minitron importance}: step (1) of Minitron. Scores every head, neuron, embedding channel and
 * layer of a checkpoint on a calibration set and writes importance.arrow, accumulators.arrow,
 * agreement.arrow, stability.arrow, run.json and charts/ into OUT.
 */
@Command(name = "importance", description = "Score heads, MLP neurons, embedding channels and layers on a calibration set (Minitron step 1).")
final class ImportanceCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Checkpoint directory.")
    Path model;

    @Option(names = "--data", required = true, description = "Calibration split: a corpus file, or a split name (train, validation, test) under data/corpus.")
    String data;

    @Option(names = "--samples", defaultValue = "1024", description = "Calibration samples N (default ${DEFAULT-VALUE}, the paper's).")
    int samples;

    @Option(names = "--seq-len", defaultValue = "256", description = "Tokens per sample L (default ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--out", description = "Output directory (required unless --benchmark).")
    Path out;

    @Option(names = "--batch-size", defaultValue = "8", description = "Samples per forward pass (default ${DEFAULT-VALUE}); 1 for unbatched.")
    int batchSize;

    @Option(names = "--seed", defaultValue = "1234", description = "Seed of the calibration sample choice and the random baseline (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--metrics", split = ",", description = "Metrics to compute (default: all): activation, activation_channel, magnitude, random, taylor, wanda, block_importance, layer_drop, block_drop.")
    List<String> metrics;

    @Option(names = "--seq-aggregations", split = ",", description = "Sequence aggregations the activation pass"
            + " reduces (default: all): mean, l2, var. The paper's metric alone is --metrics activation,block_importance"
            + " --seq-aggregations mean (a cheaper pass); wanda needs l2.")
    List<String> seqAggregations;

    @Option(names = "--depth", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Run the loss-based depth scans (layer drop, block drop); --no-depth skips them (default: on).")
    boolean depth;

    @Option(names = "--block-k", split = ",", defaultValue = "2", description = "Block sizes of the contiguous block-drop scan (default ${DEFAULT-VALUE}).")
    int[] blockK;

    @Option(names = "--depth-samples", defaultValue = "0", description = "Samples for the depth scans and Taylor (default: all N).")
    int depthSamples;

    @Option(names = "--documents", description = "One document per sample (padded batches) instead of packed windows.")
    boolean documents;

    @Option(names = "--no-final-norm", description = "Leave the final norm out of the embedding-channel score (as NVIDIA ModelOpt does).")
    boolean noFinalNorm;

    @Option(names = "--stability-levels", defaultValue = "2", description = "Calibration-size halvings for stability.arrow (default ${DEFAULT-VALUE}: N/2, N/4).")
    int stabilityLevels;

    @Option(names = "--no-charts", description = "Do not render charts/.")
    boolean noCharts;

    @Option(names = "--tokenizer", description = "tokenizer.json to use instead of the checkpoint's.")
    Path tokenizerPath;

    @Option(names = "--benchmark", description = "Only time the importance pass against a plain forward pass over the same calibration set.")
    boolean benchmark;

    @Option(names = "--repeats", defaultValue = "3", description = "Timed repeats for --benchmark (default ${DEFAULT-VALUE}).")
    int repeats;

    @Mixin
    OutputOptions output;

    @Mixin
    ClusterOptions cluster;

    @Override
    public Integer call() throws Exception {
        if (out == null && !benchmark) {
            throw new IllegalArgumentException("--out DIR is required (or use --benchmark)");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
        }
        if (cluster.enabled() && benchmark) {
            throw new IllegalArgumentException("--benchmark times this process; drop --spark");
        }
        Path split = SplitOptions.resolve("--data", data);
        ImportanceEstimator.Options opts = options();
        try (OutputLock lock = out == null ? null : OutputOptions.lock(out); NDManager m = NDManager.newBaseManager();
                LanguageModel lm = LanguageModel.load(model, m)) {
            if (opts.metrics().contains(Metric.BLOCK_DROP)) {
                checkBlockK(lm.config().numHiddenLayers());
            }
            String modelHash = Provenance.checkpointHash(model);
            if (out != null && !benchmark) {
                output.check(out, OutputKind.IMPORTANCE, modelHash);
            }
            CalibrationSet cal = calibration(lm, split);
            System.err.printf("calibration: %s%n", cal);
            if (benchmark) {
                ImportanceBenchmark.Result r = ImportanceBenchmark.run(lm.config(), lm.weights(), cal, batchSize, repeats);
                System.out.print(r);
                if (out != null) {
                    Files.createDirectories(out);
                    AtomicFiles.writeString(out.resolve("benchmark.json"), String.format(Locale.ROOT,
                            "{\"forward_s\": %.4f, \"hidden_s\": %.4f, \"importance_s\": %.4f, \"tokens\": %d,"
                                    + " \"repeats\": %d, \"tap_overhead\": %.4f, \"versus_forward\": %.4f,"
                                    + " \"tokens_per_s\": %.1f}%n", r.forwardS(), r.hiddenS(), r.importanceS(),
                            r.tokens(), r.repeats(), r.tapOverhead(), r.versusForward(), r.tokensPerSecond()));
                }
                return 0;
            }
            ImportanceResult res;
            if (cluster.enabled()) {
                try (Cluster cl = cluster.open()) {
                    res = ImportanceEstimator.run(lm.config(), lm.weights(), cal, opts, model, null,
                            cl.activationPass(ModelRef.of(model, modelHash)));
                    res.run().add("cluster", cl.provenance());
                }
            } else {
                try (ProgressBars bars = new ProgressBars()) {
                    res = ImportanceEstimator.run(lm.config(), lm.weights(), cal, opts, model, bars);
                }
            }
            List<Path> files = new java.util.ArrayList<>();
            ImportanceResult done = res;
            OutputDir.replace(out, OutputKind.IMPORTANCE.key, modelHash, dir -> {
                files.addAll(done.write(dir));
                if (!noCharts) {
                    files.addAll(Charts.report(done.table(), dir.resolve("charts")));
                }
            });
            ImportanceTable t = res.table();
            System.out.printf("run %s: %,d rows (%s) from %d samples x %d tokens%n", t.runId(), t.table().rowCount(),
                    String.join(", ", t.metrics()), cal.size(), cal.seqLen());
            if (res.run().getAsJsonObject("results").has("baseline_loss")) {
                System.out.printf("calibration loss %.4f (perplexity %.2f)%n",
                        res.run().getAsJsonObject("results").get("baseline_loss").getAsDouble(),
                        res.run().getAsJsonObject("results").get("baseline_perplexity").getAsDouble());
            }
            if (t.metrics().contains(Metric.BLOCK_IMPORTANCE.key())) {
                System.out.println("layers by block importance (most important first): "
                        + java.util.Arrays.toString(t.ranking("layer", -1)));
            }
            System.out.println("wrote " + files.size() + " files to " + out);
        }
        return 0;
    }

    /** Every --block-k must drop at least one and at most all {@code layers} layers. */
    private void checkBlockK(int layers) {
        for (int k : blockK) {
            if (k < 1 || k > layers) {
                throw new IllegalArgumentException("--block-k " + k + ": valid block sizes are 1.." + layers
                        + " (the model has " + layers + " layers)");
            }
        }
    }

    private ImportanceEstimator.Options options() {
        EnumSet<Metric> ms = EnumSet.noneOf(Metric.class);
        if (metrics == null || metrics.isEmpty()) {
            ms = EnumSet.allOf(Metric.class);
        } else {
            for (String s : metrics) {
                try {
                    ms.add(Metric.parse(s));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("--metrics: " + e.getMessage());
                }
            }
        }
        if (!depth) {
            ms.remove(Metric.LAYER_DROP);
            ms.remove(Metric.BLOCK_DROP);
        }
        if (ms.isEmpty()) {
            throw new IllegalArgumentException("--metrics: nothing to compute");
        }
        EnumSet<Aggregation> aggs = EnumSet.allOf(Aggregation.class);
        if (seqAggregations != null && !seqAggregations.isEmpty()) {
            aggs = EnumSet.noneOf(Aggregation.class);
            for (String s : seqAggregations) {
                try {
                    aggs.add(Aggregation.parse(s));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("--seq-aggregations: " + e.getMessage());
                }
            }
        }
        return ImportanceEstimator.Options.defaults().withMetrics(ms).withBatchSize(batchSize).withSeed(seed)
                .withBlockK(blockK).withDepthSamples(depthSamples).withIncludeFinalNorm(!noFinalNorm)
                .withStabilityLevels(stabilityLevels).withSeqAggregations(aggs);
    }

    private CalibrationSet calibration(LanguageModel lm, Path split) {
        try (Tokenizer tok = lm.openTokenizer(tokenizerPath)) {
            int ctx = lm.config().maxPositionEmbeddings();
            if (documents) {
                ai.minitron.data.TokenDataset.checkSeqLen(seqLen, ctx);
                return CalibrationSet.documents(Corpus.read(split).documents(), tok::encode, samples, seqLen, seed,
                        split.toString());
            }
            return CalibrationSet.fromSplit(split, tok, samples, seqLen, seed, ctx);
        }
    }
}
