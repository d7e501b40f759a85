package ai.minitron.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.minitron.config.ParamCount;
import ai.minitron.io.HostTensor;
import ai.minitron.io.SafeTensors;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.LanguageModel;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The committed pruned export (golden/pruned_export, see {@link PrunedExportFixture}) is exactly what
 * our pruner makes of the committed parent, and transformers reproduces our logits for it.
 */
class PrunedExportParityTest {
    @Test
    void rePruningTheParentGivesExactlyTheCommittedExport() {
        try (NDManager m = NDManager.newBaseManager(); LanguageModel parent = LanguageModel.load(PrunedExportFixture.PARENT, m);
                LanguageModel export = LanguageModel.load(PrunedExportFixture.MODEL, m)) {
            Pruner.Pruned p = PrunedExportFixture.prune(parent);
            assertEquals(p.config(), export.config());
            assertEquals(p.weights().names(), export.weights().names());
            for (String n : p.weights().names()) {
                assertArrayEquals(p.weights().get(n).toFloatArray(), export.weights().get(n).toFloatArray(), n);
            }
            assertEquals(p.keep(), PruningRecord.read(PrunedExportFixture.MODEL));
            var c = export.config();
            assertTrue(c.hiddenSize() < parent.config().hiddenSize() && c.numHiddenLayers() < parent.config().numHiddenLayers()
                    && c.numAttentionHeads() < parent.config().numAttentionHeads()
                    && c.intermediateSize() < parent.config().intermediateSize(), "every axis is pruned: " + c);
        }
    }

    @Test
    void transformersReproducesOurLogitsForThePrunedExport() throws Exception {
        Map<String, HostTensor> ref = SafeTensors.read(PrunedExportFixture.DIR.resolve("transformers_logits.safetensors"));
        JsonObject manifest = JsonParser.parseString(Files.readString(PrunedExportFixture.DIR.resolve("manifest.json")))
                .getAsJsonObject();
        long[] shape = ref.get("input_ids").shape();
        float[] expected = ref.get("logits").toFloats();
        try (NDManager m = NDManager.newBaseManager(); LanguageModel lm = LanguageModel.load(PrunedExportFixture.MODEL, m)) {
            assertEquals(manifest.get("total_parameters").getAsLong(), ParamCount.of(lm.config()).total());
            assertEquals(manifest.get("total_parameters").getAsLong(), lm.weights().numel());
            float[] got = DecoderLM.forward(lm.config(), lm.weights(), m.create(ref.get("input_ids").toLongs(),
                    new Shape(shape))).toFloatArray();
            assertEquals(expected.length, got.length);
            double worst = 0;
            for (int i = 0; i < got.length; i++) {
                worst = Math.max(worst, Math.abs(got[i] - expected[i]));
            }
            assertTrue(worst <= 1e-4, "max |Δlogit| vs transformers = " + worst);
        }
    }
}
