package ai.minitron.importance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.minitron.TestConfigs;
import ai.minitron.config.ModelConfig;
import ai.minitron.data.CalibrationSet;
import ai.minitron.model.Weights;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Magnitude by hand, random is seeded, Taylor does not depend on the batch size or on padding. */
class BaselinesTest {

    @Test
    void magnitudeIsTheL2NormOfTheUnitsWeights() {
        ModelConfig c = TestConfigs.llama();
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Models.random(c, m, 41);
            AxisScores mag = MagnitudeMetric.scores(c, w);
            int h = c.hiddenSize();
            int d = c.headDim();
            String p = "model.layers.1.";
            // neuron 4 of layer 1: row 4 of gate and up [I, H], column 4 of down [H, I]
            double q = rowSq(w, p + "mlp.gate_proj.weight", 4, h) + rowSq(w, p + "mlp.up_proj.weight", 4, h)
                    + colSq(w, p + "mlp.down_proj.weight", 4, c.intermediateSize());
            assertEquals(Math.sqrt(q), mag.mlp()[1][4], 1e-5);
            // head 2 of layer 1: rows [2D, 3D) of q_proj, columns [2D, 3D) of o_proj
            double hq = 0;
            for (int r = 2 * d; r < 3 * d; r++) {
                hq += rowSq(w, p + "self_attn.q_proj.weight", r, h)
                        + colSq(w, p + "self_attn.o_proj.weight", r, c.numAttentionHeads() * d);
            }
            assertEquals(Math.sqrt(hq), mag.heads()[1][2], 1e-5);
            // hidden channel 5: column 5 of every input map, row 5 of o/down, element 5 of every norm
            double hs = 0;
            for (String n : w.names()) {
                long[] shape = w.get(n).getShape().getShape();
                if (shape.length == 1) {
                    hs += n.contains("norm") ? Math.pow(w.get(n).toFloatArray()[5], 2) : 0;
                } else if (n.contains("o_proj") || n.contains("down_proj")) {
                    hs += rowSq(w, n, 5, (int) shape[1]);
                } else {
                    hs += colSq(w, n, 5, (int) shape[1]);
                }
            }
            assertEquals(Math.sqrt(hs), mag.hidden()[5], 1e-4);
            // layer 0: every tensor of the layer
            double ls = 0;
            for (String n : w.names()) {
                if (n.startsWith("model.layers.0.")) {
                    for (float v : w.get(n).toFloatArray()) ls += (double) v * v;
                }
            }
            assertEquals(Math.sqrt(ls), mag.layers()[0], 1e-4 * Math.sqrt(ls));
        }
    }

    private static double rowSq(Weights w, String name, int row, int cols) {
        float[] v = w.get(name).toFloatArray();
        double s = 0;
        for (int j = 0; j < cols; j++) s += (double) v[row * cols + j] * v[row * cols + j];
        return s;
    }

    private static double colSq(Weights w, String name, int col, int cols) {
        float[] v = w.get(name).toFloatArray();
        double s = 0;
        for (int i = col; i < v.length; i += cols) s += (double) v[i] * v[i];
        return s;
    }

    @Test
    void randomIsSeeded() {
        ModelConfig c = TestConfigs.llama();
        AxisScores a = RandomMetric.scores(c, 5);
        AxisScores b = RandomMetric.scores(c, 5);
        AxisScores d = RandomMetric.scores(c, 6);
        assertArrayEquals(a.mlp()[1], b.mlp()[1]);
        assertArrayEquals(a.hidden(), b.hidden());
        assertFalse(Arrays.equals(a.mlp()[1], d.mlp()[1]));
        assertTrue(Arrays.stream(a.hidden()).allMatch(x -> x >= 0 && x < 1));
    }

    @Test
    void taylorIsIndependentOfBatchingAndPadding() {
        ModelConfig c = TestConfigs.llama();
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Models.random(c, m, 43);
            CalibrationSet cal = Models.ragged(c, 6, 10, 44);
            AxisScores one = TaylorMetric.scores(c, w, cal, 1, null);
            AxisScores padded = TaylorMetric.scores(c, w, cal, 3, null);
            for (int l = 0; l < c.numHiddenLayers(); l++) {
                ActivationPassTest.close(one.mlp()[l], padded.mlp()[l], "taylor mlp " + l);
                ActivationPassTest.close(one.heads()[l], padded.heads()[l], "taylor heads " + l);
            }
            ActivationPassTest.close(one.hidden(), padded.hidden(), "taylor hidden");
            ActivationPassTest.close(one.layers(), padded.layers(), "taylor layers");
            assertTrue(Arrays.stream(one.hidden()).allMatch(x -> x > 0));
        }
    }
}
