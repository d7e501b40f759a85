package ai.minitron.cli;

import ai.djl.ndarray.NDManager;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.model.LanguageModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code minitron info --model DIR}: what a checkpoint is, by the numbers. */
@Command(name = "info", description = "Architecture, dimensions, parameter counts by component, dtype and size on disk.")
final class InfoCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Checkpoint directory (config.json + safetensors).")
    Path model;

    @Override
    public Integer call() throws Exception {
        try (NDManager m = NDManager.newBaseManager(); LanguageModel lm = LanguageModel.load(model, m)) {
            ModelConfig c = lm.config();
            ParamCount pc = ParamCount.of(c);
            System.out.println("model        " + model);
            System.out.println("architecture " + c.architecture().hfClass());
            System.out.printf("layers       %d%n", c.numHiddenLayers());
            System.out.printf("hidden       %d%n", c.hiddenSize());
            System.out.printf("heads        %d query, %d key/value (%d per group), head_dim %d%n", c.numAttentionHeads(),
                    c.numKeyValueHeads(), c.queriesPerKvHead(), c.headDim());
            System.out.printf("mlp          %d (%s)%n", c.intermediateSize(), c.gatedMlp() ? "SwiGLU" : "squared ReLU");
            System.out.printf("norm         %s, eps %.1e%n", c.layerNorm1p() ? "LayerNorm1p" : "RMSNorm", c.normEps());
            System.out.printf("rope         theta %.0f, rotary dim %d of %d%n", c.ropeTheta(), c.rotaryDim(), c.headDim());
            System.out.printf("vocab        %d (%s embeddings)%n", c.vocabSize(), c.tieWordEmbeddings() ? "tied" : "untied");
            System.out.printf("context      %d%n", c.maxPositionEmbeddings());
            System.out.println("parameters");
            for (var e : pc.asMap().entrySet()) {
                System.out.printf("  %-10s %,14d%n", e.getKey(), e.getValue());
            }
            System.out.println("stored dtype " + lm.storageDtype() + " (computing in float32)");
            System.out.printf("size on disk %,d bytes%n", sizeOnDisk(model));
            System.out.println("tokenizer    " + (lm.tokenizerJson() == null ? "none" : lm.tokenizerJson()));
        }
        return 0;
    }

    static long sizeOnDisk(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
