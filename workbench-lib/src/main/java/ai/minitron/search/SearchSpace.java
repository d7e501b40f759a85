package ai.minitron.search;

import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.config.Axis;
import ai.minitron.config.HfCompatibility;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The architectures a search may choose from (Minitron, arXiv 2407.14679 §2.3 "obtaining a pruned
 * model of a target size": enumerate feasible shapes under a parameter budget, then rank them).
 *
 * <p>Five axes, each a list of allowed values: hidden size, query heads, KV groups, MLP size and
 * layers. Unless given explicitly, an axis allows every multiple of its step (plus the parent's own
 * value) down to a maximum prune fraction of the parent: defaults are steps of a power of two near
 * 1/8 of the axis for hidden and MLP, 1 for heads, KV groups and layers, and a maximum prune fraction
 * of 0.5 for every axis except KV groups (0: kept whole unless asked). A shape is valid when its query
 * heads split evenly over its KV groups with at most the parent's group size per group (GQA-aware
 * pruning keeps the same number of query heads in every kept group) and Hugging Face transformers loads
 * it ({@link HfCompatibility}: for Llama-family parents the hidden size is a multiple of the query head
 * count). Parameter counts are exact
 * ({@link ParamCount} of the child config). Immutable; the {@code with*} methods return new spaces.
 */
public final class SearchSpace {
    private static final List<Axis> AXES = List.of(Axis.HIDDEN, Axis.HEADS, Axis.KV_GROUPS, Axis.MLP, Axis.LAYERS);

    private final ModelConfig parent;
    private final Map<Axis, Integer> steps;
    private final Map<Axis, Double> maxPrune;
    private final Map<Axis, int[]> explicit;

    private SearchSpace(ModelConfig parent, Map<Axis, Integer> steps, Map<Axis, Double> maxPrune,
            Map<Axis, int[]> explicit) {
        this.parent = parent;
        this.steps = steps;
        this.maxPrune = maxPrune;
        this.explicit = explicit;
    }

    /** The default space around a parent model (see the class comment). */
    public static SearchSpace of(ModelConfig parent) {
        Map<Axis, Integer> steps = new EnumMap<>(Axis.class);
        Map<Axis, Double> frac = new EnumMap<>(Axis.class);
        for (Axis a : AXES) {
            steps.put(a, 1);
            frac.put(a, a == Axis.KV_GROUPS ? 0.0 : 0.5);
        }
        steps.put(Axis.HIDDEN, defaultStep(parent.hiddenSize()));
        steps.put(Axis.MLP, defaultStep(parent.intermediateSize()));
        return new SearchSpace(parent, steps, frac, new EnumMap<>(Axis.class));
    }

    /** The largest power of two not above n/8 (at least 1): 256 -> 32, 704 -> 64. */
    static int defaultStep(int n) {
        return Math.max(1, Integer.highestOneBit(Math.max(1, n / 8)));
    }

    public ModelConfig parent() {
        return parent;
    }

    /** Values of {@code axis} must be multiples of {@code step} (the parent's own value is always allowed). */
    public SearchSpace withStep(Axis axis, int step) {
        axisOf(axis);
        if (step < 1) {
            throw new IllegalArgumentException(name(axis) + " step must be >= 1, got " + step);
        }
        Map<Axis, Integer> s = new EnumMap<>(steps);
        s.put(axis, step);
        return new SearchSpace(parent, s, maxPrune, explicit);
    }

    /** At most this fraction of {@code axis} may be pruned (0 = keep whole, 0.5 = down to half). */
    public SearchSpace withMaxPrune(Axis axis, double fraction) {
        axisOf(axis);
        if (!(fraction >= 0 && fraction < 1)) {
            throw new IllegalArgumentException("maximum prune fraction of " + name(axis) + " must be in [0, 1), got "
                    + fraction);
        }
        Map<Axis, Double> f = new EnumMap<>(maxPrune);
        f.put(axis, fraction);
        return new SearchSpace(parent, steps, f, explicit);
    }

    /** The same maximum prune fraction for hidden, heads, MLP and layers (KV groups unchanged). */
    public SearchSpace withMaxPrune(double fraction) {
        SearchSpace s = this;
        for (Axis a : AXES) {
            if (a != Axis.KV_GROUPS) {
                s = s.withMaxPrune(a, fraction);
            }
        }
        return s;
    }

    /** Exactly these values for {@code axis} (overrides its step and prune fraction). */
    public SearchSpace withValues(Axis axis, int... values) {
        int max = axisOf(axis);
        if (values.length == 0) {
            throw new IllegalArgumentException("empty search space: no " + name(axis) + " values given (valid: 1.."
                    + max + ")");
        }
        for (int v : values) {
            if (v < 1 || v > max) {
                throw new IllegalArgumentException(name(axis) + " " + v + " is outside the parent model: valid choices are 1.."
                        + max);
            }
        }
        Map<Axis, int[]> e = new EnumMap<>(explicit);
        e.put(axis, new TreeSet<>(Arrays.stream(values).boxed().toList()).stream().mapToInt(Integer::intValue).toArray());
        SearchSpace s = new SearchSpace(parent, steps, maxPrune, e);
        if (e.containsKey(Axis.HEADS)) {
            s.checkHeads();
        }
        return s;
    }

    /** The allowed values of an axis, ascending. */
    public int[] values(Axis axis) {
        int max = axisOf(axis);
        if (explicit.containsKey(axis)) {
            return explicit.get(axis).clone();
        }
        int step = steps.get(axis);
        int lo = (int) Math.ceil((1 - maxPrune.get(axis)) * max - 1e-9);
        TreeSet<Integer> v = new TreeSet<>();
        for (int x = step; x <= max; x += step) {
            if (x >= Math.max(1, lo)) {
                v.add(x);
            }
        }
        v.add(max);
        if (axis == Axis.HEADS) {
            // Only head counts some KV-group choice can hold (GQA: equal heads in every kept group).
            int[] kvs = values(Axis.KV_GROUPS);
            v.removeIf(h -> Arrays.stream(kvs).noneMatch(kv -> validHeads(h, kv)));
        }
        return v.stream().mapToInt(Integer::intValue).toArray();
    }

    /** True when {@code heads} query heads split evenly over {@code kv} kept groups of the parent. */
    public boolean validHeads(int heads, int kv) {
        return heads % kv == 0 && heads / kv <= parent.queriesPerKvHead();
    }

    /** Query head counts achievable with {@code kv} KV groups: kv * q for q = 1..group size. */
    public List<Integer> validHeadCounts(int kv) {
        List<Integer> out = new ArrayList<>();
        for (int q = 1; q <= parent.queriesPerKvHead(); q++) {
            out.add(kv * q);
        }
        return out;
    }

    private void checkHeads() {
        int[] heads = values(Axis.HEADS);
        int[] kvs = values(Axis.KV_GROUPS);
        for (int h : heads) {
            boolean ok = Arrays.stream(kvs).anyMatch(kv -> validHeads(h, kv));
            if (!ok) {
                String valid = Arrays.stream(kvs).mapToObj(kv -> kv + " KV groups: " + validHeadCounts(kv))
                        .collect(Collectors.joining("; "));
                throw new IllegalArgumentException(h + " query heads cannot be split evenly over " + Arrays.toString(kvs)
                        + " KV groups (each group keeps at most " + parent.queriesPerKvHead()
                        + " heads); valid head counts with " + valid);
            }
        }
    }

    /** Every valid shape of the space, with its exact parameter count (largest first). */
    public List<Candidate> all() {
        List<Candidate> out = new ArrayList<>();
        for (int h : values(Axis.HIDDEN)) {
            for (int a : values(Axis.HEADS)) {
                for (int kv : values(Axis.KV_GROUPS)) {
                    if (!validHeads(a, kv) || !HfCompatibility.loadable(parent.architecture(), h, a)) {
                        continue;
                    }
                    for (int m : values(Axis.MLP)) {
                        for (int l : values(Axis.LAYERS)) {
                            ModelConfig c = parent.withShape(h, m, l, a, kv);
                            out.add(new Candidate(h, a, kv, m, l, ParamCount.of(c).total()));
                        }
                    }
                }
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("empty search space: " + describe() + " admit no valid shape ("
                    + validHeadsMessage() + (HfCompatibility.appliesTo(parent.architecture()) ? "; " + HfCompatibility.RULE
                            : "") + ")");
        }
        out.sort(ORDER);
        return out;
    }

    static final Comparator<Candidate> ORDER = Comparator.comparingLong(Candidate::params).reversed()
            .thenComparing(Candidate::id);

    private String validHeadsMessage() {
        return Arrays.stream(values(Axis.KV_GROUPS)).mapToObj(kv -> "valid head counts with " + kv + " KV groups: "
                + validHeadCounts(kv)).collect(Collectors.joining("; "));
    }

    /**
     * Every candidate whose exact parameter count is within {@code tolerance} (a fraction, e.g. 0.05)
     * of {@code budget}, largest first.
     *
     * @throws IllegalArgumentException when the budget exceeds the parent or nothing is in range,
     *     listing the nearest achievable parameter counts
     */
    public List<Candidate> enumerate(long budget, double tolerance) {
        if (!(tolerance >= 0)) {
            throw new IllegalArgumentException("tolerance must be >= 0, got " + tolerance);
        }
        long parentParams = ParamCount.of(parent).total();
        List<Candidate> all = all();
        if (budget <= 0 || budget > parentParams) {
            throw new IllegalArgumentException(String.format("budget %,d parameters is %s the parent model's %,d; nearest"
                    + " achievable counts: %s", budget, budget <= 0 ? "not positive, unlike" : "larger than",
                    parentParams, nearest(all, budget, 5)));
        }
        double slack = tolerance * budget;
        List<Candidate> in = all.stream().filter(c -> Math.abs(c.params() - budget) <= slack).toList();
        if (in.isEmpty()) {
            throw new IllegalArgumentException(String.format("no candidate of the search space is within ±%.1f%% of %,d"
                    + " parameters; nearest achievable counts: %s (widen the tolerance or the space)", 100 * tolerance,
                    budget, nearest(all, budget, 5)));
        }
        return in;
    }

    /** The {@code n} candidates nearest a budget, as "count (shape)" text for error messages. */
    static String nearest(List<Candidate> all, long budget, int n) {
        return all.stream().sorted(Comparator.comparingLong((Candidate c) -> Math.abs(c.params() - budget))
                .thenComparing(Candidate::id)).limit(n)
                .map(c -> String.format("%,d (%s)", c.params(), c.id())).collect(Collectors.joining(", "));
    }

    /**
     * The shape a plan given only a parameter budget gets, by the documented default rule (Minitron's
     * best practice: prefer width over depth pruning, 2407.14679 §4): among the candidates within the
     * tolerance, keep the most layers; then prune as evenly as possible (smallest largest per-axis
     * prune fraction); then the count nearest the budget; then the id.
     */
    public Candidate defaultChoice(long budget, double tolerance) {
        return enumerate(budget, tolerance).stream().min(Comparator.comparingInt((Candidate c) -> -c.numLayers())
                .thenComparingDouble(this::largestPruneFraction)
                .thenComparingLong(c -> Math.abs(c.params() - budget)).thenComparing(Candidate::id)).orElseThrow();
    }

    /** The largest fraction pruned from any width axis (hidden, heads, MLP). */
    public double largestPruneFraction(Candidate c) {
        return Math.max(1 - (double) c.hiddenSize() / parent.hiddenSize(), Math.max(
                1 - (double) c.numAttentionHeads() / parent.numAttentionHeads(),
                1 - (double) c.mlpSize() / parent.intermediateSize()));
    }

    /** One line per axis: its values. */
    public String describe() {
        String axes = AXES.stream().map(a -> name(a) + " " + Arrays.toString(values(a))).collect(Collectors.joining(", "));
        return HfCompatibility.appliesTo(parent.architecture()) ? axes + "; only " + HfCompatibility.RULE : axes;
    }

    /** The space as JSON (for search.json): per axis its values, step and maximum prune fraction. */
    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        for (Axis a : AXES) {
            JsonObject ax = new JsonObject();
            JsonArray v = new JsonArray();
            for (int x : values(a)) {
                v.add(x);
            }
            ax.add("values", v);
            ax.addProperty("parent", axisOf(a));
            if (explicit.containsKey(a)) {
                ax.addProperty("explicit", true);
            } else {
                ax.addProperty("step", steps.get(a));
                ax.addProperty("max_prune_fraction", maxPrune.get(a));
            }
            o.add(a.name().toLowerCase(java.util.Locale.ROOT), ax);
        }
        return o;
    }

    private int axisOf(Axis a) {
        return switch (a) {
            case HIDDEN -> parent.hiddenSize();
            case HEADS -> parent.numAttentionHeads();
            case KV_GROUPS -> parent.numKeyValueHeads();
            case MLP -> parent.intermediateSize();
            case LAYERS -> parent.numHiddenLayers();
        };
    }

    static String name(Axis a) {
        return switch (a) {
            case HIDDEN -> "hidden size";
            case HEADS -> "attention heads";
            case KV_GROUPS -> "KV groups";
            case MLP -> "MLP size";
            case LAYERS -> "layers";
        };
    }

    @Override
    public String toString() {
        return "SearchSpace[" + describe() + "]";
    }
}
