package ai.minitron.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ConfigException;
import ai.minitron.io.HostTensor;
import ai.minitron.io.SafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints whose config and weights disagree give one clear error naming the file and tensor. */
class BadCheckpointTest {
    static final String FIXTURE = "llama_gqa_untied";

    @TempDir
    Path tmp;

    private Path copyWith(java.util.function.Consumer<Map<String, HostTensor>> edit) throws Exception {
        Path src = Fixtures.dir(FIXTURE);
        Path dir = tmp.resolve("ckpt");
        Files.createDirectories(dir);
        Files.copy(src.resolve("config.json"), dir.resolve("config.json"));
        Map<String, HostTensor> t = new LinkedHashMap<>(SafeTensors.readCheckpoint(src));
        edit.accept(t);
        SafeTensors.write(dir.resolve("model.safetensors"), t.values(), Map.of("format", "pt"));
        return dir;
    }

    private static String loadError(Path dir) {
        try (NDManager m = NDManager.newBaseManager()) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> LanguageModel.load(dir, m).close());
            return e.getMessage();
        }
    }

    @Test
    void missingTensorIsNamed() throws Exception {
        Path dir = copyWith(t -> t.remove("model.layers.1.mlp.down_proj.weight"));
        String msg = loadError(dir);
        assertTrue(msg.contains("missing tensor 'model.layers.1.mlp.down_proj.weight'"), msg);
        assertTrue(msg.contains(dir.toString()), msg);
    }

    @Test
    void wrongShapeIsNamed() throws Exception {
        Path dir = copyWith(t -> t.put("model.norm.weight",
                HostTensor.ofFloats("model.norm.weight", new long[] {7}, new float[7])));
        String msg = loadError(dir);
        assertTrue(msg.contains("'model.norm.weight' has shape [7]"), msg);
    }

    @Test
    void unexpectedTensorMeansConfigAndWeightsDisagree() throws Exception {
        Path dir = copyWith(t -> t.put("model.layers.9.mlp.up_proj.weight",
                HostTensor.ofFloats("model.layers.9.mlp.up_proj.weight", new long[] {1}, new float[1])));
        String msg = loadError(dir);
        assertTrue(msg.contains("unexpected tensor 'model.layers.9.mlp.up_proj.weight'") && msg.contains("disagree"), msg);
    }

    @Test
    void integerWeightsAreRejected() throws Exception {
        Path dir = copyWith(t -> t.put("model.norm.weight",
                HostTensor.ofLongs("model.norm.weight", new long[] {48}, new long[48])));
        String msg = loadError(dir);
        assertTrue(msg.contains("model.norm.weight") && msg.contains("I64"), msg);
    }

    @Test
    void configLayerCountDisagreeingWithWeights() throws Exception {
        Path dir = copyWith(t -> {});
        String cfg = Files.readString(dir.resolve("config.json")).replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3");
        Files.writeString(dir.resolve("config.json"), cfg);
        String msg = loadError(dir);
        assertTrue(msg.contains("missing tensor 'model.layers.2."), msg);
    }

    @Test
    void bf16ComputeOnCpuIsRefusedNotAborted() {
        try (NDManager m = NDManager.newBaseManager()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> LanguageModel.load(Fixtures.dir(FIXTURE), m, DataType.BFLOAT16));
            assertTrue(e.getMessage().contains("bfloat16"), e.getMessage());
        }
    }

    @Test
    void missingConfigIsNamed() throws Exception {
        Path dir = tmp.resolve("empty");
        Files.createDirectories(dir);
        try (NDManager m = NDManager.newBaseManager()) {
            ConfigException e = assertThrows(ConfigException.class, () -> LanguageModel.load(dir, m));
            assertTrue(e.getMessage().contains("config.json"), e.getMessage());
        }
    }
}
