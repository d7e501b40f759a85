package ai.minitron.importance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.data.CalibrationSet;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.LmLoss;
import ai.minitron.model.Weights;
import ai.minitron.stats.RankAgreement;
import ai.minitron.tap.Taps;
import org.junit.jupiter.api.Test;

/** Depth metrics on a model whose layer 1 is the identity (o_proj and down_proj zero). */
class DepthTest {
    static final ModelConfig C = ModelConfig.builder(Architecture.LLAMA).vocabSize(64).hiddenSize(16)
            .intermediateSize(24).numHiddenLayers(4).numAttentionHeads(4).numKeyValueHeads(2).headDim(8)
            .maxPositionEmbeddings(64).normEps(1e-5).build();

    @Test
    void anIdentityLayerHasZeroBlockImportanceAndCostsNothingToDrop() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Models.random(C, m, 31);
            for (String n : new String[] {"self_attn.o_proj.weight", "mlp.down_proj.weight"}) {
                w.put("model.layers.1." + n, w.get("model.layers.1." + n).zerosLike());
            }
            CalibrationSet cal = Models.ragged(C, 6, 10, 32);
            double[] bi = BlockImportance.scores(C, new ActivationPass(C, w).run(cal, 3, null));
            assertEquals(0.0, bi[1], 1e-6, "LAYER_OUT == LAYER_IN: cos = 1");
            assertEquals(1, RankAgreement.rank(bi)[3], "identity layer ranks last by BI");

            DepthScan scan = new DepthScan(C, w, cal, 3);
            double base = scan.baseline();
            double[] drop = scan.layerDrop(base, null);
            assertEquals(0.0, drop[1], 1e-6, "dropping an identity layer changes nothing");
            double[] block = scan.blockDrop(2, base, null);
            assertEquals(3, block.length);
            assertEquals(drop[0], block[0], 1e-5, "block {0,1} = drop layer 0 when layer 1 is the identity");
            assertEquals(drop[2], block[1], 1e-5, "block {1,2} = drop layer 2");

            // the scan's full-model loss equals the model's own loss (padding masked)
            double direct = 0;
            for (CalibrationSet.Batch bt : cal.batches(3)) {
                NDArray mask = bt.mask(m, DataType.FLOAT32);
                NDArray nll = LmLoss.tokenNll(DecoderLM.forward(C, w, bt.inputs(m), mask, null, Taps.NONE),
                        bt.targets(m));
                direct += (mask == null ? nll : nll.mul(mask)).sum().getFloat();
            }
            assertEquals(direct / cal.tokens(), base, 1e-5);
        }
    }
}
