package ai.minitron.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.Rope;

/**
 * RoPE for the cached forward pass, in the form {@code rope(x) = x * cos + (x R) * sin}, where R is
 * the [D, D] matrix of Hugging Face's {@code rotate_half} on the first {@code rotary_dim} channels
 * ({@code [x1, x2] -> [-x2, x1]}) and zero elsewhere, and cos / sin are widened to the whole head
 * with 1 / 0 on the channels partial rotary leaves alone (Nemotron). Same function as
 * {@link Rope}, same inverse frequencies and float32 angles, but one matmul
 * instead of slicing and concatenating, and no split for partial rotary: decoding one token is a
 * few dozen tiny ops per layer, so each op saved is time saved. x R is exact (one ±x term per
 * output). The tables are built on the host for the step's positions; the query tables also carry
 * attention's {@code 1 / sqrt(D)}.
 */
final class RotaryTables {
    final NDArray cos; // [B,1,1,T,D] for keys
    final NDArray sin;
    final NDArray qCos; // [B,1,1,T,D] for queries, times 1/sqrt(D)
    final NDArray qSin;
    final NDArray rotateHalf; // [D,D]

    /** Tables for positions [B][T], created on {@code m} in {@code dtype}. */
    RotaryTables(ModelConfig c, NDManager m, long[][] positions, DataType dtype) {
        int b = positions.length;
        int t = positions[0].length;
        int d = c.headDim();
        int rd = c.rotaryDim();
        int half = rd / 2;
        float[] invFreq = Rope.inverseFrequencies(c); // [rd/2], as Rope.cosSin
        float scale = (float) (1.0 / Math.sqrt(d));
        float[] cos = new float[b * t * d];
        float[] sin = new float[b * t * d];
        float[] qCos = new float[b * t * d];
        float[] qSin = new float[b * t * d];
        for (int r = 0; r < b; r++) {
            for (int j = 0; j < t; j++) {
                int at = (r * t + j) * d;
                float p = positions[r][j];
                for (int i = 0; i < d; i++) {
                    float cv = 1f;
                    float sv = 0f;
                    if (i < rd) {
                        float angle = p * invFreq[i % half]; // emb = cat(freqs, freqs)
                        cv = (float) Math.cos(angle);
                        sv = (float) Math.sin(angle);
                    }
                    cos[at + i] = cv;
                    sin[at + i] = sv;
                    qCos[at + i] = cv * scale;
                    qSin[at + i] = sv * scale;
                }
            }
        }
        float[] rot = new float[d * d]; // (x R)[j] = sum_i x[i] R[i][j]
        for (int i = 0; i < half; i++) {
            rot[(i + half) * d + i] = -1f; // out[i] = -x[i + half]
            rot[i * d + (i + half)] = 1f; // out[i + half] = x[i]
        }
        Shape shape = new Shape(b, 1, 1, t, d);
        this.cos = typed(m.create(cos, shape), dtype);
        this.sin = typed(m.create(sin, shape), dtype);
        this.qCos = typed(m.create(qCos, shape), dtype);
        this.qSin = typed(m.create(qSin, shape), dtype);
        this.rotateHalf = typed(m.create(rot, new Shape(d, d)), dtype);
    }

    /** x [..., T, D] rotated with the key tables. */
    NDArray keys(NDArray x) {
        return x.mul(cos).add(x.matMul(rotateHalf).mul(sin));
    }

    /** x [..., T, D] rotated and scaled by 1/sqrt(D) with the query tables. */
    NDArray queries(NDArray x) {
        return x.mul(qCos).add(x.matMul(rotateHalf).mul(qSin));
    }

    private static NDArray typed(NDArray a, DataType dtype) {
        return dtype == DataType.FLOAT32 ? a : a.toType(dtype, false);
    }
}
