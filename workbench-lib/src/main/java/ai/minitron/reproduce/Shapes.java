package ai.minitron.reproduce;

import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.prune.PrunePlan;

/**
 * The target architectures of the reproduction, derived from the teacher's shape so that any teacher
 * works. The reference point is the depth-pruned model (half the layers, full width); the width target
 * ("Minitron width": 3/4 of the embedding channels, MLP solved for the same parameter count, all heads)
 * has the same total parameter count to within one MLP neuron per layer, so that width and depth compare
 * at equal size (2407.14679, Table 10).
 */
public final class Shapes {
    private final ModelConfig teacher;

    public Shapes(ModelConfig teacher) {
        this.teacher = teacher;
    }

    public static long params(ModelConfig c) {
        return ParamCount.of(c).total();
    }

    /** Total parameters of the teacher with half its layers dropped. */
    public long depthTargetParams() {
        int keep = teacher.numHiddenLayers() - Math.max(1, teacher.numHiddenLayers() / 2);
        return params(teacher.withShape(teacher.hiddenSize(), teacher.intermediateSize(), keep,
                teacher.numAttentionHeads(), teacher.numKeyValueHeads()));
    }

    /** Depth target: keep half the layers (which ones is the experiment's choice). */
    public int depthTargetLayers() {
        return teacher.numHiddenLayers() - Math.max(1, teacher.numHiddenLayers() / 2);
    }

    /** Width target: 3/4 hidden, MLP solved for the depth target's parameter count, all heads. */
    public PrunePlan widthTarget() {
        int h = threeQuarters(teacher.hiddenSize());
        int m = solveMlp(h, teacher.numAttentionHeads(), teacher.numKeyValueHeads(), teacher.numHiddenLayers(),
                depthTargetParams());
        return PrunePlan.keepAll().withHidden(h).withMlp(m);
    }

    /** Aggregation target: the width target's hidden and MLP sizes, and one query head fewer per KV group, so every axis is ranked. */
    public PrunePlan aggregationTarget() {
        PrunePlan w = widthTarget();
        int g = teacher.queriesPerKvHead();
        return g > 1 ? w.withHeadsPerGroup(g - 1) : w;
    }

    /** The midpoint of the two-step path (experiment 7): 7/8 hidden, MLP solved for halfway in parameters. */
    public PrunePlan midTarget() {
        int h = Math.max(threeQuarters(teacher.hiddenSize()), teacher.hiddenSize() * 7 / 8);
        long half = (params(teacher) + depthTargetParams()) / 2;
        int m = solveMlp(h, teacher.numAttentionHeads(), teacher.numKeyValueHeads(), teacher.numHiddenLayers(), half);
        return PrunePlan.keepAll().withHidden(h).withMlp(m);
    }

    /** The child config a plan gives (no depth selection involved). */
    public ModelConfig config(PrunePlan p) {
        int layers = p.keepLayers() != null ? p.keepLayers().size()
                : p.numLayers() != null ? p.numLayers() : teacher.numHiddenLayers();
        int kv = p.kvGroups() != null ? p.kvGroups() : teacher.numKeyValueHeads();
        int q = p.headsPerGroup() != null ? p.headsPerGroup() : teacher.queriesPerKvHead();
        return teacher.withShape(p.hiddenSize() != null ? p.hiddenSize() : teacher.hiddenSize(),
                p.mlpSize() != null ? p.mlpSize() : teacher.intermediateSize(), layers, q * kv, kv);
    }

    /**
     * The MLP size (1..teacher's) whose model has the parameter count closest to {@code target}
     * (the count is linear in the MLP size).
     */
    public int solveMlp(int hidden, int heads, int kv, int layers, long target) {
        long p1 = params(teacher.withShape(hidden, 1, layers, heads, kv));
        long p2 = params(teacher.withShape(hidden, 2, layers, heads, kv));
        long slope = p2 - p1;
        long m = 1 + Math.round((double) (target - p1) / slope);
        return (int) Math.max(1, Math.min(teacher.intermediateSize(), m));
    }

    private static int threeQuarters(int n) {
        return Math.max(1, n * 3 / 4);
    }
}
