package ai.minitron.generate;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import ai.minitron.tokenize.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Consumer;

/**
 * Autoregressive text generation with a KV cache: batched, streaming, on the model's device.
 *
 * <p>A batch of prompts of different lengths is left-padded to the longest, so every row's last
 * prompt token sits in the same column and all rows then advance one slot per step. Padding slots
 * are hidden from attention by the mask, and each row's RoPE positions start at 0 at its first real
 * token ({@code cumsum(mask) - 1}, as {@code DecoderLM} does), so a padded row computes what it would
 * compute alone. Then:
 *
 * <pre>
 *   prefill:  logits = forward(prompt tokens [B, P]) -> KV cache slots 0..P-1
 *   repeat:   token = sampler(logits of the last position)     per row, on the host
 *             stream the token's text delta; stop on EOS id, stop string, max new tokens, context
 *             logits = forward(token [B, 1]) -> KV cache slot P+s
 * </pre>
 *
 * Rows that have stopped keep riding along (their outputs are ignored) until every row has
 * stopped. Every array is made on a sub-manager of the weights' manager, so generation runs on the
 * weights' device and dtype (choose them with {@link DevicePolicy}); each step runs in its own
 * {@code NDScope}.
 */
public final class Generator {
    private final ModelConfig config;
    private final Weights weights;
    private final Tokenizer tokenizer;
    private final int vocab;

    /** @param tokenizer may be null: then only {@link #generateTokens} works and texts are empty */
    public Generator(ModelConfig config, Weights weights, Tokenizer tokenizer) {
        this.config = config;
        this.weights = weights;
        this.tokenizer = tokenizer;
        this.vocab = tokenizer == null ? config.vocabSize() : Math.min(config.vocabSize(), tokenizer.vocabSize());
    }

    public static Generator of(LanguageModel lm, Tokenizer tokenizer) {
        return new Generator(lm.config(), lm.weights(), tokenizer);
    }

    public Device device() {
        return weights.manager().getDevice();
    }

    public DataType dtype() {
        return weights.dataType();
    }

    public ModelConfig config() {
        return config;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** One prompt, no streaming. */
    public Generation generate(String prompt, GenerationConfig cfg) {
        return generate(List.of(prompt), cfg, TokenListener.NONE).get(0);
    }

    /** One prompt, streaming its text: {@code onText} gets each non-empty text delta as it is produced. */
    public Generation generate(String prompt, GenerationConfig cfg, Consumer<String> onText) {
        return generate(List.of(prompt), cfg, TokenListener.text(onText)).get(0);
    }

    /** Several prompts, in batches of {@code cfg.batchSize()}; results in prompt order. */
    public List<Generation> generate(List<String> prompts, GenerationConfig cfg, TokenListener listener) {
        if (tokenizer == null) {
            throw new IllegalStateException("text prompts need a tokenizer: construct the Generator with one"
                    + " (or use generateTokens)");
        }
        List<long[]> ids = new ArrayList<>();
        for (String p : prompts) {
            ids.add(tokenizer.encode(p));
        }
        return run(prompts, ids, cfg, listener, null);
    }

    /** Generation from token ids (no tokenizer needed unless stop strings are given). */
    public List<Generation> generateTokens(List<long[]> prompts, GenerationConfig cfg, TokenListener listener) {
        return run(null, prompts, cfg, listener, null);
    }

    /**
     * Generation from token ids that also stops a row as soon as {@code stopWhen} accepts its text so far
     * ({@link StopReason#STOP_CONDITION}; needs a tokenizer), e.g. once the continuation completes a word.
     */
    public List<Generation> generateTokens(List<long[]> prompts, GenerationConfig cfg, TokenListener listener,
            Predicate<String> stopWhen) {
        if (stopWhen != null && tokenizer == null) {
            throw new IllegalArgumentException("a stop condition on the text needs a tokenizer: construct the Generator with one");
        }
        return run(null, prompts, cfg, listener, stopWhen);
    }

    private List<Generation> run(List<String> texts, List<long[]> prompts, GenerationConfig cfg,
            TokenListener listener, Predicate<String> stopWhen) {
        if (!cfg.stopStrings().isEmpty() && tokenizer == null) {
            throw new IllegalArgumentException("stop strings need a tokenizer: construct the Generator with one");
        }
        if (listener == null) {
            listener = TokenListener.NONE;
        }
        Set<Long> eos = new HashSet<>();
        if (cfg.eosTokenIds() != null) {
            eos.addAll(cfg.eosTokenIds());
        } else if (tokenizer != null && tokenizer.eosTokenId() != null) {
            eos.add((long) tokenizer.eosTokenId());
        }
        List<Generation> out = new ArrayList<>();
        for (int start = 0; start < prompts.size(); start += cfg.batchSize()) {
            int end = Math.min(prompts.size(), start + cfg.batchSize());
            long[][] batch = prompts.subList(start, end).toArray(new long[0][]);
            String[] batchTexts = texts == null ? new String[batch.length]
                    : texts.subList(start, end).toArray(new String[0]);
            out.addAll(Arrays.asList(runBatch(batchTexts, batch, cfg, eos, listener, start, stopWhen)));
        }
        return out;
    }

    private Generation[] runBatch(String[] texts, long[][] prompts, GenerationConfig cfg, Set<Long> eos,
            TokenListener listener, int rowOffset, Predicate<String> stopWhen) {
        int b = prompts.length;
        int maxPos = config.maxPositionEmbeddings();
        int[] len = new int[b];
        int maxLen = 0;
        for (int r = 0; r < b; r++) {
            len[r] = prompts[r].length;
            if (len[r] == 0) {
                throw new IllegalArgumentException("prompt " + (rowOffset + r) + " is empty: generation needs at least one"
                        + " prompt token");
            }
            if (len[r] >= maxPos) {
                throw new IllegalArgumentException("prompt " + (rowOffset + r) + " has " + len[r] + " tokens: no room to"
                        + " generate within the model's context (max_position_embeddings = " + maxPos + ")");
            }
            for (long id : prompts[r]) {
                if (id < 0 || id >= config.vocabSize()) {
                    throw new IllegalArgumentException("prompt " + (rowOffset + r) + " has token id " + id
                            + " outside the model's vocabulary (vocab_size = " + config.vocabSize() + ")");
                }
            }
            maxLen = Math.max(maxLen, len[r]);
        }
        int maxNew = cfg.maxNewTokens();
        int capacity = maxLen + maxNew;
        int v = config.vocabSize(); // logits row stride
        DataType dtype = weights.dataType();
        boolean padded = Arrays.stream(len).anyMatch(l -> l != len[0]);

        long[][] ids = new long[b][maxLen];
        long[][] pos = new long[b][maxLen];
        boolean[][] valid = padded ? new boolean[b][capacity] : null;
        Sampler[] samplers = new Sampler[b];
        TextStream[] streams = new TextStream[b];
        int[] limit = new int[b];
        for (int r = 0; r < b; r++) {
            int pad = maxLen - len[r];
            for (int j = 0; j < maxLen; j++) {
                ids[r][j] = j < pad ? 0 : prompts[r][j - pad];
                pos[r][j] = Math.max(0, j - pad);
                if (valid != null) {
                    valid[r][j] = j >= pad;
                }
            }
            samplers[r] = new Sampler(cfg.sampling(), vocab);
            samplers[r].observe(prompts[r]);
            streams[r] = new TextStream(tokenizer, cfg.stopStrings());
            limit[r] = Math.min(maxNew, maxPos - len[r]);
        }

        Generation[] results = new Generation[b];
        try (NDManager m = weights.manager().newSubManager();
                KvCache cache = new KvCache(config, m, b, capacity, dtype)) {
            long t0 = System.nanoTime();
            float[] logits = step(m, cache, ids, pos, valid, maxLen > 1 || padded);
            double prefill = (System.nanoTime() - t0) / 1e9;
            long decodeStart = System.nanoTime();

            long[][] out = new long[b][];
            int[] n = new int[b];
            for (int r = 0; r < b; r++) {
                out[r] = new long[limit[r]];
            }
            int active = b;
            for (int s = 0; active > 0; s++) {
                long[][] next = new long[b][1];
                long[][] nextPos = new long[b][1];
                for (int r = 0; r < b; r++) {
                    nextPos[r][0] = len[r] + s; // position of the token fed at step s
                    if (results[r] != null) {
                        continue; // stopped: feeds token 0, output ignored
                    }
                    int tok = samplers[r].next(logits, r * v);
                    out[r][n[r]++] = tok;
                    String delta = "";
                    StopReason why = null;
                    if (eos.contains((long) tok)) {
                        why = StopReason.EOS;
                    } else {
                        delta = streams[r].push(tok);
                        if (streams[r].stopped()) {
                            why = StopReason.STOP_STRING;
                        } else if (stopWhen != null && stopWhen.test(streams[r].text())) {
                            why = StopReason.STOP_CONDITION;
                        }
                    }
                    if (why == null && n[r] == maxNew) {
                        why = StopReason.MAX_NEW_TOKENS;
                    } else if (why == null && n[r] == limit[r]) {
                        why = StopReason.CONTEXT_FULL;
                    }
                    if (why != null) {
                        delta += streams[r].finish();
                    }
                    listener.onToken(rowOffset + r, tok, delta);
                    if (why != null) {
                        results[r] = new Generation(texts[r], prompts[r], Arrays.copyOf(out[r], n[r]),
                                tokenizer == null ? "" : streams[r].text(), why, prefill,
                                (System.nanoTime() - decodeStart) / 1e9);
                        active--;
                        listener.onFinish(rowOffset + r, results[r]);
                    } else {
                        next[r][0] = tok;
                        if (valid != null) {
                            valid[r][maxLen + s] = true;
                        }
                    }
                }
                if (active > 0) {
                    logits = step(m, cache, next, nextPos, valid, valid != null);
                }
            }
        }
        return results;
    }

    /**
     * One forward over new tokens [B, T] in its own NDScope; returns the last position's logits
     * [B, V] as float32 on the host (one transfer).
     */
    private float[] step(NDManager m, KvCache cache, long[][] ids, long[][] pos, boolean[][] valid, boolean masked) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            int b = ids.length;
            int t = ids[0].length;
            NDArray idsA = m.create(ids);
            NDArray mask = masked
                    ? CachedForward.maskBias(m, cache.length(), t, valid, b, weights.dataType())
                    : null;
            NDArray logits = CachedForward.forward(config, weights, cache, idsA, pos, mask, true); // [B,1,V]
            if (logits.getDataType() != DataType.FLOAT32) {
                logits = logits.toType(DataType.FLOAT32, false);
            }
            return logits.toFloatArray();
        }
    }
}
