package ai.minitron.generate;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.Locale;

/**
 * Which device and compute dtype a model runs on, decided once, with the reason stated.
 *
 * <ul>
 *   <li>Device: a CUDA GPU when DJL's PyTorch engine sees one (an external libtorch CUDA build through
 *       {@code PYTORCH_LIBRARY_PATH}, docs/architecture.md, "DJL facts"), otherwise the CPU. A GPU asked for but not
 *       visible is an error that says how to make it visible.
 *   <li>Dtype: float32 on CPU; float16 by default on GPU (half the memory and bandwidth). bfloat16 is
 *       never used: DJL 0.36's PyTorch engine aborts the whole JVM on a bfloat16 array on CPU (BF16
 *       checkpoints still load, widened to float32). float16 is refused on CPU, where PyTorch's half
 *       kernels are slow or missing.
 * </ul>
 * Load the model with the choice: {@code LanguageModel.load(dir, choice.newManager(), choice.dtype())}.
 */
public final class DevicePolicy {
    private DevicePolicy() {}

    /** A device and dtype with the reason they were chosen. */
    public record Choice(Device device, DataType dtype, String reason) {
        /** One line for logs and notebooks, e.g. "device cpu(), dtype float32: DJL sees no GPU ...". */
        public String describe() {
            return "device " + device + ", dtype " + dtypeName(dtype) + ": " + reason;
        }

        /** A new base manager on the chosen device (close it when done). */
        public NDManager newManager() {
            return NDManager.newBaseManager(device);
        }
    }

    /**
     * @param device "auto" (or null), "cpu", "gpu", "gpu:N" ("cuda", "cuda:N" also accepted)
     * @param dtype "auto" (or null), "float32", "float16" (GPU only), "float64"; "bfloat16" is refused
     */
    public static Choice choose(String device, String dtype) {
        Engine e = Engine.getInstance();
        return choose(device, dtype, e.getGpuCount(), e.getEngineName() + " " + e.getVersion());
    }

    /** As {@link #choose(String, String)} for a given number of visible GPUs (testable without one). */
    public static Choice choose(String device, String dtype, int gpuCount, String engine) {
        String d = device == null ? "auto" : device.trim().toLowerCase(Locale.ROOT);
        Device dev;
        String why;
        if (d.equals("auto")) {
            if (gpuCount > 0) {
                dev = Device.gpu(0);
                why = "DJL sees " + gpuCount + " GPU" + (gpuCount > 1 ? "s" : "") + " (" + engine + ")";
            } else {
                dev = Device.cpu();
                why = "DJL sees no GPU (" + engine + "; for CUDA set PYTORCH_LIBRARY_PATH, PYTORCH_VERSION and"
                        + " PYTORCH_FLAVOR, see the README)";
            }
        } else if (d.equals("cpu")) {
            dev = Device.cpu();
            why = "CPU requested";
        } else if (d.matches("(gpu|cuda)(:\\d+)?")) {
            int id = d.contains(":") ? Integer.parseInt(d.substring(d.indexOf(':') + 1)) : 0;
            if (gpuCount == 0) {
                throw new IllegalArgumentException("device '" + device + "' requested but DJL sees no GPU (" + engine
                        + "): point PYTORCH_LIBRARY_PATH at a CUDA build of libtorch 2.7.1 (e.g. pip's torch 2.7.1+cu128"
                        + " .../site-packages/torch/lib) with PYTORCH_VERSION=2.7.1 and PYTORCH_FLAVOR=cu128");
            }
            if (id >= gpuCount) {
                throw new IllegalArgumentException("device '" + device + "' requested but DJL sees only " + gpuCount
                        + " GPU" + (gpuCount > 1 ? "s" : "") + " (ids 0.." + (gpuCount - 1) + ")");
            }
            dev = Device.gpu(id);
            why = "GPU requested (" + engine + ")";
        } else {
            throw new IllegalArgumentException("device must be auto, cpu, gpu or gpu:N, got '" + device + "'");
        }

        String t = dtype == null ? "auto" : dtype.trim().toLowerCase(Locale.ROOT);
        DataType dt;
        switch (t) {
            case "auto" -> {
                dt = dev.isGpu() ? DataType.FLOAT16 : DataType.FLOAT32;
                why += dev.isGpu() ? "; float16 on GPU by default (pass float32 for full precision)"
                        : "; float32 on CPU";
            }
            case "float32", "fp32", "f32" -> dt = DataType.FLOAT32;
            case "float64", "fp64", "f64" -> dt = DataType.FLOAT64;
            case "float16", "fp16", "f16", "half" -> {
                if (!dev.isGpu()) {
                    throw new IllegalArgumentException("dtype float16 is for GPUs only: PyTorch's CPU half-precision"
                            + " kernels are slow or missing; use float32 on CPU");
                }
                dt = DataType.FLOAT16;
            }
            case "bfloat16", "bf16" -> throw new IllegalArgumentException("dtype bfloat16 is never used"
                    + (dev.isGpu() ? "" : " on CPU") + ": DJL's PyTorch engine aborts the JVM on bfloat16 arrays;"
                    + (dev.isGpu() ? " use float16 or float32 (BF16 checkpoints are widened on load)"
                            : " use float32 (BF16 checkpoints are widened to float32 on load)"));
            default -> throw new IllegalArgumentException("dtype must be auto, float32, float16 or float64, got '"
                    + dtype + "'");
        }
        return new Choice(dev, dt, why);
    }

    static String dtypeName(DataType t) {
        return switch (t) {
            case FLOAT32 -> "float32";
            case FLOAT16 -> "float16";
            case FLOAT64 -> "float64";
            case BFLOAT16 -> "bfloat16";
            default -> t.toString().toLowerCase(Locale.ROOT);
        };
    }
}
