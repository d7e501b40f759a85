package ai.minitron.cli;

import ai.djl.ndarray.NDManager;
import ai.minitron.config.ParamCount;
import ai.minitron.generate.Comparison;
import ai.minitron.generate.DevicePolicy;
import ai.minitron.generate.Generation;
import ai.minitron.generate.GenerationBenchmark;
import ai.minitron.generate.GenerationConfig;
import ai.minitron.generate.Generator;
import ai.minitron.generate.SamplingParams;
import ai.minitron.generate.TokenListener;
import ai.minitron.io.Utf8Text;
import ai.minitron.model.LanguageModel;
import ai.minitron.tokenize.Tokenizer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tech.tablesaw.api.Table;

/**
 * {@code minitron generate}: text from a checkpoint, streamed to stdout as it is produced; with
 * {@code --compare} a second model (e.g. the pruned student) answers the same prompts and a summary
 * table follows; with {@code --benchmark} prefill and decode throughput, with and without the KV cache.
 * Status lines (device, dtype, model, per-prompt speed) go to stderr so stdout is only text.
 */
@Command(name = "generate", description = "Generate text (streamed), compare two models on the same prompts, or benchmark generation.")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Checkpoint directory (with tokenizer.json).")
    Path model;

    @Option(names = "--prompt", description = "Prompt text (repeatable).")
    List<String> prompt = new ArrayList<>();

    @Option(names = "--prompts", description = "UTF-8 file with one prompt per line (blank lines skipped).")
    Path promptsFile;

    @Option(names = "--max-new-tokens", defaultValue = "128", description = "At most this many new tokens per prompt (default ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default); otherwise sample from softmax(logits / T).")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "Sample among the K most likely tokens (0 = off).")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "Nucleus sampling: the smallest set of tokens holding probability P (1 = off).")
    double topP;

    @Option(names = "--repetition-penalty", defaultValue = "1", description = "CTRL repetition penalty on tokens already present (1 = off).")
    double repetitionPenalty;

    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--stop", description = "Stop when the text contains this string (repeatable; \\n and \\t are understood).")
    List<String> stop = new ArrayList<>();

    @Option(names = "--ignore-eos", description = "Do not stop at the tokenizer's end-of-sequence token.")
    boolean ignoreEos;

    @Option(names = "--compare", description = "Second checkpoint (e.g. the pruned student) to run on the same prompts.")
    Path compare;

    @Option(names = "--batch-size", defaultValue = "1", description = "Prompts decoded together; 1 streams token by token (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--device", defaultValue = "auto", description = "auto (GPU when DJL sees one), cpu, gpu or gpu:N (default ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--dtype", defaultValue = "auto", description = "auto (float32 on CPU, float16 on GPU), float32 or float16 (default ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--tokenizer", description = "tokenizer.json to use instead of the checkpoint's.")
    Path tokenizerPath;

    @Option(names = "--benchmark", description = "Measure prefill and decode tokens/s (KV cache vs recompute) instead of generating text.")
    boolean benchmark;

    @Option(names = "--bench-batches", split = ",", defaultValue = "1,8", description = "Batch sizes to benchmark (default ${DEFAULT-VALUE}).")
    List<Integer> benchBatches;

    @Option(names = "--bench-prompt-tokens", defaultValue = "128", description = "Prompt length for the benchmark (default ${DEFAULT-VALUE}).")
    int benchPromptTokens;

    @Option(names = "--bench-new-tokens", defaultValue = "64", description = "New tokens for the benchmark (default ${DEFAULT-VALUE}).")
    int benchNewTokens;

    @Option(names = "--no-recompute", description = "Benchmark: skip the slow no-cache baseline.")
    boolean noRecompute;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        PrintStream err = System.err;
        DevicePolicy.Choice choice = DevicePolicy.choose(device, dtype);
        err.println(choice.describe());
        GenerationConfig cfg = benchmark ? null : config(); // bad options fail before any model loads
        List<String> prompts = benchmark ? null : prompts();
        try (NDManager m = choice.newManager()) {
            LanguageModel a = load(model, m, choice);
            if (benchmark) {
                return benchmark(a, out);
            }
            try (Tokenizer tokA = tokenizer(a, model)) {
                Generator ga = Generator.of(a, tokA);
                err.println("sampling: " + cfg.sampling().describe() + "; at most " + cfg.maxNewTokens() + " new tokens"
                        + (cfg.stopStrings().isEmpty() ? "" : "; stop strings " + cfg.stopStrings().stream()
                                .map(x -> "\"" + x.replace("\n", "\\n").replace("\t", "\\t") + "\"").toList()));
                if (compare == null) {
                    run(ga, null, prompts, cfg, out, err);
                    return 0;
                }
                LanguageModel b = load(compare, m, choice);
                try (Tokenizer tokB = tokenizer(b, compare)) {
                    Generator gb = Generator.of(b, tokB);
                    List<Generation>[] results = run(ga, gb, prompts, cfg, out, err);
                    Table t = Comparison.table("A", results[0], "B", results[1]);
                    out.println();
                    out.println("A = " + model + ", B = " + compare);
                    out.println(t.removeColumns("A text", "B text").print());
                }
            }
        }
        return 0;
    }

    /** Generates for every prompt with one or two models, streaming when the batch size is 1. */
    @SuppressWarnings("unchecked")
    private List<Generation>[] run(Generator a, Generator b, List<String> prompts, GenerationConfig cfg, PrintStream out,
            PrintStream err) {
        List<Generation> ra = new ArrayList<>();
        List<Generation> rb = new ArrayList<>();
        for (int start = 0; start < prompts.size(); start += cfg.batchSize()) {
            List<String> batch = prompts.subList(start, Math.min(prompts.size(), start + cfg.batchSize()));
            boolean stream = batch.size() == 1;
            List<Generation> ga = generate(a, batch, cfg, stream, b == null ? null : "A", out);
            List<Generation> gb = b == null ? null : generate(b, batch, cfg, stream, "B", out);
            for (int i = 0; i < batch.size(); i++) {
                if (!stream) {
                    out.println((b == null ? "" : "### prompt " + (start + i + 1) + "\n") + batch.get(i)
                            + (b == null ? "" : "\n--- A ---\n") + ga.get(i).text());
                    if (b != null) {
                        out.println("--- B ---\n" + gb.get(i).text());
                    }
                    out.println();
                }
                status(err, "A", ga.get(i), b != null);
                if (b != null) {
                    status(err, "B", gb.get(i), true);
                }
            }
            ra.addAll(ga);
            if (gb != null) {
                rb.addAll(gb);
            }
        }
        return new List[] {ra, rb};
    }

    private static List<Generation> generate(Generator g, List<String> batch, GenerationConfig cfg, boolean stream,
            String label, PrintStream out) {
        if (!stream) {
            return g.generate(batch, cfg, TokenListener.NONE);
        }
        if (label == null) {
            out.print(batch.get(0)); // the continuation follows the prompt on the same line
        } else {
            out.print((label.equals("A") ? "### " + batch.get(0) + "\n" : "") + "--- " + label + " ---\n");
        }
        out.flush();
        List<Generation> r = g.generate(batch, cfg, TokenListener.text(delta -> {
            out.print(delta);
            out.flush();
        }));
        out.println();
        return r;
    }

    private static void status(PrintStream err, String label, Generation g, boolean labelled) {
        err.printf("%s[%d prompt tokens, %d new tokens, %.1f tokens/s, stop: %s]%n", labelled ? label + " " : "",
                g.promptTokens().length, g.newTokens(), g.tokensPerSecond(),
                g.stopReason().name().toLowerCase().replace('_', ' '));
    }

    private int benchmark(LanguageModel lm, PrintStream out) {
        List<GenerationBenchmark.Result> results = new ArrayList<>();
        System.err.printf("benchmark: %s (%s, %,d parameters), prompt %d tokens, %d new tokens, greedy%n", model,
                lm.config().architecture().hfClass(), ParamCount.of(lm.config()).total(), benchPromptTokens,
                benchNewTokens);
        for (int b : benchBatches) {
            if (b < 1) {
                throw new IllegalArgumentException("--bench-batches must be >= 1, got " + b);
            }
            GenerationBenchmark.Result r = GenerationBenchmark.run(lm.config(), lm.weights(), b, benchPromptTokens,
                    benchNewTokens, !noRecompute, 1);
            System.err.printf("batch %d: prefill %.0f tok/s, decode %.1f tok/s%s%n", b, r.prefillTokensPerSecond(),
                    r.decodeTokensPerSecond(), noRecompute ? ""
                            : String.format(", recompute %.1f tok/s (cache speed-up %.2fx)", r.recomputeTokensPerSecond(),
                                    r.speedup()));
            results.add(r);
        }
        out.println(GenerationBenchmark.table("generation throughput: " + model, results).print());
        return 0;
    }

    private GenerationConfig config() {
        SamplingParams s = new SamplingParams(temperature, topK, topP, repetitionPenalty, seed);
        List<String> stops = new ArrayList<>();
        for (String x : stop) {
            stops.add(x.replace("\\n", "\n").replace("\\t", "\t"));
        }
        GenerationConfig cfg = GenerationConfig.defaults().withMaxNewTokens(maxNewTokens).withSampling(s)
                .withStopStrings(stops.toArray(new String[0])).withBatchSize(batchSize);
        return ignoreEos ? cfg.withEosTokenIds() : cfg;
    }

    private List<String> prompts() {
        List<String> all = new ArrayList<>(prompt);
        if (promptsFile != null) {
            Utf8Text.read(promptsFile, "--prompts").lines().filter(line -> !line.isBlank()).forEach(all::add);
        }
        if (all.isEmpty()) {
            throw new IllegalArgumentException("give --prompt TEXT or --prompts FILE (or --benchmark)");
        }
        return all;
    }

    private static LanguageModel load(Path dir, NDManager m, DevicePolicy.Choice choice) {
        LanguageModel lm = LanguageModel.load(dir, m, choice.dtype());
        System.err.printf("model %s: %s, %,d parameters, %d layers%n", dir, lm.config().architecture().hfClass(),
                ParamCount.of(lm.config()).total(), lm.config().numHiddenLayers());
        return lm;
    }

    private Tokenizer tokenizer(LanguageModel lm, Path dir) {
        return lm.openTokenizer(tokenizerPath);
    }
}
