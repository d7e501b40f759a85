package ai.minitron.importance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.data.CalibrationSet;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.Scalars;
import ai.minitron.model.Weights;
import ai.minitron.progress.Progress;
import ai.minitron.tap.Site;
import ai.minitron.tap.Taps;
import java.util.ArrayList;
import java.util.List;

/**
 * The calibration pass of activation-based importance (arXiv 2407.14679 §2.1): forward passes over
 * the calibration set with listeners at the tap sites, reduced on the engine to per-sample token
 * moments, accumulated on the host in exact {@link ChannelAccumulator}s. One pass yields every
 * width metric under all 9 aggregation pairs, Wanda's input norms, and Block Importance.
 *
 * <p>Per batch, each tapped activation x [B, T, C] (padding zeroed by the mask) is reduced over the
 * sequence on the engine to Σ_t |x|, sqrt(Σ_t x²), Σ_t x — three [B, C] arrays — and all of a
 * forward's reductions leave the engine in one transfer. On the host, for each sample b with T_b valid tokens,
 * the sequence aggregations are
 * {@code mean = Σ|x| / T_b}, {@code l2 = sqrt(Σx²)}, {@code var = Σx²/T_b - (Σx/T_b)²}, and each
 * is added (with its square) to the accumulator of its stream: "mean", "l2", "var".
 *
 * <p>Accumulated quantities (see {@link ActivationStats}):
 * <ul>
 *   <li>{@code channel} at INPUT_NORM_OUT, POST_ATTN_NORM_OUT (every layer), FINAL_NORM_OUT
 *       (layer -1): embedding channels; at MLP_ACT: neurons; at ATTN_HEADS_OUT: the nH * D channels
 *       of the per-head context (unit h * D + d).</li>
 *   <li>{@code head_norm} at ATTN_HEADS_OUT: the per-token L2 norm of each head's output
 *       ||ctx[b, t, h, :]||₂, the paper's head value.</li>
 *   <li>{@code cos_in_out} at LAYER_OUT: per sample, Σ_t cos(LAYER_IN[t], LAYER_OUT[t]) (stream
 *       "token_sum"), for Block Importance 1 - Σ cos / tokens.</li>
 * </ul>
 * Activations in float16 are reduced in float32 (as ModelOpt does) to avoid overflow.
 */
public final class ActivationPass {
    public static final String CHANNEL = "channel";
    public static final String HEAD_NORM = "head_norm";
    public static final String COS = "cos_in_out";
    public static final List<String> COS_STREAMS = List.of("token_sum");

    private final ModelConfig config;
    private final Weights weights;
    private final List<Aggregation> seqAggregations;
    private final boolean headChannels;

    /** The full pass: every sequence aggregation, and the per-channel moments of the attention heads. */
    public ActivationPass(ModelConfig config, Weights weights) {
        this(config, weights, List.of(Aggregation.values()), true);
    }

    /**
     * A pass that reduces only what some metrics need: the sequence aggregations {@code seqAggregations} (in
     * {@link Aggregation} order; "mean" needs Σ|x|, "l2" sqrt(Σx²), "var" both Σx² and Σx), and the per-channel
     * moments of the attention heads' context only if {@code headChannels} (for {@code activation_channel}).
     * The paper's metric alone (heads by the per-token L2 norm, neurons and embedding channels, sequence mean)
     * is {@code (List.of(MEAN), false)}. Block Importance's cosines are always reduced.
     */
    public ActivationPass(ModelConfig config, Weights weights, List<Aggregation> seqAggregations, boolean headChannels) {
        if (seqAggregations.isEmpty()) {
            throw new IllegalArgumentException("the activation pass needs at least one sequence aggregation");
        }
        this.config = config;
        this.weights = weights;
        this.seqAggregations = java.util.Arrays.stream(Aggregation.values()).filter(seqAggregations::contains).toList();
        this.headChannels = headChannels;
    }

    /** The accumulator streams this pass fills: its sequence aggregations' keys, in {@link Aggregation} order. */
    public List<String> seqStreams() {
        return seqAggregations.stream().map(Aggregation::key).toList();
    }

    /** One pass over the set; all statistics in one {@link ActivationStats}. */
    public ActivationStats run(CalibrationSet cal, int batchSize, Progress progress) {
        return run(cal, batchSize, new int[0], progress).get(0);
    }

    /**
     * One pass over the set, accumulating samples [0, b1), [b1, b2), ..., [bk, N) into separate
     * statistics (shards), e.g. for calibration-size stability: merging the first i shards gives
     * exactly the statistics of the first b_i samples.
     *
     * @param boundaries increasing sample indices in (0, N)
     */
    public List<ActivationStats> run(CalibrationSet cal, int batchSize, int[] boundaries, Progress progress) {
        cal.checkContext(config.maxPositionEmbeddings()).checkVocab(config.vocabSize());
        for (int i = 0; i < boundaries.length; i++) {
            if (boundaries[i] <= 0 || boundaries[i] >= cal.size() || (i > 0 && boundaries[i] <= boundaries[i - 1])) {
                throw new IllegalArgumentException("shard boundaries must increase within (0, " + cal.size() + "): "
                        + java.util.Arrays.toString(boundaries));
            }
        }
        List<ActivationStats> shards = new ArrayList<>();
        for (int i = 0; i <= boundaries.length; i++) {
            shards.add(new ActivationStats());
        }
        List<CalibrationSet.Batch> batches = cal.batches(batchSize);
        int done = 0;
        for (int i = 0; i < batches.size(); i++) {
            CalibrationSet.Batch bt = batches.get(i);
            runBatch(bt, shards, shardOf(i * batchSize, bt.size(), boundaries));
            done++;
            if (progress != null) {
                progress.update("activations", done, batches.size());
            }
        }
        return shards;
    }

    /**
     * Forward + reductions for one batch, accumulated into {@code shards.get(shardOf[b])}: the unit of work a
     * distributed pass gives each worker (the same batch gives the same bits wherever it runs).
     */
    public void runBatch(CalibrationSet.Batch bt, List<ActivationStats> shards, int[] shardOf) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDManager m = weights.manager();
            DataType dtype = weights.dataType();
            NDArray ids = bt.inputs(m);
            NDArray mask = bt.mask(m, dtype);
            Collector col = new Collector(mask == null ? null : mask.toType(reduceType(dtype), false), seqAggregations,
                    headChannels);
            DecoderLM.hiddenStates(config, weights, ids, mask, null, col.taps());
            col.accumulate(bt, shards, shardOf);
        }
    }

    /**
     * The shard of each sample of a batch whose first sample is sample {@code first} of the set: shard s holds
     * samples [b_{s-1}, b_s) (see {@link #run(CalibrationSet, int, int[], Progress)}).
     */
    public static int[] shardOf(int first, int size, int[] boundaries) {
        int[] out = new int[size];
        for (int b = 0; b < size; b++) {
            int s = 0;
            while (s < boundaries.length && first + b >= boundaries[s]) s++;
            out[b] = s;
        }
        return out;
    }

    private static DataType reduceType(DataType dtype) {
        return dtype == DataType.FLOAT16 ? DataType.FLOAT32 : dtype;
    }

    /**
     * The listeners of one forward: reduce on the engine, remember what each reduction is, then
     * {@link #accumulate} the per-sample aggregations on the host.
     */
    static final class Collector {
        /** One reduction awaiting the transfer: its parts in {@code kinds} order, each [B, units]. */
        private record Pending(ActivationStats.Key key, int units, List<Part> kinds, List<String> streams) {}

        /** What a pushed [B, units] array holds. */
        private enum Part { SUM_ABS, L2, SUM, TOKEN_SUM }

        private final NDArray mask; // [B, T] or null
        private final List<Aggregation> seqAggs;
        private final boolean headChannels;
        private final boolean needAbs;
        private final boolean needL2;
        private final boolean needSum;
        private final List<String> streams; // the aggregations' keys, in order
        private final List<Part> partKinds; // what the aggregations need reduced, in a fixed order
        private final List<Pending> pending = new ArrayList<>();
        private final NDList reduced = new NDList();
        private NDArray layerIn; // LAYER_IN of the current layer (a copy)
        private NDArray layerInNorm; // ||LAYER_IN|| per token [B, T]
        private NDArray lastOutNorm; // ||LAYER_OUT|| of the previous layer (= this layer's input) [B, T]
        private int lastOutLayer = -2;

        /** Every sequence aggregation and the heads' per-channel moments. */
        Collector(NDArray mask) {
            this(mask, List.of(Aggregation.values()), true);
        }

        Collector(NDArray mask, List<Aggregation> seqAggs, boolean headChannels) {
            this.mask = mask;
            this.seqAggs = seqAggs;
            this.headChannels = headChannels;
            this.needAbs = seqAggs.contains(Aggregation.MEAN);
            this.needL2 = seqAggs.contains(Aggregation.L2) || seqAggs.contains(Aggregation.VAR);
            this.needSum = seqAggs.contains(Aggregation.VAR);
            this.streams = seqAggs.stream().map(Aggregation::key).toList();
            List<Part> k = new ArrayList<>();
            if (needAbs) k.add(Part.SUM_ABS);
            if (needL2) k.add(Part.L2);
            if (needSum) k.add(Part.SUM);
            this.partKinds = List.copyOf(k);
        }

        Taps taps() {
            return new Taps()
                    .on(Site.INPUT_NORM_OUT, (s, l, x) -> channels(s, l, x))
                    .on(Site.POST_ATTN_NORM_OUT, (s, l, x) -> channels(s, l, x))
                    .on(Site.FINAL_NORM_OUT, (s, l, x) -> channels(s, l, x))
                    .on(Site.MLP_ACT, (s, l, x) -> channels(s, l, x))
                    .on(Site.ATTN_HEADS_OUT, (s, l, x) -> heads(l, x))
                    .on(Site.LAYER_IN, (s, l, x) -> layerIn(l, x))
                    .on(Site.LAYER_OUT, (s, l, x) -> layerOut(l, x));
        }

        /** The activation as the reduction reads it: float32 if float16, padding zeroed. Caller closes if != raw. */
        private NDArray prepare(NDArray x) {
            if (x.getDataType() == DataType.FLOAT16) {
                x = x.toType(DataType.FLOAT32, false);
            }
            if (mask == null) {
                return x;
            }
            long[] shape = new long[x.getShape().dimension()];
            java.util.Arrays.fill(shape, 1);
            shape[0] = mask.getShape().get(0);
            shape[1] = mask.getShape().get(1);
            NDArray masked = x.mul(mask.reshape(shape)); // padding -> 0 contributes to no sum
            return masked;
        }

        /** Σ over {@code axes} of f(x), freeing the full-size temporary f(x) at once. */
        private static NDArray sumOf(NDArray fx, int... axes) {
            try (fx) {
                return fx.sum(axes);
            }
        }

        /*
         * Full-size temporaries are closed as soon as they are reduced: left to the NDScope, every
         * site's |x| and x² of every layer would stay allocated until the forward ends, and the fresh
         * memory (page faults) cost more than the arithmetic.
         */

        /** x [B, T, C]: Σ_t|x|, sqrt(Σ_t x²), Σ_t x per sample and channel. */
        void channels(Site site, int layer, NDArray raw) {
            NDArray x = prepare(raw);
            // abs().sum() and square().sum() measured ~2.5x faster than the fused norm(1/2) of torch 2.7.1 CPU
            List<NDArray> parts = new ArrayList<>();
            if (needAbs) parts.add(sumOf(x.abs(), 1));
            if (needL2) parts.add(sumOf(x.square(), 1).sqrt());
            if (needSum) parts.add(x.sum(new int[] {1}));
            if (x != raw) x.close();
            push(new ActivationStats.Key(site, layer, CHANNEL), (int) raw.getShape().get(2), partKinds, streams,
                    parts.toArray(new NDArray[0]));
        }

        /**
         * x [B, T, nH, D]: moments of each head's per-token L2 norm n = ||ctx[b, t, h, :]||₂ and, if asked, of all
         * nH * D channels.
         */
        void heads(int layer, NDArray raw) {
            NDArray x = prepare(raw);
            int[] seq = {1};
            int nh = (int) raw.getShape().get(2);
            NDArray sumSq = null; // Σ_t x² [B,nH,D]
            NDArray headNorm; // n [B,T,nH]
            try (NDArray sq = x.square()) { // [B,T,nH,D]
                if (needL2) {
                    sumSq = sq.sum(seq);
                }
                headNorm = sq.sum(new int[] {3}).sqrt();
            }
            if (headChannels) {
                List<NDArray> parts = new ArrayList<>();
                if (needAbs) parts.add(sumOf(x.abs(), 1)); // [B,nH,D]
                if (needL2) parts.add(sumSq.sqrt());
                if (needSum) parts.add(x.sum(seq));
                push(new ActivationStats.Key(Site.ATTN_HEADS_OUT, layer, CHANNEL), nh * (int) raw.getShape().get(3),
                        partKinds, streams, parts.toArray(new NDArray[0]));
            }
            if (x != raw) x.close();
            // n >= 0, so Σ_t|n| = Σ_t n; sqrt(Σ_t n²) = sqrt(Σ_t Σ_d x²)
            NDArray normSum = sumOf(headNorm, 1); // [B,nH]
            List<NDArray> parts = new ArrayList<>();
            if (needAbs) parts.add(normSum);
            if (needL2) parts.add(sumSq.sum(new int[] {2}).sqrt());
            if (needSum) parts.add(normSum);
            push(new ActivationStats.Key(Site.ATTN_HEADS_OUT, layer, HEAD_NORM), nh, partKinds, streams,
                    parts.toArray(new NDArray[0]));
        }

        void layerIn(int layer, NDArray raw) {
            NDArray x = raw.getDataType() == DataType.FLOAT16 ? raw.toType(DataType.FLOAT32, false) : raw.duplicate();
            layerIn = x;
            layerInNorm = lastOutLayer == layer - 1 && lastOutNorm != null ? lastOutNorm : sumOf(x.square(), -1).sqrt();
        }

        /** cos(LAYER_IN, LAYER_OUT) per token, summed over each sample's valid tokens. */
        void layerOut(int layer, NDArray raw) {
            NDArray y = raw.getDataType() == DataType.FLOAT16 ? raw.toType(DataType.FLOAT32, false) : raw;
            NDArray dot = sumOf(layerIn.mul(y), -1); // [B,T]
            NDArray outNorm = sumOf(y.square(), -1).sqrt(); // [B,T]
            if (y != raw) y.close();
            layerIn.close();
            NDArray cos = dot.div(Scalars.maximum(layerInNorm.mul(outNorm), 1e-8)); // eps as torch's cosine_similarity
            if (mask != null) {
                cos = cos.mul(mask);
            }
            push(new ActivationStats.Key(Site.LAYER_OUT, layer, COS), 1, List.of(Part.TOKEN_SUM), COS_STREAMS,
                    cos.sum(new int[] {1}));
            lastOutNorm = outNorm;
            lastOutLayer = layer;
            layerIn = null;
            layerInNorm = null;
        }

        private void push(ActivationStats.Key key, int units, List<Part> kinds, List<String> streams, NDArray... parts) {
            pending.add(new Pending(key, units, kinds, streams));
            for (NDArray p : parts) {
                reduced.add(p.flatten());
            }
        }

        /** One transfer for the whole forward, then the host-side aggregation per sample. */
        void accumulate(CalibrationSet.Batch bt, List<ActivationStats> shards, int[] shardOf) {
            double[] v = NDArrays.concat(reduced).toType(DataType.FLOAT64, false).toDoubleArray();
            int bsz = bt.size();
            int off = 0;
            for (Pending p : pending) {
                int u = p.units();
                int block = bsz * u;
                List<Part> kinds = p.kinds();
                int iAbs = kinds.indexOf(Part.SUM_ABS);
                int iL2 = kinds.indexOf(Part.L2);
                int iSum = kinds.indexOf(Part.SUM);
                for (int b = 0; b < bsz; b++) {
                    ChannelAccumulator acc = shards.get(shardOf[b]).getOrCreate(p.key(), u, p.streams());
                    long tokens = bt.lengths()[b];
                    int base = off + b * u;
                    if (kinds.get(0) == Part.TOKEN_SUM) {
                        for (int c = 0; c < u; c++) {
                            double x = v[base + c];
                            acc.add(0, c, x, x * x);
                        }
                    } else {
                        for (int c = 0; c < u; c++) {
                            int stream = 0;
                            for (Aggregation agg : seqAggs) {
                                double value = switch (agg) {
                                    case MEAN -> v[base + iAbs * block + c] / tokens;
                                    case L2 -> v[base + iL2 * block + c];
                                    case VAR -> {
                                        double l2 = v[base + iL2 * block + c];
                                        double mu = v[base + iSum * block + c] / tokens;
                                        yield Math.max(0.0, l2 * l2 / tokens - mu * mu);
                                    }
                                };
                                acc.add(stream++, c, value, value * value);
                            }
                        }
                    }
                    acc.addSamples(1, tokens);
                }
                off += kinds.size() * block;
            }
            if (off != v.length) {
                throw new IllegalStateException("reduction bookkeeping mismatch: " + off + " != " + v.length);
            }
        }
    }
}
