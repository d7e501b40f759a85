package ai.minitron.importance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.minitron.config.ModelConfig;
import ai.minitron.data.CalibrationSet;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.Weights;
import ai.minitron.tap.Site;
import ai.minitron.tap.Taps;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A deliberately naive reference for the activation metrics: every sample run alone (no batching,
 * no padding), raw activations copied to the host, every aggregation computed in plain double loops
 * straight from the definitions.
 */
final class Reference {
    /** site@layer -> per sample [T][C] (heads: C = nH * D). */
    final Map<String, List<double[][]>> acts = new HashMap<>();
    final ModelConfig c;

    Reference(ModelConfig c, Weights w, CalibrationSet cal, NDManager m) {
        this.c = c;
        for (int i = 0; i < cal.size(); i++) {
            long[] row = cal.row(i);
            long[][] ids = {java.util.Arrays.copyOf(row, row.length - 1)};
            Taps taps = new Taps();
            for (Site s : Site.values()) {
                taps.on(s, (site, layer, x) -> {
                    long t = x.getShape().get(1);
                    float[] f = x.toFloatArray();
                    int cols = (int) (x.size() / t);
                    double[][] a = new double[(int) t][cols];
                    for (int k = 0; k < f.length; k++) a[k / cols][k % cols] = f[k];
                    acts.computeIfAbsent(site + "@" + layer, k -> new ArrayList<>()).add(a);
                });
            }
            NDArray out = DecoderLM.hiddenStates(c, w, m.create(ids), null, null, taps);
            out.close();
        }
    }

    static double seqAgg(double[] x, Aggregation a) {
        int t = x.length;
        double sumAbs = 0;
        double sumSq = 0;
        double sum = 0;
        for (double v : x) {
            sumAbs += Math.abs(v);
            sumSq += v * v;
            sum += v;
        }
        return switch (a) {
            case MEAN -> sumAbs / t;
            case L2 -> Math.sqrt(sumSq);
            case VAR -> {
                double mu = sum / t;
                double var = 0;
                for (double v : x) var += (v - mu) * (v - mu);
                yield var / t;
            }
        };
    }

    static double batchAgg(double[] s, Aggregation a) {
        int n = s.length;
        double mean = 0;
        for (double v : s) mean += Math.abs(v);
        mean /= n;
        return switch (a) {
            case MEAN -> mean;
            case L2 -> {
                double q = 0;
                for (double v : s) q += v * v;
                yield Math.sqrt(q);
            }
            case VAR -> {
                double var = 0;
                for (double v : s) var += (v - mean) * (v - mean);
                yield var / n;
            }
        };
    }

    /** agg of each column of a site's activation over the calibration set. */
    double[] units(String key, Aggregation batch, Aggregation seq) {
        List<double[][]> samples = acts.get(key);
        int cols = samples.get(0)[0].length;
        double[] out = new double[cols];
        for (int u = 0; u < cols; u++) {
            double[] s = new double[samples.size()];
            for (int i = 0; i < s.length; i++) {
                double[][] a = samples.get(i);
                double[] col = new double[a.length];
                for (int t = 0; t < a.length; t++) col[t] = a[t][u];
                s[i] = seqAgg(col, seq);
            }
            out[u] = batchAgg(s, batch);
        }
        return out;
    }

    /** The paper's head score: per-token L2 norm of each head's output, then the aggregations. */
    double[] heads(int layer, Aggregation batch, Aggregation seq) {
        List<double[][]> samples = acts.get(Site.ATTN_HEADS_OUT + "@" + layer);
        int d = c.headDim();
        int nh = c.numAttentionHeads();
        double[] out = new double[nh];
        for (int h = 0; h < nh; h++) {
            double[] s = new double[samples.size()];
            for (int i = 0; i < s.length; i++) {
                double[][] a = samples.get(i);
                double[] norms = new double[a.length];
                for (int t = 0; t < a.length; t++) {
                    double q = 0;
                    for (int j = h * d; j < (h + 1) * d; j++) q += a[t][j] * a[t][j];
                    norms[t] = Math.sqrt(q);
                }
                s[i] = seqAgg(norms, seq);
            }
            out[h] = batchAgg(s, batch);
        }
        return out;
    }

    double[] hidden(Aggregation batch, Aggregation seq, boolean includeFinal) {
        double[] h = new double[c.hiddenSize()];
        List<String> keys = new ArrayList<>();
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            keys.add(Site.INPUT_NORM_OUT + "@" + l);
            keys.add(Site.POST_ATTN_NORM_OUT + "@" + l);
        }
        if (includeFinal) keys.add(Site.FINAL_NORM_OUT + "@-1");
        for (String k : keys) {
            double[] u = units(k, batch, seq);
            for (int i = 0; i < h.length; i++) h[i] += u[i];
        }
        return h;
    }

    double blockImportance(int layer) {
        List<double[][]> in = acts.get(Site.LAYER_IN + "@" + layer);
        List<double[][]> out = acts.get(Site.LAYER_OUT + "@" + layer);
        double cos = 0;
        long n = 0;
        for (int i = 0; i < in.size(); i++) {
            for (int t = 0; t < in.get(i).length; t++) {
                double[] a = in.get(i)[t];
                double[] b = out.get(i)[t];
                double dot = 0;
                double na = 0;
                double nb = 0;
                for (int j = 0; j < a.length; j++) {
                    dot += a[j] * b[j];
                    na += a[j] * a[j];
                    nb += b[j] * b[j];
                }
                cos += dot / Math.sqrt(na * nb);
                n++;
            }
        }
        return 1 - cos / n;
    }
}
