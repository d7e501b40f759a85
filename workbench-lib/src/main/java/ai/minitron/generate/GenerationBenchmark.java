package ai.minitron.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.Weights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import tech.tablesaw.api.BooleanColumn;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;

/**
 * Generation throughput: prefill tokens/s (the prompt's forward pass), decode tokens/s with the KV
 * cache (one token per row per step), and decode tokens/s without it — recomputing
 * {@code DecoderLM.forward} over the whole sequence for every new token, which is what the cache
 * saves. Both decode greedily from the same random prompts, so they must choose the same tokens;
 * the result says whether they did.
 */
public final class GenerationBenchmark {
    private GenerationBenchmark() {}

    /**
     * @param recomputeTokensPerSecond NaN when the recompute baseline was skipped
     * @param sameTokens whether cached and recomputed greedy decoding chose identical tokens (true when skipped)
     */
    public record Result(int batch, int promptTokens, int newTokens, double prefillTokensPerSecond,
            double decodeTokensPerSecond, double recomputeTokensPerSecond, boolean sameTokens) {
        /** Decode speed-up of the KV cache over recomputation. */
        public double speedup() {
            return decodeTokensPerSecond / recomputeTokensPerSecond;
        }
    }

    /**
     * Measures one batch size after a short warm-up.
     *
     * @param newTokens at least 2 (the first comes from the prefill)
     */
    public static Result run(ModelConfig c, Weights w, int batch, int promptTokens, int newTokens, boolean recompute,
            long seed) {
        if (newTokens < 2) {
            throw new IllegalArgumentException("benchmark new tokens must be >= 2, got " + newTokens);
        }
        if (promptTokens + newTokens > c.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("benchmark prompt (" + promptTokens + ") + new tokens (" + newTokens
                    + ") exceed the model's context (max_position_embeddings = " + c.maxPositionEmbeddings() + ")");
        }
        SplittableRandom rng = new SplittableRandom(seed);
        List<long[]> prompts = new ArrayList<>();
        for (int r = 0; r < batch; r++) {
            prompts.add(rng.longs(promptTokens, 1, c.vocabSize()).toArray());
        }
        Generator g = new Generator(c, w, null);
        GenerationConfig cfg = GenerationConfig.defaults().withEosTokenIds().withBatchSize(batch);
        g.generateTokens(prompts, cfg.withMaxNewTokens(4), TokenListener.NONE); // warm-up
        List<Generation> cached = g.generateTokens(prompts, cfg.withMaxNewTokens(newTokens), TokenListener.NONE);
        Generation first = cached.get(0);
        double prefill = (double) batch * promptTokens / first.prefillSeconds();
        double decode = (double) batch * (newTokens - 1) / first.decodeSeconds();

        double recomputeTps = Double.NaN;
        boolean same = true;
        if (recompute) {
            long[][] seq = prompts.toArray(new long[0][]);
            long[][] produced = new long[batch][newTokens];
            long t0 = 0;
            for (int s = 0; s < newTokens; s++) {
                if (s == 1) {
                    t0 = System.nanoTime(); // time the steps after the prefill-equivalent first one
                }
                int[] next = lastArgmax(c, w, seq);
                for (int r = 0; r < batch; r++) {
                    produced[r][s] = next[r];
                    seq[r] = Arrays.copyOf(seq[r], seq[r].length + 1);
                    seq[r][seq[r].length - 1] = next[r];
                }
            }
            recomputeTps = (double) batch * (newTokens - 1) / ((System.nanoTime() - t0) / 1e9);
            for (int r = 0; r < batch; r++) {
                same &= Arrays.equals(produced[r], cached.get(r).tokens());
            }
        }
        return new Result(batch, promptTokens, newTokens, prefill, decode, recomputeTps, same);
    }

    /** Greedy next tokens from a full forward over the whole (unpadded) sequences. */
    private static int[] lastArgmax(ModelConfig c, Weights w, long[][] seq) {
        NDManager m = w.manager();
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            int t = seq[0].length;
            NDArray logits = DecoderLM.forward(c, w, m.create(seq)).get(":, {}, :", t - 1); // [B,V]
            float[] host = logits.toType(DataType.FLOAT32, false).toFloatArray();
            int v = c.vocabSize();
            int[] out = new int[seq.length];
            for (int r = 0; r < seq.length; r++) {
                int best = 0;
                for (int i = 1; i < v; i++) {
                    if (host[r * v + i] > host[r * v + best]) best = i;
                }
                out[r] = best;
            }
            return out;
        }
    }

    /** One row per result. */
    public static Table table(String name, List<Result> results) {
        int n = results.size();
        int[] batch = new int[n];
        int[] prompt = new int[n];
        int[] fresh = new int[n];
        double[] prefill = new double[n];
        double[] decode = new double[n];
        double[] recompute = new double[n];
        double[] speedup = new double[n];
        boolean[] same = new boolean[n];
        for (int i = 0; i < n; i++) {
            Result r = results.get(i);
            batch[i] = r.batch();
            prompt[i] = r.promptTokens();
            fresh[i] = r.newTokens();
            prefill[i] = Math.round(r.prefillTokensPerSecond());
            decode[i] = Math.round(r.decodeTokensPerSecond() * 10) / 10.0;
            recompute[i] = Math.round(r.recomputeTokensPerSecond() * 10) / 10.0;
            speedup[i] = Math.round(r.speedup() * 100) / 100.0;
            same[i] = r.sameTokens();
        }
        BooleanColumn sameCol = BooleanColumn.create("same tokens", n);
        for (int i = 0; i < n; i++) {
            sameCol.set(i, same[i]);
        }
        return Table.create(name,
                IntColumn.create("batch", batch),
                IntColumn.create("prompt tokens", prompt),
                IntColumn.create("new tokens", fresh),
                DoubleColumn.create("prefill tok/s", prefill),
                DoubleColumn.create("decode tok/s (KV cache)", decode),
                DoubleColumn.create("decode tok/s (recompute)", recompute),
                DoubleColumn.create("cache speed-up", speedup),
                sameCol);
    }
}
