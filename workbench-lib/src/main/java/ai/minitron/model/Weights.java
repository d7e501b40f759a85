package ai.minitron.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.TensorSchema;
import ai.minitron.io.HostTensor;
import ai.minitron.io.TensorDType;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A model's parameters: Hugging Face tensor name -> DJL NDArray, all owned by one NDManager.
 *
 * <p>The model is plain functions over this map (docs/architecture.md, "Forward pass and taps"), so pruning is slicing named
 * tensors, export is writing them, and training updates them in place. Loading validates every
 * tensor against the shapes the {@link ModelConfig} implies ({@link TensorSchema}) and converts
 * F16/BF16 storage to the compute dtype in Java: a bfloat16 NDArray aborts the JVM on DJL's
 * PyTorch CPU engine, so one is never created.
 */
public final class Weights implements AutoCloseable {
    private final NDManager manager;
    private final Map<String, NDArray> tensors = new LinkedHashMap<>();

    private Weights(NDManager manager) {
        this.manager = manager;
    }

    /** An empty set of weights with its own sub-manager of {@code parent}. */
    public static Weights empty(NDManager parent) {
        return new Weights(parent.newSubManager());
    }

    /**
     * Creates device arrays from host tensors, checking them against the config.
     *
     * @param source names the checkpoint in error messages
     * @throws WeightsException naming the tensor when one is missing, unexpected or mis-shaped
     */
    public static Weights fromHost(ModelConfig c, Map<String, HostTensor> host, NDManager parent, DataType dtype,
            String source) {
        requireSupported(dtype, parent.getDevice());
        Map<String, long[]> expected = requireSchema(c, host, source);
        Weights w = new Weights(parent.newSubManager());
        try {
            for (var e : expected.entrySet()) {
                HostTensor t = host.get(e.getKey());
                w.tensors.put(e.getKey(), w.toDevice(t, dtype, source));
            }
            return w;
        } catch (RuntimeException ex) {
            w.close();
            throw ex;
        }
    }

    /**
     * Checks a checkpoint's tensors against the config without reading their data: every tensor
     * {@link TensorSchema} implies is present with its shape and a floating dtype, and no other tensor
     * is there (beyond ignorable ones). Returns the expected name -> shape map; throws naming
     * {@code source} and the tensor at fault.
     */
    public static Map<String, long[]> requireSchema(ModelConfig c, Map<String, HostTensor> host, String source) {
        Map<String, long[]> expected = TensorSchema.expectedShapes(c);
        for (String name : host.keySet()) {
            if (!expected.containsKey(name) && !TensorSchema.isIgnorable(name, c)) {
                throw new WeightsException(source + ": unexpected tensor '" + name + "' for the config ("
                        + c.architecture().hfClass() + ", " + c.numHiddenLayers() + " layers"
                        + (c.tieWordEmbeddings() ? ", tied embeddings" : "") + "): config and weights disagree");
            }
        }
        for (var e : expected.entrySet()) {
            HostTensor t = host.get(e.getKey());
            if (t == null) {
                throw new WeightsException(source + ": missing tensor '" + e.getKey() + "' (expected shape "
                        + Arrays.toString(e.getValue()) + ")");
            }
            if (!Arrays.equals(t.shape(), e.getValue())) {
                throw new WeightsException(source + ": tensor '" + e.getKey() + "' has shape "
                        + Arrays.toString(t.shape()) + " but the config implies " + Arrays.toString(e.getValue()));
            }
            if (!t.dtype().isFloating()) {
                throw new WeightsException(source + ": tensor '" + t.name() + "' has dtype " + t.dtype()
                        + "; model weights must be F32, F16 or BF16");
            }
        }
        return expected;
    }

    /** Refuses NaN or infinite weights, naming the tensor and the first bad index (one pass over host data). */
    static void requireFinite(float[] data, String tensor, String source) {
        for (int i = 0; i < data.length; i++) {
            if (!Float.isFinite(data[i])) {
                throw new WeightsException(source + ": tensor '" + tensor + "' holds a non-finite value (" + data[i]
                        + " at flat index " + i + "): the checkpoint is corrupt or training diverged");
            }
        }
    }

    private NDArray toDevice(HostTensor t, DataType dtype, String source) {
        Shape shape = new Shape(t.shape());
        switch (t.dtype()) {
            case F32, F16, BF16, F64 -> {
                float[] data = t.toFloats(); // BF16/F16 widened to F32 in Java
                requireFinite(data, t.name(), source);
                NDArray a = manager.create(data, shape);
                return dtype == DataType.FLOAT32 ? a : a.toType(dtype, false);
            }
            default -> throw new WeightsException(source + ": tensor '" + t.name() + "' has dtype " + t.dtype()
                    + "; model weights must be F32, F16 or BF16");
        }
    }

    /**
     * Rejects compute dtypes that are unsafe or unsupported. BF16 on CPU is refused with a clear
     * message because DJL 0.36's PyTorch engine aborts the whole JVM when it creates one.
     */
    public static void requireSupported(DataType dtype, Device device) {
        if (dtype == DataType.BFLOAT16) {
            throw new IllegalArgumentException("bfloat16 compute is not supported"
                    + (device.isGpu() ? "" : " on CPU") + ": DJL's PyTorch engine aborts the JVM on bfloat16 arrays;"
                    + " use float32 (or float16 on a GPU). BF16 checkpoints load fine: they are widened to float32.");
        }
        if (dtype != DataType.FLOAT32 && dtype != DataType.FLOAT64 && dtype != DataType.FLOAT16) {
            throw new IllegalArgumentException("unsupported compute dtype " + dtype + " (use float32, float64 or float16)");
        }
    }

    /**
     * Random initialisation for training from scratch: N(0, 0.02) for embeddings and projections,
     * scaled by 1/sqrt(2 * layers) for the residual outputs (o_proj, down_proj) as in GPT-2; norms at
     * identity; biases zero. Deterministic in {@code seed}.
     */
    public static Weights random(ModelConfig c, NDManager parent, long seed, DataType dtype) {
        requireSupported(dtype, parent.getDevice());
        SplittableRandom rng = new SplittableRandom(seed);
        Weights w = new Weights(parent.newSubManager());
        double residualScale = 1.0 / Math.sqrt(2.0 * Math.max(1, c.numHiddenLayers()));
        for (var e : TensorSchema.expectedShapes(c).entrySet()) {
            String n = e.getKey();
            long[] shape = e.getValue();
            float[] data = new float[Math.toIntExact(TensorSchema.numel(shape))];
            if (n.contains("norm")) {
                float v = n.endsWith(".weight") && !c.layerNorm1p() ? 1f : 0f;
                Arrays.fill(data, v);
            } else if (n.endsWith(".bias")) {
                Arrays.fill(data, 0f);
            } else {
                double std = 0.02 * (n.contains("o_proj") || n.contains("down_proj") ? residualScale : 1.0);
                for (int i = 0; i < data.length; i++) {
                    data[i] = (float) (gaussian(rng) * std);
                }
            }
            NDArray a = w.manager.create(data, new Shape(shape));
            w.tensors.put(n, dtype == DataType.FLOAT32 ? a : a.toType(dtype, false));
        }
        return w;
    }

    private static double gaussian(SplittableRandom r) {
        // Box–Muller; SplittableRandom has no nextGaussian on Java 17.
        double u1 = r.nextDouble();
        double u2 = r.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u1 == 0 ? Double.MIN_VALUE : u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** The tensors as host tensors of the given storage dtype, in schema order. */
    public Map<String, HostTensor> toHost(TensorDType storage) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (var e : tensors.entrySet()) {
            NDArray a = e.getValue();
            float[] data = a.getDataType() == DataType.FLOAT32 ? a.toFloatArray()
                    : a.toType(DataType.FLOAT32, false).toFloatArray();
            HostTensor t = HostTensor.ofFloats(e.getKey(), a.getShape().getShape(), data);
            out.put(e.getKey(), t.convertTo(storage));
        }
        return out;
    }

    /** The named tensor; throws naming it when absent. */
    public NDArray get(String name) {
        NDArray a = tensors.get(name);
        if (a == null) {
            throw new WeightsException("no tensor '" + name + "' in these weights");
        }
        return a;
    }

    /** The named bias, or null when the architecture has none there. */
    public NDArray bias(String name) {
        return tensors.get(name);
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    public Set<String> names() {
        return Collections.unmodifiableSet(tensors.keySet());
    }

    public Map<String, NDArray> asMap() {
        return Collections.unmodifiableMap(tensors);
    }

    /** Adds or replaces a tensor; the array is attached to this object's manager. */
    public void put(String name, NDArray array) {
        array.attach(manager);
        NDArray old = tensors.put(name, array);
        if (old != null && old != array) {
            old.close();
        }
    }

    public NDManager manager() {
        return manager;
    }

    public DataType dataType() {
        return tensors.values().iterator().next().getDataType();
    }

    /** Total number of elements over all tensors. */
    public long numel() {
        long n = 0;
        for (NDArray a : tensors.values()) {
            n += a.size();
        }
        return n;
    }

    /** Marks every tensor as a leaf that collects gradients (for training and Taylor importance). */
    public void setRequiresGradient(boolean requires) {
        for (NDArray a : tensors.values()) {
            a.setRequiresGradient(requires);
        }
    }

    /** y = x W^T + b over the last axis; x [..., in], W [out, in], b [out] or null -> [..., out]. */
    public static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return Linear.linear(x, weight, bias).singletonOrThrow();
    }

    @Override
    public void close() {
        tensors.clear();
        manager.close();
    }
}
