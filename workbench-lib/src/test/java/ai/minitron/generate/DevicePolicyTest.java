package ai.minitron.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import org.junit.jupiter.api.Test;

/** GPU when visible, else CPU; float16 only on GPU; bfloat16 never; every choice explained. */
class DevicePolicyTest {
    static final String ENGINE = "PyTorch 2.7.1";

    @Test
    void autoPicksCpuFloat32WithoutAGpuAndGpuFloat16WithOne() {
        DevicePolicy.Choice cpu = DevicePolicy.choose("auto", "auto", 0, ENGINE);
        assertEquals(Device.cpu(), cpu.device());
        assertEquals(DataType.FLOAT32, cpu.dtype());
        assertTrue(cpu.describe().startsWith("device cpu(), dtype float32: DJL sees no GPU"), cpu.describe());
        assertTrue(cpu.describe().contains("PYTORCH_LIBRARY_PATH"), cpu.describe());

        DevicePolicy.Choice gpu = DevicePolicy.choose(null, null, 2, ENGINE);
        assertEquals(Device.gpu(0), gpu.device());
        assertEquals(DataType.FLOAT16, gpu.dtype());
        assertTrue(gpu.describe().contains("gpu(0)") && gpu.describe().contains("float16")
                && gpu.describe().contains("2 GPUs"), gpu.describe());

        assertEquals(DataType.FLOAT32, DevicePolicy.choose("gpu:1", "float32", 2, ENGINE).dtype());
        assertEquals(Device.gpu(1), DevicePolicy.choose("cuda:1", "fp16", 2, ENGINE).device());
        assertEquals(Device.cpu(), DevicePolicy.choose("cpu", "auto", 1, ENGINE).device());
    }

    @Test
    void refusesBfloat16AndCpuFloat16AndInvisibleGpus() {
        String bf = assertThrows(IllegalArgumentException.class, () -> DevicePolicy.choose("cpu", "bfloat16", 0, ENGINE))
                .getMessage();
        assertTrue(bf.contains("bfloat16") && bf.contains("on CPU") && bf.contains("float32"), bf);
        assertThrows(IllegalArgumentException.class, () -> DevicePolicy.choose("gpu", "bf16", 1, ENGINE));
        String half = assertThrows(IllegalArgumentException.class, () -> DevicePolicy.choose("auto", "float16", 0, ENGINE))
                .getMessage();
        assertTrue(half.contains("float16 is for GPUs only"), half);
        String noGpu = assertThrows(IllegalArgumentException.class, () -> DevicePolicy.choose("gpu", "auto", 0, ENGINE))
                .getMessage();
        assertTrue(noGpu.contains("PYTORCH_LIBRARY_PATH") && noGpu.contains("PYTORCH_FLAVOR=cu128"), noGpu);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DevicePolicy.choose("gpu:3", "auto", 2, ENGINE))
                .getMessage().contains("only 2 GPUs"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DevicePolicy.choose("tpu", "auto", 0, ENGINE))
                .getMessage().contains("device must be"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DevicePolicy.choose("cpu", "int8", 0, ENGINE))
                .getMessage().contains("dtype must be"));
    }

    @Test
    void theRealEngineDecidesHere() {
        DevicePolicy.Choice c = DevicePolicy.choose("auto", "auto");
        assertEquals(Engine.getInstance().getGpuCount() > 0, c.device().isGpu(), c.describe());
        assertEquals(c.device().isGpu() ? DataType.FLOAT16 : DataType.FLOAT32, c.dtype());
    }
}
