package ai.minitron.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Chooses one row's next tokens from its logits under {@link SamplingParams}: the logits
 * processors of Hugging Face's {@code generate} (repetition penalty, temperature, top-k, top-p) as
 * small pure functions on a {@code double[]}, then argmax or a seeded draw.
 *
 * <p>One sampler per generated sequence: it remembers which tokens the sequence already holds (for
 * the repetition penalty) and owns the sequence's random generator. Sampling runs on the host on
 * the row's logits copied out in one transfer; at vocabularies of 10^4..10^5 that costs far less
 * than the forward pass, and it makes the result independent of the device.
 */
public final class Sampler {
    private final SamplingParams params;
    private final int vocab;
    private final boolean[] seen;
    private final SplittableRandom rng;
    private final double[] work;

    /**
     * @param vocab tokens that may be chosen: ids {@code 0..vocab-1} (the model may have more
     *     logits, e.g. a vocabulary padded beyond the tokenizer's; those are never chosen)
     */
    public Sampler(SamplingParams params, int vocab) {
        this.params = params;
        this.vocab = vocab;
        this.seen = new boolean[vocab];
        this.rng = new SplittableRandom(params.seed());
        this.work = new double[vocab];
    }

    /** Records tokens the sequence holds (the prompt, then each chosen token). */
    public void observe(long... tokens) {
        for (long t : tokens) {
            if (t >= 0 && t < vocab) {
                seen[(int) t] = true;
            }
        }
    }

    /**
     * The next token from logits[offset .. offset+vocab-1] (a row of a [B, V] host copy); the token
     * is recorded as seen.
     */
    public int next(float[] logits, int offset) {
        boolean finite = true;
        for (int i = 0; i < vocab; i++) {
            float v = logits[offset + i];
            finite &= !Float.isNaN(v);
            work[i] = v;
        }
        if (!finite) {
            throw new IllegalStateException("the model produced NaN logits (with float16 weights an activation may"
                    + " have overflowed: try --dtype float32)");
        }
        int token = choose(work);
        seen[token] = true;
        return token;
    }

    /** Applies the processors to {@code logits} (in place) and picks a token. */
    int choose(double[] logits) {
        if (params.repetitionPenalty() != 1) {
            repetitionPenalty(logits, seen, params.repetitionPenalty());
        }
        if (params.isGreedy()) {
            return argmax(logits);
        }
        temperature(logits, params.temperature());
        if (params.topK() > 0) {
            topK(logits, params.topK());
        }
        if (params.topP() < 1) {
            topP(logits, params.topP());
        }
        return draw(softmax(logits), rng.nextDouble());
    }

    /**
     * The distribution a sampling step draws from for these logits (for tests and notebooks); does
     * not change the sampler's state.
     */
    public static double[] distribution(double[] logits, SamplingParams p, boolean[] seen) {
        double[] l = logits.clone();
        if (p.repetitionPenalty() != 1 && seen != null) {
            repetitionPenalty(l, seen, p.repetitionPenalty());
        }
        if (p.isGreedy()) {
            double[] onehot = new double[l.length];
            onehot[argmax(l)] = 1;
            return onehot;
        }
        temperature(l, p.temperature());
        if (p.topK() > 0) topK(l, p.topK());
        if (p.topP() < 1) topP(l, p.topP());
        return softmax(l);
    }

    // ---- the processors: pure functions on one row of logits ----

    /** CTRL's penalty, as HF: for every seen token, logit > 0 ? logit / r : logit * r. */
    public static void repetitionPenalty(double[] logits, boolean[] seen, double penalty) {
        for (int i = 0; i < logits.length; i++) {
            if (seen[i]) {
                logits[i] = logits[i] > 0 ? logits[i] / penalty : logits[i] * penalty;
            }
        }
    }

    /** logits / t. */
    public static void temperature(double[] logits, double t) {
        if (t == 1) {
            return;
        }
        for (int i = 0; i < logits.length; i++) {
            logits[i] /= t;
        }
    }

    /**
     * Keeps exactly the k largest logits (among equal logits the lower ids win) and sets the rest to
     * -infinity. HF keeps every token tied with the k-th; breaking ties makes top-k = 1 exactly greedy.
     */
    public static void topK(double[] logits, int k) {
        int n = logits.length;
        if (k >= n) {
            return;
        }
        double kth = kthLargest(logits.clone(), k);
        int above = 0;
        for (double v : logits) {
            if (v > kth) above++;
        }
        int tiesToKeep = k - above;
        for (int i = 0; i < n; i++) {
            if (logits[i] > kth) continue;
            if (logits[i] == kth && tiesToKeep > 0) {
                tiesToKeep--;
                continue;
            }
            logits[i] = Double.NEGATIVE_INFINITY;
        }
    }

    /**
     * Nucleus sampling (Holtzman et al. 2019): keeps the smallest set of most likely tokens whose
     * total probability reaches p (a token is kept when the mass of the tokens ranked above it is
     * below p; the most likely token is always kept), -infinity elsewhere. Only tokens above a
     * probability threshold are sorted, lowered until they hold at least p of the mass, so a sharp
     * distribution over a 50k vocabulary sorts a handful of entries.
     */
    public static void topP(double[] logits, double p) {
        if (p >= 1) {
            return;
        }
        double[] probs = softmax(logits);
        double max = 0;
        for (double q : probs) max = Math.max(max, q);
        double threshold = max * 1e-3;
        int[] cand;
        while (true) {
            int count = 0;
            double mass = 0;
            for (double q : probs) {
                if (q >= threshold) {
                    count++;
                    mass += q;
                }
            }
            if (mass >= p || threshold == 0) {
                cand = new int[count];
                int at = 0;
                for (int i = 0; i < probs.length; i++) {
                    if (probs[i] >= threshold) cand[at++] = i;
                }
                break;
            }
            threshold = threshold < 1e-300 ? 0 : threshold * 1e-3;
        }
        Integer[] order = new Integer[cand.length];
        for (int i = 0; i < cand.length; i++) order[i] = cand[i];
        Arrays.sort(order, (a, b) -> probs[a] != probs[b] ? Double.compare(probs[b], probs[a]) : Integer.compare(a, b));
        boolean[] keep = new boolean[logits.length];
        double before = 0;
        for (int i = 0; i < order.length; i++) {
            if (i > 0 && before >= p) break;
            keep[order[i]] = true;
            before += probs[order[i]];
        }
        for (int i = 0; i < logits.length; i++) {
            if (!keep[i]) logits[i] = Double.NEGATIVE_INFINITY;
        }
    }

    /** Softmax over the finite logits (exp(-inf) = 0), in double. */
    public static double[] softmax(double[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logits) max = Math.max(max, v);
        double[] out = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            double e = logits[i] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(logits[i] - max);
            out[i] = e;
            sum += e;
        }
        for (int i = 0; i < out.length; i++) out[i] /= sum;
        return out;
    }

    /** Index of the largest logit; the lowest such index on ties (as torch.argmax). */
    public static int argmax(double[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) best = i;
        }
        return best;
    }

    /** Inverse-CDF draw from probabilities for a uniform u in [0, 1). */
    static int draw(double[] probs, double u) {
        double target = u;
        double cum = 0;
        int last = -1;
        for (int i = 0; i < probs.length; i++) {
            if (probs[i] <= 0) continue;
            cum += probs[i];
            last = i;
            if (target < cum) return i;
        }
        return last; // rounding: u close to 1
    }

    /** The k-th largest value (k >= 1) by quickselect; reorders {@code a}. */
    static double kthLargest(double[] a, int k) {
        int target = a.length - k; // index in ascending order
        int lo = 0;
        int hi = a.length - 1;
        while (lo < hi) {
            double pivot = median(a[lo], a[(lo + hi) >>> 1], a[hi]);
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) {
                    double tmp = a[i];
                    a[i] = a[j];
                    a[j] = tmp;
                    i++;
                    j--;
                }
            }
            if (target <= j) {
                hi = j;
            } else if (target >= i) {
                lo = i;
            } else {
                return a[target];
            }
        }
        return a[target];
    }

    private static double median(double x, double y, double z) {
        return Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
    }
}
