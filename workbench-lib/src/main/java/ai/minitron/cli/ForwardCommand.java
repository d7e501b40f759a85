package ai.minitron.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.minitron.data.DataException;
import ai.minitron.data.TokenDataset;
import ai.minitron.io.Npy;
import ai.minitron.model.LanguageModel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code minitron forward}: logits of one token sequence as a float32 .npy [tokens, vocab]. */
@Command(name = "forward", description = "Write the logits of a token sequence as a float32 .npy of shape [tokens, vocab].")
final class ForwardCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Checkpoint directory.")
    Path model;

    @Option(names = "--tokens", required = true, split = ",", description = "Comma-separated token ids, e.g. 1,2,3.")
    List<Long> tokens;

    @Option(names = "--out", required = true, description = "Output .npy file.")
    Path out;

    @Override
    public Integer call() throws Exception {
        try (NDManager m = NDManager.newBaseManager(); LanguageModel lm = LanguageModel.load(model, m)) {
            long[] ids = tokens.stream().mapToLong(Long::longValue).toArray();
            for (long id : ids) {
                if (id < 0 || id >= lm.config().vocabSize()) {
                    throw new IllegalArgumentException("--tokens: id " + id + " is outside the vocabulary [0, "
                            + lm.config().vocabSize() + ")");
                }
            }
            try {
                TokenDataset.checkSeqLen(ids.length, lm.config().maxPositionEmbeddings());
            } catch (DataException e) {
                throw new IllegalArgumentException("--tokens: " + e.getMessage(), e);
            }
            NDArray logits = lm.logits(m, new long[][] {ids}); // [1, T, V]
            Npy.writeFloat32(out, logits.toFloatArray(), new long[] {ids.length, lm.config().vocabSize()});
            System.out.println("wrote " + out + " float32 " + Arrays.toString(new long[] {ids.length, lm.config().vocabSize()}));
        }
        return 0;
    }
}
