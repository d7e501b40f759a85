package ai.minitron.distill;

import ai.djl.ndarray.NDManager;
import ai.minitron.config.ModelConfig;
import ai.minitron.io.FileTrees;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import ai.minitron.train.BatchSource;
import ai.minitron.train.TrainConfig;
import ai.minitron.train.TrainLoop;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Teacher correction (Minitron in practice, arXiv 2408.11796 §2): when the distillation data differs
 * from the teacher's original training data, fine-tune a copy of the teacher on the distillation data
 * first (plain next-token loss), then distil from the corrected teacher. It runs on the shared
 * {@link TrainLoop} in {@code OUT/teacher-correction/} (checkpointed, so an interrupted correction
 * resumes) and writes the result as a Hugging Face checkpoint to {@code OUT/teacher-corrected/},
 * which later runs (or a resumed distillation) load instead of training again.
 */
public final class TeacherCorrection {
    /** Directory of the corrected teacher inside a run's output directory. */
    public static final String CORRECTED = "teacher-corrected";
    /** Directory of the correction's own training checkpoints. */
    public static final String WORK = "teacher-correction";

    private TeacherCorrection() {}

    /** The corrected teacher and the tokens the correction trained on. */
    public record Result(Weights weights, long tokens, Path dir) {}

    /**
     * Corrects (a copy of) the teacher on {@code tokens} tokens of {@code train}, or loads the result
     * of an earlier run from {@code out/teacher-corrected}. The input weights are not modified.
     *
     * @param tc the distillation's training configuration; its step count is replaced by tokens /
     *     tokens-per-step (the correction reads the same batches as the distillation's first steps)
     * @param tokenizerJson copied beside the corrected checkpoint (may be null)
     */
    public static Result run(ModelConfig config, Weights teacher, Path tokenizerJson, long tokens, TrainConfig tc,
            BatchSource train, BatchSource val, Path out, NDManager manager, TrainLoop.Listener progress) {
        int steps = (int) Math.max(1, tokens / tc.tokensPerStep());
        long trained = steps * tc.tokensPerStep();
        Path done = out.resolve(CORRECTED);
        if (Files.isRegularFile(done.resolve("config.json"))) {
            LanguageModel lm = LanguageModel.load(done, manager);
            if (!lm.config().withTorchDtype(config.torchDtype()).equals(config)) {
                throw new IllegalArgumentException(done + ": the corrected teacher there is of another model than --teacher;"
                        + " use a new --out directory");
            }
            return new Result(lm.weights(), trained, done);
        }
        Weights copy = Weights.empty(manager);
        for (var e : teacher.asMap().entrySet()) {
            copy.put(e.getKey(), e.getValue().duplicate());
        }
        TrainConfig ctc = tc.toBuilder().steps(steps).warmupSteps(Math.min(tc.warmupSteps(), steps)).build();
        new TrainLoop(config, copy, ctc, train, val, TrainLoop.languageModelling(config), out.resolve(WORK), progress).run();
        Path tmp = out.resolve(CORRECTED + ".tmp");
        try {
            FileTrees.delete(tmp);
            new LanguageModel(config, copy, tokenizerJson, TensorDType.F32).save(tmp, TensorDType.F32);
            Files.move(tmp, done, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the corrected teacher to " + done + ": " + e.getMessage(), e);
        }
        return new Result(copy, trained, done);
    }
}
