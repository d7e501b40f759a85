package ai.minitron.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.LmLoss;
import ai.minitron.model.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Shared pieces of the eval tests: the repo's data and a reference scorer (the tiny model over the repo
 * tokenizer's vocabulary is {@link ai.minitron.TestConfigs#evalLlama}).
 */
final class EvalFixtures {
    private EvalFixtures() {}

    static Path data() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("data/corpus/test.txt"))) {
                return p.resolve("data");
            }
        }
        throw new IllegalStateException("data/corpus/test.txt not found above " + Path.of("").toAbsolutePath());
    }

    static Path tokenizer() {
        return data().resolve("tokenizer/tokenizer.json");
    }

    /**
     * Reference: log p(tokens[from..]) computed one row, one forward pass and direct {@link LmLoss}
     * calls, no padding, no batching.
     */
    static double referenceLogLikelihood(ModelConfig c, Weights w, NDManager m, long[] tokens, int from) {
        float[] nll = nllOf(c, w, m, tokens);
        double ll = 0;
        for (int j = from - 1; j < nll.length; j++) {
            ll -= nll[j];
        }
        return ll;
    }

    /** Reference: nll[j] = -log p(row[j + 1] | row[0..j]) for one unpadded row, by a forward pass and LmLoss. */
    static float[] referenceNlls(ModelConfig c, Weights w, NDManager m, long[] row) {
        return nllOf(c, w, m, row);
    }

    private static float[] nllOf(ModelConfig c, Weights w, NDManager m, long[] row) {
        try (NDManager s = m.newSubManager()) {
            long[] in = Arrays.copyOfRange(row, 0, row.length - 1);
            long[] tg = Arrays.copyOfRange(row, 1, row.length);
            NDArray logits = DecoderLM.forward(c, w, s.create(new long[][] {in}));
            return LmLoss.tokenNll(logits, s.create(new long[][] {tg})).toFloatArray();
        }
    }
}
