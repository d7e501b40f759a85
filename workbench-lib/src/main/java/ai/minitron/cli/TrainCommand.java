package ai.minitron.cli;

import ai.minitron.io.Json;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.data.Corpus;
import ai.minitron.data.TokenDataset;
import ai.minitron.io.OutputDir;
import ai.minitron.io.OutputLock;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import ai.minitron.tokenize.Tokenizer;
import ai.minitron.train.DatasetBatches;
import ai.minitron.train.TrainConfig;
import ai.minitron.train.TrainLoop;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code minitron train}: pretrain a small decoder LM from a random initialisation on a corpus split.
 * The run config (JSON) holds the model's Hugging Face config, the training hyper-parameters and the
 * tokenizer; rerunning the same command resumes from {@code OUT/checkpoint}.
 */
@Command(name = "train", description = "Pretrain a small model from scratch on a corpus split (resumes automatically).")
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "Run config JSON: {\"model\": {HF config.json}, \"training\": {...}, \"tokenizer\": PATH, \"init_seed\": N}.")
    Path configFile;

    @Mixin
    SplitOptions split;

    @Option(names = "--out", required = true, description = "Output directory: checkpoint/, metrics.arrow, model/.")
    Path out;

    @Option(names = "--save-dtype", defaultValue = "F32", description = "Storage dtype of the final model: F32, F16 or BF16 (default ${DEFAULT-VALUE}).")
    TensorDType saveDtype;

    @Mixin
    OutputOptions output;

    @Override
    public Integer call() throws Exception {
        JsonObject run = Json.parse(Files.readString(configFile)).getAsJsonObject();
        for (String key : List.of("model", "training", "tokenizer")) {
            if (!run.has(key)) {
                throw new IllegalArgumentException(configFile + ": missing field '" + key + "'");
            }
        }
        ModelConfig config = ModelConfig.fromJson(run.getAsJsonObject("model"), configFile + " (model)");
        TrainConfig tc = new Gson().fromJson(run.get("training"), TrainConfig.class);
        tc = tc.toBuilder().build(); // validates
        Path tokPath = configFile.toAbsolutePath().getParent().resolve(run.get("tokenizer").getAsString()).normalize();
        if (!Files.exists(tokPath)) {
            tokPath = Path.of(run.get("tokenizer").getAsString());
        }
        long initSeed = run.has("init_seed") ? run.get("init_seed").getAsLong() : 0;
        Path valFile = split.validation();
        TokenDataset.checkSeqLen(tc.seqLen(), config.maxPositionEmbeddings());

        TokenDataset trainSet;
        TokenDataset valSet;
        try (Tokenizer tok = Tokenizer.load(tokPath)) {
            if (tok.vocabSize() > config.vocabSize()) {
                throw new IllegalArgumentException(configFile + ": vocab_size " + config.vocabSize()
                        + " is smaller than the tokenizer's " + tok.vocabSize() + " tokens (" + tokPath + ")");
            }
            System.err.println("tokenizing " + split.data() + " ...");
            trainSet = TokenDataset.pack(Corpus.read(split.data()).documents(), tok, tc.seqLen());
            valSet = TokenDataset.pack(Corpus.read(valFile).documents(), tok, tc.seqLen());
        }
        System.err.printf("model %s: %,d parameters; train %,d samples x %d tokens (%s), validation %,d samples%n",
                config.architecture().hfClass(), ParamCount.of(config).total(), trainSet.size(), tc.seqLen(),
                trainSet.contentHash().substring(0, 12), valSet.size());
        System.err.printf("plan: %d steps x %,d tokens = %,d tokens (%.2f epochs)%n", tc.steps(), tc.tokensPerStep(),
                tc.steps() * tc.tokensPerStep(), (double) tc.steps() * tc.batchSize() * tc.gradAccum() / trainSet.size());

        String of = "config " + ai.minitron.io.Sha256.hex(Files.readString(configFile));
        try (OutputLock lock = OutputOptions.lock(out)) {
            output.open(out, OutputKind.TRAIN, of);
            Files.copy(configFile, out.resolve("run-config.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            train(config, tc, trainSet, valSet, initSeed, tokPath, of);
        }
        return 0;
    }

    private void train(ModelConfig config, TrainConfig tc, TokenDataset trainSet, TokenDataset valSet, long initSeed,
            Path tokPath, String of) {
        long t0 = System.nanoTime();
        try (NDManager m = NDManager.newBaseManager();
                ProgressBar pb = ProgressBars.open("train", tc.steps())) {
            Weights w = Weights.random(config, m, initSeed, DataType.FLOAT32);
            TrainLoop loop = new TrainLoop(config, w, tc, new DatasetBatches(trainSet, tc.seed(), true),
                    new DatasetBatches(valSet, 0, false), TrainLoop.languageModelling(config), out,
                    new TrainLoop.Listener() {
                        @Override
                        public void onStep(TrainLoop.StepMetrics s) {
                            pb.stepTo(s.step());
                            pb.setExtraMessage(String.format(" loss %.3f%s %.0f tok/s", s.loss(),
                                    Double.isNaN(s.valLoss()) ? "" : String.format(" val %.3f", s.valLoss()), s.tokensPerS()));
                        }

                        @Override
                        public void onResume(long step) {
                            System.err.println("resuming from " + out.resolve("checkpoint") + " at step " + step);
                            pb.stepTo(step);
                        }
                    });
            List<TrainLoop.StepMetrics> h = loop.run();
            pb.close();
            TrainLoop.StepMetrics last = h.get(h.size() - 1);
            Path modelDir = out.resolve("model");
            OutputDir.replace(modelDir, OutputKind.TRAIN_MODEL.key, of,
                    dir -> new LanguageModel(config, w, tokPath, saveDtype).save(dir, saveDtype));
            OutputDir.complete(out, OutputKind.TRAIN.key, of);
            System.out.printf("trained %d steps, %,d tokens in %.0f s this session; final loss %.4f, validation loss %.4f (ppl %.2f)%n",
                    last.step(), last.tokens(), (System.nanoTime() - t0) / 1e9, last.loss(), last.valLoss(),
                    Math.exp(last.valLoss()));
            System.out.println("model written to " + modelDir + " (" + saveDtype + ")");
        }
    }
}
