package ai.minitron.cli;

import ai.djl.ndarray.NDManager;
import ai.minitron.data.Corpus;
import ai.minitron.data.TokenDataset;
import ai.minitron.distill.Distiller;
import ai.minitron.distill.KdLoss;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.tokenize.Tokenizer;
import ai.minitron.train.DatasetBatches;
import ai.minitron.train.TrainConfig;
import ai.minitron.train.TrainLoop;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code minitron distill}: retrain a (pruned) student from its teacher's logits. */
@Command(name = "distill", description = "Distil a student from a teacher on a corpus split (resumes automatically).")
final class DistillCommand implements Callable<Integer> {
    @Option(names = "--teacher", required = true, description = "Teacher checkpoint directory.")
    Path teacherDir;

    @Option(names = "--student", required = true, description = "Student checkpoint directory (e.g. a pruned export).")
    Path studentDir;

    @Option(names = "--data", required = true, description = "Training split file.")
    Path data;

    @Option(names = "--val", description = "Validation split file (default: validation.txt beside --data).")
    Path val;

    @Option(names = "--tokens", required = true, description = "Student training tokens (steps = tokens / (batch x seq-len)).")
    long tokens;

    @Option(names = "--out", required = true, description = "Output directory: checkpoint/, metrics, model/.")
    Path out;

    @Option(names = "--loss", defaultValue = "FORWARD_KL", description = "FORWARD_KL, REVERSE_KL, JSD, TV, TOP_K_KL (default ${DEFAULT-VALUE}).")
    KdLoss.Kind loss;

    @Option(names = "--temperature", defaultValue = "1.0", description = "Distillation temperature (default ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--beta", defaultValue = "0.5", description = "JSD mixing weight.")
    double beta;

    @Option(names = "--top-k", defaultValue = "32", description = "k for TOP_K_KL.")
    int topK;

    @Option(names = "--kd-weight", defaultValue = "1.0", description = "Weight of the logit loss (default ${DEFAULT-VALUE}).")
    double kdWeight;

    @Option(names = "--ce-weight", defaultValue = "0.0", description = "Weight of the data cross-entropy (default ${DEFAULT-VALUE}).")
    double ceWeight;

    @Option(names = "--align-vocab", description = "Allow different vocabulary sizes when one is a prefix of the other.")
    boolean alignVocab;

    @Option(names = "--batch-size", defaultValue = "8") int batchSize;
    @Option(names = "--seq-len", defaultValue = "128") int seqLen;
    @Option(names = "--lr", defaultValue = "1e-3") double lr;
    @Option(names = "--min-lr", defaultValue = "1e-4") double minLr;
    @Option(names = "--warmup", defaultValue = "10") int warmup;
    @Option(names = "--eval-every", defaultValue = "25") int evalEvery;
    @Option(names = "--eval-batches", defaultValue = "4") int evalBatches;
    @Option(names = "--checkpoint-every", defaultValue = "50") int checkpointEvery;
    @Option(names = "--seed", defaultValue = "0") long seed;

    @Option(names = "--save-dtype", defaultValue = "F32", description = "Storage dtype of the distilled model.")
    TensorDType saveDtype;

    @Override
    public Integer call() {
        int steps = (int) Math.max(1, tokens / ((long) batchSize * seqLen));
        TrainConfig tc = new TrainConfig(steps, batchSize, seqLen, 1, lr, minLr, Math.min(warmup, steps), 0.0, 0.9, 0.95,
                1e-8, 1.0, evalEvery, evalBatches, checkpointEvery, seed);
        Path valFile = val != null ? val : data.toAbsolutePath().getParent().resolve("validation.txt");
        try (NDManager m = NDManager.newBaseManager();
                LanguageModel teacher = LanguageModel.load(teacherDir, m);
                LanguageModel student = LanguageModel.load(studentDir, m)) {
            Path tokPath = student.tokenizerJson() != null ? student.tokenizerJson() : teacher.tokenizerJson();
            if (tokPath == null) {
                throw new IllegalArgumentException(studentDir + ": no tokenizer.json in the student or the teacher");
            }
            TokenDataset.checkSeqLen(seqLen, Math.min(teacher.config().maxPositionEmbeddings(),
                    student.config().maxPositionEmbeddings()));
            TokenDataset trainSet;
            TokenDataset valSet;
            try (Tokenizer tok = Tokenizer.load(tokPath)) {
                trainSet = TokenDataset.pack(Corpus.read(data).documents(), tok, seqLen);
                valSet = TokenDataset.pack(Corpus.read(valFile).documents(), tok, seqLen);
            }
            Distiller d = new Distiller(teacher.config(), teacher.weights(), student.config(),
                    new Distiller.Options(new KdLoss.Config(loss, temperature, beta, topK), kdWeight, ceWeight, alignVocab));
            System.err.printf("distilling %s -> %s: %d steps x %,d tokens, loss %s (tau %.2f), CE weight %.2f%n",
                    teacherDir, studentDir, steps, tc.tokensPerStep(), loss, temperature, ceWeight);
            List<Distiller.Validation> log;
            try (ProgressBar pb = new ProgressBarBuilder().setTaskName("distill").setInitialMax(steps)
                    .setStyle(ProgressBarStyle.ASCII).continuousUpdate().build()) {
                log = d.run(student.weights(), tc, new DatasetBatches(trainSet, seed, true),
                        new DatasetBatches(valSet, 0, false), out, new TrainLoop.Listener() {
                            @Override
                            public void onStep(TrainLoop.StepMetrics s) {
                                pb.stepTo(s.step());
                                pb.setExtraMessage(String.format(" loss %.4f", s.loss()));
                            }

                            @Override
                            public void onResume(long step) {
                                pb.stepTo(step);
                            }
                        });
            }
            Path modelDir = out.resolve("model");
            new LanguageModel(student.config(), student.weights(), tokPath, saveDtype).save(modelDir, saveDtype);
            System.out.printf("%-6s %14s %14s %10s %10s %14s%n", "step", "student_tokens", "teacher_tokens", "val_loss",
                    "val_ppl", "KL(teacher|s)");
            for (Distiller.Validation v : log) {
                System.out.printf("%-6d %,14d %,14d %10.4f %10.2f %14.5f%n", v.step(), v.studentTokens(), v.teacherTokens(),
                        v.valLoss(), v.valPerplexity(), v.klToTeacher());
            }
            Cards.distilled(modelDir, studentDir, teacherDir, String.format(java.util.Locale.ROOT,
                    "%s (tau %.2f) x %.2f + CE x %.2f", loss, temperature, kdWeight, ceWeight), log, out.resolve("distill_metrics.arrow"));
            System.out.println("distilled model written to " + modelDir);
        }
        return 0;
    }
}
