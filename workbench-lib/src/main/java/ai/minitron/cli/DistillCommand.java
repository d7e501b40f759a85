package ai.minitron.cli;

import ai.djl.ndarray.NDManager;
import ai.minitron.data.Corpus;
import ai.minitron.data.TokenDataset;
import ai.minitron.distill.Distiller;
import ai.minitron.distill.IntermediateLoss;
import ai.minitron.distill.KdLoss;
import ai.minitron.distill.TeacherCache;
import ai.minitron.distill.TeacherCorrection;
import ai.minitron.model.Provenance;
import ai.minitron.model.Weights;
import ai.minitron.io.OutputDir;
import ai.minitron.io.OutputLock;
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
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code minitron distill}: retrain a (pruned) student from its teacher's logits, optionally with an
 * intermediate-state loss, a corrected teacher, or a precomputed teacher cache.
 */
@Command(name = "distill", description = "Distil a student from a teacher on a corpus split (resumes automatically).")
final class DistillCommand implements Callable<Integer> {
    @Option(names = "--teacher", required = true, description = "Teacher checkpoint directory.")
    Path teacherDir;

    @Option(names = "--student", required = true, description = "Student checkpoint directory (e.g. a pruned export).")
    Path studentDir;

    @Mixin
    SplitOptions split;

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

    @Option(names = "--is-loss", description = "Intermediate-state loss on mapped post-norm hidden states: cosine or mse"
            + " (default: off).")
    String isLoss;

    @Option(names = "--is-weight", defaultValue = "dynamic", description = "α of the intermediate-state loss: a number, or"
            + " 'dynamic' for α = L_logits / L_is (default ${DEFAULT-VALUE}).")
    String isWeight;

    @Option(names = "--layer-map", description = "TEACHER:STUDENT layer pairs for the intermediate-state loss, e.g. 7:7,6:5"
            + " (default: the student's last 4 layers, depth-proportional).")
    String layerMap;

    @Option(names = "--embedding-loss", description = "Also match the embedding outputs (with --is-loss).")
    boolean embeddingLoss;

    @Option(names = "--teacher-correction-tokens", defaultValue = "0", description = "First fine-tune the teacher on this"
            + " many tokens of --data (saved to OUT/teacher-corrected/, resumable), then distil from it.")
    long teacherCorrectionTokens;

    @Option(names = "--teacher-cache", description = "Distil from a teacher cache (minitron teacher-cache) instead of running"
            + " the teacher; the teacher is still used to validate.")
    Path teacherCache;

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

    @Mixin
    OutputOptions output;

    /** The intermediate-state loss the options ask for, or null. */
    IntermediateLoss.Config intermediate(int teacherLayers, int studentLayers) {
        if (isLoss == null) {
            if (layerMap != null || embeddingLoss) {
                throw new IllegalArgumentException("--layer-map and --embedding-loss need --is-loss cosine|mse");
            }
            return null;
        }
        boolean dynamic = isWeight.trim().equalsIgnoreCase("dynamic");
        double weight = 0;
        if (!dynamic) {
            try {
                weight = Double.parseDouble(isWeight.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--is-weight: '" + isWeight + "' is neither a number nor 'dynamic'");
            }
        }
        var map = layerMap != null ? IntermediateLoss.parseMap(layerMap)
                : IntermediateLoss.defaultMap(teacherLayers, studentLayers);
        return new IntermediateLoss.Config(IntermediateLoss.parseKind(isLoss), map, embeddingLoss, weight, dynamic);
    }

    @Override
    public Integer call() {
        if (tokens <= 0) {
            throw new IllegalArgumentException("--tokens must be a positive number of student training tokens, got " + tokens);
        }
        int steps = (int) Math.max(1, tokens / ((long) batchSize * seqLen));
        TrainConfig tc = TrainConfig.builder().steps(steps).batchSize(batchSize).seqLen(seqLen).lr(lr).minLr(minLr)
                .warmupSteps(Math.min(warmup, steps)).evalEvery(evalEvery).evalBatches(evalBatches)
                .checkpointEvery(checkpointEvery).seed(seed).build();
        Path dataFile = split.data();
        Path valFile = split.validation();
        if (teacherCache != null && teacherCorrectionTokens > 0) {
            throw new IllegalArgumentException("--teacher-cache and --teacher-correction-tokens together: build the cache"
                    + " from the corrected teacher instead (minitron teacher-cache --teacher OUT/"
                    + TeacherCorrection.CORRECTED + ")");
        }
        try (OutputLock lock = OutputOptions.lock(out); NDManager m = NDManager.newBaseManager();
                LanguageModel teacher = LanguageModel.load(teacherDir, m);
                LanguageModel student = LanguageModel.load(studentDir, m)) {
            String of = "teacher " + Provenance.checkpointHash(teacherDir) + ", student " + Provenance.checkpointHash(studentDir);
            output.open(out, OutputKind.DISTILL, of);
            Path tokPath = student.tokenizerJson() != null ? student.tokenizerJson() : teacher.tokenizerJson();
            TokenDataset.checkSeqLen(seqLen, Math.min(teacher.config().maxPositionEmbeddings(),
                    student.config().maxPositionEmbeddings()));
            TokenDataset trainSet;
            TokenDataset valSet;
            try (Tokenizer tok = student.openTokenizer(tokPath)) {
                if (!alignVocab) {
                    teacher.checkVocab(tok);
                } else {
                    checkSameTokens(teacher.tokenizerJson(), student.tokenizerJson());
                }
                trainSet = TokenDataset.pack(Corpus.read(dataFile).documents(), tok, seqLen);
                valSet = TokenDataset.pack(Corpus.read(valFile).documents(), tok, seqLen);
            }
            KdLoss.Config lossConfig = new KdLoss.Config(loss, temperature, beta, topK);
            Distiller.Options options = new Distiller.Options(lossConfig, kdWeight, ceWeight, alignVocab,
                    intermediate(teacher.config().numHiddenLayers(), student.config().numHiddenLayers()));
            DatasetBatches trainBatches = new DatasetBatches(trainSet, seed, true);
            DatasetBatches valBatches = new DatasetBatches(valSet, 0, false);
            Weights teacherWeights = teacher.weights();
            long corrected = 0;
            if (teacherCorrectionTokens > 0) {
                int correctionSteps = (int) Math.max(1, teacherCorrectionTokens / tc.tokensPerStep());
                System.err.printf("teacher correction: %d steps x %,d tokens on %s -> %s%n", correctionSteps,
                        tc.tokensPerStep(), dataFile, out.resolve(TeacherCorrection.CORRECTED));
                TeacherCorrection.Result r;
                try (ProgressBar pb = ProgressBars.open("correct teacher", correctionSteps)) {
                    r = TeacherCorrection.run(teacher.config(), teacherWeights, teacher.tokenizerJson(),
                            teacherCorrectionTokens, tc, trainBatches, valBatches, out, m, listener(pb));
                }
                teacherWeights = r.weights();
                corrected = r.tokens();
            }
            Distiller d = new Distiller(teacher.config(), teacherWeights, student.config(), options).correctedOn(corrected);
            if (teacherCache != null) {
                TeacherCache cache = TeacherCache.open(teacherCache);
                String hash = Provenance.checkpointHash(teacherDir);
                if (!hash.equals(cache.manifest().teacher_hash())) {
                    throw new IllegalArgumentException(teacherCache + ": the cache was made from another teacher (hash "
                            + cache.manifest().teacher_hash() + ") than " + teacherDir + " (hash " + hash + ")");
                }
                int covered = cache.manifest().seq_len() == seqLen ? cache.covered(trainSet) : trainSet.size();
                if (covered < trainSet.size()) { // (another seq-len is refused by the distiller, naming both)
                    throw new IllegalArgumentException("--teacher-cache " + teacherCache + " covers only " + covered + " of the "
                            + trainSet.size() + " samples of --data " + dataFile + " (it holds "
                            + cache.manifest().samples() + " samples of " + cache.manifest().dataset() + "): "
                            + (covered == 0 ? "it was built from other data; build it from this split"
                                    : "rebuild it over the whole split (minitron teacher-cache --tokens "
                                            + (long) trainSet.size() * seqLen + " or more)"));
                }
                d.withCache(cache);
            }
            System.err.printf("distilling %s -> %s: %d steps x %,d tokens, loss %s (tau %.2f), CE weight %.2f%s%s%n",
                    teacherDir, studentDir, steps, tc.tokensPerStep(), loss, temperature, ceWeight,
                    options.intermediate() == null ? "" : ", IS " + options.intermediate().kind() + " on "
                            + options.intermediate().map() + (options.intermediate().embedding() ? " + embedding" : "")
                            + ", alpha " + (options.intermediate().dynamic() ? "dynamic" : options.intermediate().weight()),
                    teacherCache == null ? "" : ", teacher from cache " + teacherCache);
            List<Distiller.Validation> log;
            try (ProgressBar pb = ProgressBars.open("distill", steps)) {
                log = d.run(student.weights(), tc, trainBatches, valBatches, out, listener(pb));
            }
            Path modelDir = out.resolve("model");
            List<Distiller.Validation> validations = log;
            String losses = losses(options.intermediate(), corrected);
            OutputDir.replace(modelDir, OutputKind.DISTILL_MODEL.key, of, dir -> {
                new LanguageModel(student.config(), student.weights(), tokPath, saveDtype).save(dir, saveDtype);
                Cards.distilled(dir, studentDir, teacherDir, losses, validations,
                        out.resolve("distill_metrics.arrow"));
            });
            OutputDir.complete(out, OutputKind.DISTILL.key, of);
            System.out.printf("%-6s %14s %14s %14s %10s %10s %14s%n", "step", "student_tokens", "teacher_tokens",
                    "teacher_total", "val_loss", "val_ppl", "KL(teacher|s)");
            for (Distiller.Validation v : log) {
                System.out.printf("%-6d %,14d %,14d %,14d %10.4f %10.2f %14.5f%n", v.step(), v.studentTokens(),
                        v.teacherTokens(), v.teacherTokensTotal(), v.valLoss(), v.valPerplexity(), v.klToTeacher());
            }
            System.out.println("distilled model written to " + modelDir);
        }
        return 0;
    }

    /**
     * With --align-vocab: the two checkpoints' tokenizers must agree on their shared ids (the same
     * string for each), not only one be the larger; refuses when fewer than 90% of the shared ids agree.
     */
    private static void checkSameTokens(Path teacherTok, Path studentTok) {
        if (teacherTok == null || studentTok == null) {
            return; // one tokenizer encodes both sides
        }
        try (Tokenizer t = Tokenizer.load(teacherTok); Tokenizer s = Tokenizer.load(studentTok)) {
            Tokenizer.Agreement a = Tokenizer.agreement(t, s);
            if (a.agreeing() < 0.9 * a.shared()) {
                throw new IllegalArgumentException("--align-vocab: the tokenizers " + teacherTok + " and " + studentTok
                        + " disagree: only " + a.agreeing() + " of the " + a.shared() + " shared ids map to the same"
                        + " string (aligning logits needs the same tokenizer, one vocabulary a prefix of the other)");
            }
        }
    }

    /** The losses line of the model card. */
    private String losses(IntermediateLoss.Config is, long corrected) {
        return String.format(java.util.Locale.ROOT, "%s (tau %.2f) x %.2f + CE x %.2f", loss, temperature,
                kdWeight, ceWeight)
                + (is == null ? "" : " + intermediate-state " + is.kind() + " on teacher:student " + is.map()
                        + (is.embedding() ? " + embedding" : "") + " x " + (is.dynamic() ? "dynamic alpha" : is.weight()))
                + (corrected > 0 ? String.format(java.util.Locale.ROOT, "; teacher corrected on %,d tokens", corrected) : "")
                + (teacherCache != null ? "; teacher from cache " + teacherCache : "");
    }

    private static TrainLoop.Listener listener(ProgressBar pb) {
        return new TrainLoop.Listener() {
            @Override
            public void onStep(TrainLoop.StepMetrics s) {
                pb.stepTo(s.step());
                pb.setExtraMessage(String.format(" loss %.4f", s.loss()));
            }

            @Override
            public void onResume(long step) {
                pb.stepTo(step);
            }
        };
    }
}
