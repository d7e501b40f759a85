package ai.minitron.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.minitron.config.ModelConfig;

/**
 * Rotary position embeddings (Su et al., RoFormer) in Hugging Face's "rotate half" layout: the
 * first and second halves of the rotated channels form the (real, imaginary) pairs, with
 * {@code inv_freq[i] = rope_theta^(-2i / rotary_dim)}. With partial rotary (Nemotron,
 * {@code partial_rotary_factor < 1}) only the first {@code rotary_dim} channels of each head rotate;
 * the rest pass through unchanged.
 */
public final class Rope {
    private Rope() {}

    /**
     * cos and sin for the given positions [B, T], each [B, 1, T, rotary_dim], in the model dtype. The angles are
     * computed in float32 as Hugging Face does for every model dtype, except for a float64 model, where they are
     * float64 too (a float64 forward is the workbench's exact reference, e.g. for gradient and parity checks).
     */
    public static NDList cosSin(ModelConfig c, NDArray positionIds, DataType dtype) {
        int rd = c.rotaryDim();
        NDManager m = positionIds.getManager();
        Shape bt = positionIds.getShape();
        boolean exact = dtype == DataType.FLOAT64;
        NDArray inv = (exact ? m.create(inverseFrequencies64(c)) : m.create(inverseFrequencies(c))).reshape(1, 1, rd / 2);
        NDArray freqs = positionIds.toType(exact ? DataType.FLOAT64 : DataType.FLOAT32, false)
                .reshape(bt.get(0), bt.get(1), 1).mul(inv); // [B,T,rd/2]
        NDArray emb = NDArrays.concat(new NDList(freqs, freqs), -1).expandDims(1); // [B,1,T,rd]
        return new NDList(emb.cos().toType(dtype, false), emb.sin().toType(dtype, false));
    }

    /** {@code inv_freq} [rotary_dim / 2] in float32, as HF: {@code 1 / theta ** (arange(0, rd, 2).float() / rd)}. */
    public static float[] inverseFrequencies(ModelConfig c) {
        int rd = c.rotaryDim();
        float[] invFreq = new float[rd / 2];
        for (int i = 0; i < rd / 2; i++) {
            invFreq[i] = (float) (1.0 / Math.pow(c.ropeTheta(), (float) (2 * i) / (float) rd));
        }
        return invFreq;
    }

    /** {@code inv_freq} [rotary_dim / 2] in float64: {@code 1 / theta ** (2i / rd)}. */
    public static double[] inverseFrequencies64(ModelConfig c) {
        int rd = c.rotaryDim();
        double[] invFreq = new double[rd / 2];
        for (int i = 0; i < rd / 2; i++) {
            invFreq[i] = 1.0 / Math.pow(c.ropeTheta(), (double) (2 * i) / rd);
        }
        return invFreq;
    }

    /** Rotates x [B, heads, T, D] at the positions encoded by cos/sin [B, 1, T, rotary_dim]. */
    public static NDArray apply(NDArray x, NDArray cos, NDArray sin, int rotaryDim) {
        long d = x.getShape().get(3);
        if (rotaryDim == d) {
            return x.mul(cos).add(rotateHalf(x).mul(sin));
        }
        NDArray rot = x.get(":, :, :, :{}", rotaryDim);
        NDArray pass = x.get(":, :, :, {}:", rotaryDim);
        NDArray rotated = rot.mul(cos).add(rotateHalf(rot).mul(sin));
        return NDArrays.concat(new NDList(rotated, pass), -1);
    }

    /** [x1, x2] -> [-x2, x1] over the last axis. */
    static NDArray rotateHalf(NDArray x) {
        long half = x.getShape().get(3) / 2;
        NDArray x1 = x.get(":, :, :, :{}", half);
        NDArray x2 = x.get(":, :, :, {}:", half);
        return NDArrays.concat(new NDList(x2.neg(), x1), -1);
    }
}
