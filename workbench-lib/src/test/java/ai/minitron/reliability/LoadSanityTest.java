package ai.minitron.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.cli.CliRun;
import ai.minitron.io.HostTensor;
import ai.minitron.io.SafeTensors;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18 case 6 (numeric sanity at load: non-positive eps/theta, non-finite weights, non-finite
 * metrics) and case 13 (every exported config.json states the dtype actually stored).
 */
@Tag("reliability")
class LoadSanityTest {
    @TempDir
    Path tmp;

    private static void setConfig(Path dir, String key, Number value) throws Exception {
        Path f = dir.resolve("config.json");
        JsonObject o = JsonParser.parseString(Files.readString(f)).getAsJsonObject();
        o.addProperty(key, value);
        Files.writeString(f, o.toString());
    }

    /** Rewrites the model's weights with {@code value} at one element of {@code tensor}. */
    private static void poison(Path dir, String tensor, float value, boolean everyElement) throws Exception {
        Map<String, HostTensor> host = SafeTensors.readCheckpoint(dir);
        List<HostTensor> out = new ArrayList<>();
        for (HostTensor t : host.values()) {
            if (t.name().equals(tensor)) {
                float[] v = t.toFloats();
                if (everyElement) {
                    java.util.Arrays.fill(v, value);
                } else {
                    v[v.length / 2] = value;
                }
                out.add(HostTensor.ofFloats(t.name(), t.shape(), v));
            } else {
                out.add(t);
            }
        }
        SafeTensors.write(dir.resolve("model.safetensors"), out, Map.of("format", "pt"));
    }

    @Test
    void case06NonPositiveRopeThetaOrNormEpsIsRefusedNamingKeyAndFile() throws Exception {
        String[][] bad = {{"rope_theta", "0"}, {"rope_theta", "-10000"}, {"rms_norm_eps", "-1e-6"}, {"rms_norm_eps", "0"}};
        for (String[] kv : bad) {
            Path model = InputFixtures.model(tmp.resolve("m-" + kv[0] + kv[1]));
            setConfig(model, kv[0], Double.parseDouble(kv[1]));
            CliRun r = CliRun.of("info", "--model", model.toString());
            assertNotEquals(0, r.code(), kv[0] + " " + kv[1] + ": " + r.out());
            assertTrue(r.err().contains(kv[0]) && r.err().contains(model.resolve("config.json").toString()),
                    kv[0] + " " + kv[1] + ": " + r.err());
        }
    }

    @Test
    void case06NonFiniteWeightsAreRefusedAtLoadNamingTheTensor() throws Exception {
        Path text = InputFixtures.text(tmp.resolve("t.txt"), 2000);
        for (float v : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
            Path model = InputFixtures.model(tmp.resolve("m" + v));
            String tensor = "model.layers.1.mlp.up_proj.weight";
            poison(model, tensor, v, false);
            CliRun r = CliRun.of("eval", "--model", model.toString(), "--text", text.toString(), "--seq-len", "16");
            assertNotEquals(0, r.code(), r.out());
            assertTrue(r.err().contains("'" + tensor + "'") && r.err().contains("non-finite"), r.err());
            assertFalse(r.out().contains("perplexity"), r.out());
        }
    }

    @Test
    void case06EvalNeverReportsANonFiniteMetricWithExitZero() throws Exception {
        // finite but huge weights: the logits overflow, the perplexity would be infinite or NaN
        Path model = InputFixtures.model(tmp.resolve("m"));
        poison(model, "model.norm.weight", 3e38f, true);
        Path text = InputFixtures.text(tmp.resolve("t.txt"), 2000);
        CliRun r = CliRun.of("eval", "--model", model.toString(), "--text", text.toString(), "--seq-len", "16");
        assertNotEquals(0, r.code(), r.out());
        assertTrue(r.err().contains("not finite"), r.err());
    }

    @Test
    void case13CheckpointsDeclareTheDtypeTheyStore() throws Exception {
        Path teacher = InputFixtures.model(tmp.resolve("teacher"));
        Path student = InputFixtures.model(tmp.resolve("student"), 5, InputFixtures.TOKENIZER, TensorDType.F16);
        Path text = InputFixtures.text(tmp.resolve("train.txt"), 3000);
        Path out = tmp.resolve("out");
        CliRun r = CliRun.of("distill", "--teacher", teacher.toString(), "--student", student.toString(), "--data",
                text.toString(), "--val", text.toString(), "--tokens", "64", "--batch-size", "2", "--seq-len", "16",
                "--eval-every", "1", "--eval-batches", "1", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        for (Path dir : List.of(student, out.resolve("checkpoint"), out.resolve("model"))) {
            assertDeclaredDtypeIsStored(dir);
        }
    }

    private static void assertDeclaredDtypeIsStored(Path dir) throws Exception {
        String declared = JsonParser.parseString(Files.readString(dir.resolve("config.json"))).getAsJsonObject()
                .get("torch_dtype").getAsString();
        for (HostTensor t : SafeTensors.read(dir.resolve("model.safetensors")).values()) {
            assertEquals(declared, LanguageModel.torchDtypeName(t.dtype()), dir + ": " + t.name());
        }
    }
}
