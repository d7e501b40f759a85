package ai.minitron.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.minitron.config.ParamCount;
import ai.minitron.io.HostTensor;
import ai.minitron.io.SafeTensors;
import ai.minitron.tap.Taps;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Our forward pass against Hugging Face transformers' logits on random-weight models of every
 * supported architecture (fixtures from tools/make_golden_fixtures.py): padded batches included.
 */
class GoldenParityTest {
    static final double TOLERANCE = 1e-4;

    static Stream<String> fixtures() throws Exception {
        return Fixtures.names();
    }

    @Test
    void everyArchitectureAndStorageFormatIsCovered() throws Exception {
        var names = Fixtures.names().toList();
        assertTrue(names.size() >= 5, "expected >= 5 golden fixtures, found " + names);
        var classes = names.stream().map(n -> ai.minitron.config.ModelConfig.load(Fixtures.dir(n)).architecture())
                .distinct().count();
        assertEquals(4, classes, "all four architectures must have a fixture");
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void logitsMatchTransformers(String name) throws Exception {
        Path dir = Fixtures.dir(name);
        Map<String, HostTensor> ref = SafeTensors.read(dir.resolve("reference.safetensors"));
        HostTensor idsT = ref.get("input_ids");
        long[] shape = idsT.shape();
        int b = (int) shape[0];
        int t = (int) shape[1];
        long[] mask = ref.get("attention_mask").toLongs();
        float[] expected = ref.get("logits").toFloats();
        try (NDManager m = NDManager.newBaseManager(); LanguageModel lm = LanguageModel.load(dir, m)) {
            int v = lm.config().vocabSize();
            NDArray ids = m.create(idsT.toLongs(), new Shape(b, t));
            NDArray am = m.create(mask, new Shape(b, t));
            NDArray pos = m.create(ref.get("position_ids").toLongs(), new Shape(b, t));
            float[] explicitPos = DecoderLM.forward(lm.config(), lm.weights(), ids, am, pos, Taps.NONE).toFloatArray();
            float[] derivedPos = DecoderLM.forward(lm.config(), lm.weights(), ids, am, null, Taps.NONE).toFloatArray();
            assertEquals(expected.length, (long) b * t * v);
            double worst = 0;
            int compared = 0;
            for (int i = 0; i < b * t; i++) {
                if (mask[i] == 0) {
                    continue; // HF's logits at padding positions are not meaningful
                }
                for (int k = 0; k < v; k++) {
                    int at = i * v + k;
                    worst = Math.max(worst, Math.abs(explicitPos[at] - expected[at]));
                    worst = Math.max(worst, Math.abs(derivedPos[at] - expected[at]));
                    compared++;
                }
            }
            assertTrue(compared > 0);
            assertTrue(worst <= TOLERANCE, name + ": max |Δlogit| = " + worst + " > " + TOLERANCE);
        }
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void analyticParameterCountEqualsRealTensorsAndTransformers(String name) throws Exception {
        Path dir = Fixtures.dir(name);
        JsonObject exp = JsonParser.parseString(Files.readString(dir.resolve("expected_params.json"))).getAsJsonObject();
        long hfTotal = exp.get("total_parameters").getAsLong();
        try (NDManager m = NDManager.newBaseManager(); LanguageModel lm = LanguageModel.load(dir, m)) {
            ParamCount pc = ParamCount.of(lm.config());
            assertEquals(hfTotal, pc.total(), "analytic count vs transformers' sum(p.numel())");
            assertEquals(lm.weights().numel(), pc.total(), "analytic count vs loaded tensors");
        }
    }
}
