package ai.minitron.prune;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.minitron.config.Axis;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.TensorSchema;
import ai.minitron.config.UnitLayout;
import ai.minitron.importance.Metric;
import ai.minitron.model.Weights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Structured pruning by importance (Minitron, arXiv 2407.14679 §2.2 and docs/architecture.md, "Pruning units"):
 * {@link #select} turns a {@link PrunePlan} and importance {@link UnitScores} into the exact set of
 * surviving units ({@link KeepSet}); {@link #apply} slices every named tensor accordingly and
 * returns a new, smaller model, every tensor sliced along the dimensions {@link UnitLayout} says the
 * kept units own (MLP neurons, query heads and KV groups per layer; one global hidden channel set).
 * GQA stays valid: every kept KV group keeps the same number of query heads. Layers: any subset,
 * renumbered in order. head_dim is never cut. Keeping everything reproduces the parent's logits exactly.
 */
public final class Pruner {
    private Pruner() {}

    /** The result: the child's config and weights, and what was kept. */
    public record Pruned(ModelConfig config, Weights weights, KeepSet keep) {}

    // ---------------------------------------------------------------- selection

    public static KeepSet select(ModelConfig c, PrunePlan p, UnitScores s) {
        int[] layers = selectLayers(c, p, s);
        int h = p.hiddenSize() == null ? c.hiddenSize() : check("hidden size", p.hiddenSize(), 1, c.hiddenSize());
        int[] hidden = top(s.hidden(), h, "hidden scores", c.hiddenSize());
        int g = c.queriesPerKvHead();
        int kv = p.kvGroups() == null ? c.numKeyValueHeads() : check("KV groups", p.kvGroups(), 1, c.numKeyValueHeads());
        int q = p.headsPerGroup() == null ? g : check("query heads per KV group", p.headsPerGroup(), 1, g);
        int m = p.mlpSize() == null ? c.intermediateSize() : check("MLP size", p.mlpSize(), 1, c.intermediateSize());
        List<int[]> kvKeep = new ArrayList<>();
        List<int[]> headKeep = new ArrayList<>();
        List<int[]> mlpKeep = new ArrayList<>();
        for (int l : layers) {
            double[] hs = s.heads(l);
            requireLength(hs, c.numAttentionHeads(), "head scores of layer " + l);
            double[] groupScore = new double[c.numKeyValueHeads()];
            for (int i = 0; i < hs.length; i++) {
                groupScore[i / g] += hs[i];
            }
            int[] groups = top(groupScore, kv, "KV group scores", c.numKeyValueHeads());
            List<Integer> heads = new ArrayList<>();
            for (int grp : groups) {
                double[] within = Arrays.copyOfRange(hs, grp * g, grp * g + g);
                for (int j : top(within, q, "head scores", g)) {
                    heads.add(grp * g + j);
                }
            }
            kvKeep.add(groups);
            headKeep.add(heads.stream().mapToInt(Integer::intValue).sorted().toArray());
            mlpKeep.add(top(s.mlp(l), m, "MLP scores of layer " + l, c.intermediateSize()));
        }
        return new KeepSet(hidden, layers, kvKeep.get(0).length == 0 ? new int[0] : kvKeep.get(0), headKeep, mlpKeep,
                kvKeep);
    }

    private static int[] selectLayers(ModelConfig c, PrunePlan p, UnitScores s) {
        int n = c.numHiddenLayers();
        if (p.keepLayers() != null) {
            int[] keep = p.keepLayers().stream().mapToInt(Integer::intValue).sorted().distinct().toArray();
            if (keep.length != p.keepLayers().size()) {
                throw new IllegalArgumentException("keep-layers lists a layer twice: " + p.keepLayers());
            }
            for (int l : keep) {
                if (l < 0 || l >= n) {
                    throw new IllegalArgumentException("keep-layers: layer " + l + " does not exist (valid: 0.." + (n - 1) + ")");
                }
            }
            if (keep.length == 0) {
                throw new IllegalArgumentException("keep-layers is empty: keep at least one layer");
            }
            return keep;
        }
        if (p.numLayers() == null || p.numLayers() == n) {
            return IntStream.range(0, n).toArray();
        }
        int k = check("number of layers", p.numLayers(), 1, n);
        int drop = n - k;
        if (p.depth() == PrunePlan.Depth.BLOCK_DROP) {
            double[] increase = s.blockDrop(drop);
            if (increase == null) {
                throw new IllegalArgumentException("depth BLOCK_DROP needs the block-drop scan of blocks of " + drop
                        + " layers (importance metric " + Metric.blockDrop(drop) + ": `minitron importance --metrics"
                        + " block_drop --block-k " + drop + "`); valid choices without it: LOWEST, CONTIGUOUS");
            }
            requireLength(increase, n - drop + 1, "block-drop scores of blocks of " + drop + " layers");
            int best = 0;
            for (int start = 1; start < increase.length; start++) {
                if (increase[start] < increase[best]) {
                    best = start;
                }
            }
            return withoutBlock(n, best, drop);
        }
        double[] ls = s.layers();
        requireLength(ls, n, "layer scores");
        if (p.depth() == PrunePlan.Depth.CONTIGUOUS) {
            int bestStart = 0;
            double best = Double.POSITIVE_INFINITY;
            for (int start = 0; start + drop <= n; start++) {
                double sum = 0;
                for (int i = start; i < start + drop; i++) {
                    sum += ls[i];
                }
                if (sum < best) {
                    best = sum;
                    bestStart = start;
                }
            }
            return withoutBlock(n, bestStart, drop);
        }
        return top(ls, k, "layer scores", n);
    }

    /** Layers 0..n-1 without the block [from, from + drop). */
    private static int[] withoutBlock(int n, int from, int drop) {
        return IntStream.range(0, n).filter(i -> i < from || i >= from + drop).toArray();
    }

    private static int check(String what, int v, int lo, int hi) {
        if (v < lo || v > hi) {
            throw new IllegalArgumentException(what + " " + v + " is outside the model's range: valid choices are "
                    + lo + ".." + hi);
        }
        return v;
    }

    private static void requireLength(double[] s, int n, String what) {
        if (s == null || s.length != n) {
            throw new IllegalArgumentException(what + ": expected " + n + " scores, got "
                    + (s == null ? "none" : s.length) + " (importance computed on another model?)");
        }
    }

    /** Indices of the k largest scores (ties: lower index first), returned ascending. */
    static int[] top(double[] scores, int k, String what, int expected) {
        requireLength(scores, expected, what);
        Integer[] idx = IntStream.range(0, scores.length).boxed().toArray(Integer[]::new);
        Arrays.sort(idx, Comparator.<Integer>comparingDouble(i -> -scores[i]).thenComparingInt(i -> i));
        return Arrays.stream(idx, 0, k).mapToInt(Integer::intValue).sorted().toArray();
    }

    // ---------------------------------------------------------------- slicing

    /** Slices the parent weights to the kept units; the parent is left untouched. */
    public static Pruned apply(ModelConfig c, Weights w, KeepSet k) {
        return apply(c, w, k, false);
    }

    /**
     * Like {@link #apply(ModelConfig, Weights, KeepSet)}, with the plan's options: with
     * {@code plan.headResidual()} the pruned heads' o_proj columns are merged into kept heads first.
     */
    public static Pruned apply(ModelConfig c, Weights w, KeepSet k, PrunePlan plan) {
        return apply(c, w, k, plan.headResidual());
    }

    private static Pruned apply(ModelConfig c, Weights w, KeepSet k, boolean headResidual) {
        ModelConfig child = childConfig(c, k);
        // The child's tensors in the order of a freshly built model, each sliced by UnitLayout's cuts.
        Weights out = Weights.empty(w.manager());
        for (String name : TensorSchema.expectedShapes(child).keySet()) {
            int j = UnitLayout.layerOf(name);
            String src = j < 0 ? name : TensorSchema.layerPrefix(k.layers()[j]) + UnitLayout.role(name);
            NDArray parent = w.get(src);
            NDArray a = headResidual && UnitLayout.role(src).equals("self_attn.o_proj.weight")
                    ? mergePrunedHeads(c, w.get(TensorSchema.layerPrefix(k.layers()[j]) + "self_attn.q_proj.weight"),
                            parent, k.heads().get(j), k.kvGroupsPerLayer().get(j))
                    : parent;
            for (UnitLayout.Cut cut : UnitLayout.cuts(c, src)) { // rows first, then columns
                int[] idx = expand(kept(k, cut.axis(), j), cut.block());
                NDArray sliced = cut.dim() == UnitLayout.Dim.COLUMNS ? cols(a, idx) : rows(a, idx);
                if (a != parent) {
                    a.close();
                }
                a = sliced;
            }
            if (a == parent) {
                throw new IllegalStateException("no unit owns a slice of " + src + ": the unit layout is incomplete");
            }
            out.put(name, a);
        }
        return new Pruned(child, out, k);
    }

    /**
     * The child's config: {@code c} with the kept set's widths and depth. Refuses per-layer widths that
     * differ (Hugging Face configs have one width per axis) and heads that do not split over the groups.
     */
    public static ModelConfig childConfig(ModelConfig c, KeepSet k) {
        int nHeads = k.heads().isEmpty() ? c.numAttentionHeads() : k.heads().get(0).length;
        int nKv = k.kvGroupsPerLayer().isEmpty() ? c.numKeyValueHeads() : k.kvGroupsPerLayer().get(0).length;
        int mlp = k.mlp().isEmpty() ? c.intermediateSize() : k.mlp().get(0).length;
        for (int j = 0; j < k.layers().length; j++) {
            if (k.heads().get(j).length != nHeads || k.mlp().get(j).length != mlp
                    || k.kvGroupsPerLayer().get(j).length != nKv) {
                throw new IllegalArgumentException("per-layer widths differ (layer " + k.layers()[j]
                        + "): Hugging Face configs need the same number of heads and neurons in every layer");
            }
        }
        if (nHeads % nKv != 0) {
            throw new IllegalArgumentException(nHeads + " query heads cannot be split evenly over " + nKv + " KV groups");
        }
        return c.withShape(k.hidden().length, mlp, k.layers().length, nHeads, nKv);
    }

    /** The parent tensor a child tensor is sliced from (layers renumbered: child layer j is parent layer layers[j]). */
    static String parentName(KeepSet k, String childName) {
        int j = UnitLayout.layerOf(childName);
        return j < 0 ? childName : TensorSchema.layerPrefix(k.layers()[j]) + UnitLayout.role(childName);
    }

    /** The kept units of one axis in child layer {@code j} (hidden: model-wide). */
    static int[] kept(KeepSet k, Axis axis, int j) {
        return switch (axis) {
            case HIDDEN -> k.hidden();
            case HEADS -> k.heads().get(j);
            case KV_GROUPS -> k.kvGroupsPerLayer().get(j);
            case MLP -> k.mlp().get(j);
            case LAYERS -> throw new IllegalArgumentException("layers are kept whole, not sliced");
        };
    }

    /**
     * The experimental head residual (see {@link PrunePlan#headResidual}): o_proj [hidden, heads * D]
     * with the D columns of every pruned head of a kept KV group added to those of the kept head of
     * that group whose q_proj block [D, hidden] has the highest cosine similarity to its own.
     */
    static NDArray mergePrunedHeads(ModelConfig c, NDArray qProj, NDArray oProj, int[] keptHeads, int[] keptGroups) {
        int d = c.headDim();
        int width = (int) oProj.getShape().get(1); // heads * D
        int[][] merges = headMerges(c, host(qProj), (int) qProj.getShape().get(1), keptHeads, keptGroups);
        double[] o = host(oProj); // [hidden, heads * D]
        for (int r = 0; r < o.length / width; r++) {
            mergeRow(o, r * width, merges, d);
        }
        return device(oProj, o, oProj.getShape());
    }

    /**
     * The head residual's assignment: for every pruned head j of a kept KV group, in group order then
     * head order, the pair {target i, source j} with i the kept head of the group whose q_proj block
     * [D, hidden] of {@code q} ([heads * D, hidden], row-major) is most cosine-similar to j's.
     */
    static int[][] headMerges(ModelConfig c, double[] q, int hidden, int[] keptHeads, int[] keptGroups) {
        int d = c.headDim();
        int g = c.queriesPerKvHead();
        java.util.Set<Integer> kept = new java.util.HashSet<>();
        for (int h : keptHeads) {
            kept.add(h);
        }
        List<int[]> merges = new ArrayList<>();
        for (int grp : keptGroups) {
            for (int j = grp * g; j < grp * g + g; j++) {
                if (kept.contains(j)) {
                    continue;
                }
                int target = -1;
                double best = Double.NEGATIVE_INFINITY;
                for (int i = grp * g; i < grp * g + g; i++) {
                    if (!kept.contains(i)) {
                        continue;
                    }
                    double cos = cosine(q, i * d * hidden, j * d * hidden, d * hidden);
                    if (cos > best) {
                        best = cos;
                        target = i;
                    }
                }
                merges.add(new int[] {target, j});
            }
        }
        return merges.toArray(new int[0][]);
    }

    /** One o_proj row (from {@code at}): the D columns of each merged head added to its target's, in order. */
    static void mergeRow(double[] o, int at, int[][] merges, int d) {
        for (int[] m : merges) {
            for (int t = 0; t < d; t++) {
                o[at + m[0] * d + t] += o[at + m[1] * d + t];
            }
        }
    }

    private static double cosine(double[] v, int a, int b, int n) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < n; i++) {
            ab += v[a + i] * v[b + i];
            aa += v[a + i] * v[a + i];
            bb += v[b + i] * v[b + i];
        }
        return aa == 0 || bb == 0 ? 0 : ab / Math.sqrt(aa * bb);
    }

    /** Units -> the indices of their blocks of {@code d} (head_dim for heads and KV groups, 1 otherwise). */
    static int[] expand(int[] heads, int d) {
        int[] rows = new int[heads.length * d];
        for (int i = 0; i < heads.length; i++) {
            for (int j = 0; j < d; j++) {
                rows[i * d + j] = heads[i] * d + j;
            }
        }
        return rows;
    }

    /** Rows (first axis) of a 1-D or 2-D array, on the host, exactly. */
    static NDArray rows(NDArray a, int[] idx) {
        Shape s = a.getShape();
        long cols = s.dimension() == 1 ? 1 : s.get(1);
        double[] src = host(a);
        double[] dst = new double[Math.toIntExact(idx.length * cols)];
        for (int i = 0; i < idx.length; i++) {
            System.arraycopy(src, (int) (idx[i] * cols), dst, (int) (i * cols), (int) cols);
        }
        Shape ns = s.dimension() == 1 ? new Shape(idx.length) : new Shape(idx.length, cols);
        return device(a, dst, ns);
    }

    /** Columns (second axis) of a 2-D array, on the host, exactly. */
    static NDArray cols(NDArray a, int[] idx) {
        long r = a.getShape().get(0);
        long c = a.getShape().get(1);
        double[] src = host(a);
        double[] dst = new double[Math.toIntExact(r * idx.length)];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < idx.length; j++) {
                dst[i * idx.length + j] = src[(int) (i * c + idx[j])];
            }
        }
        return device(a, dst, new Shape(r, idx.length));
    }

    private static double[] host(NDArray a) {
        if (a.getDataType() == DataType.FLOAT64) {
            return a.toDoubleArray();
        }
        try (NDArray t = a.toType(DataType.FLOAT64, true)) {
            return t.toDoubleArray();
        }
    }

    /** A new array like {@code like} (same manager, device and dtype) holding {@code data}. */
    private static NDArray device(NDArray like, double[] data, Shape shape) {
        NDArray d = like.getManager().create(data, shape);
        if (like.getDataType() == DataType.FLOAT64) {
            return d;
        }
        try (d) {
            return d.toType(like.getDataType(), true);
        }
    }
}
