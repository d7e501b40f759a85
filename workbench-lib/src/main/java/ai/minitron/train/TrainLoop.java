package ai.minitron.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import ai.minitron.config.ModelConfig;
import ai.minitron.data.CalibrationSet;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.LmLoss;
import ai.minitron.model.Scalars;
import ai.minitron.model.Weights;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The training loop shared by pretraining and distillation: micro-batches with gradient
 * accumulation, global-norm clipping, AdamW on a warmup + cosine schedule, periodic validation,
 * atomic checkpoints every N steps and exact resume from the latest one (docs/architecture.md, "Checkpoints and atomic writes").
 *
 * <p>The loss is pluggable ({@link StepLoss}): next-token cross-entropy for pretraining, a KD loss
 * for distillation. Determinism: batches come by index from a {@link BatchSource}, so the data
 * position is the step number and a resumed run sees exactly the batches it would have seen.
 */
public final class TrainLoop {
    /** The scalar loss of one micro-batch; inputs/targets are [B, T] int64. */
    @FunctionalInterface
    public interface StepLoss {
        NDArray loss(Weights w, NDArray inputs, NDArray targets);
    }

    /**
     * Validates the model at a validation step (every {@code evalEvery} steps and after the last), outside
     * any gradient recording; returns the validation loss recorded in that step's metrics.
     */
    @FunctionalInterface
    public interface Validator {
        double validate(long step, long tokens);
    }

    /** Progress callbacks (a progress bar in the CLI, live output in notebooks). */
    public interface Listener {
        void onStep(StepMetrics m);

        default void onResume(long step) {}

        default void onCheckpoint(long step, Path dir) {}
    }

    /** One row of the metrics table; {@code valLoss} is NaN on steps without validation. */
    public record StepMetrics(long step, long tokens, double lr, double loss, double valLoss, double gradNorm,
            double tokensPerS) {}

    private final ModelConfig config;
    private final Weights weights;
    private final TrainConfig tc;
    private final BatchSource train;
    private final Validator validator;
    private final StepLoss lossFn;
    private final TrainCheckpoint checkpoints;
    private final Listener listener;
    private final Weights auxiliary;

    public TrainLoop(ModelConfig config, Weights weights, TrainConfig tc, BatchSource train, BatchSource val,
            StepLoss lossFn, Path outDir, Listener listener) {
        this(config, weights, null, tc, train, lmValidation(config, weights, val, tc), lossFn, outDir, listener);
    }

    /**
     * The pretraining validation: {@link ValidationLoss#batchMean} over the first {@code tc.evalBatches()}
     * batches of {@code val}; null (no validation) when {@code val} is null.
     */
    public static Validator lmValidation(ModelConfig c, Weights w, BatchSource val, TrainConfig tc) {
        return val == null ? null : (step, tokens) -> ValidationLoss.batchMean(c, w, val, tc.evalBatches(), tc.batchSize());
    }

    /**
     * @param auxiliary tensors trained together with the model by the same AdamW and clipping, saved in
     *     the checkpoint (auxiliary.safetensors) and restored on resume, but not part of the model
     *     (e.g. distillation's learned projection); null for none. Their names must differ from the model's.
     * @param validator the validation at validation steps, or null for none
     */
    public TrainLoop(ModelConfig config, Weights weights, Weights auxiliary, TrainConfig tc, BatchSource train,
            Validator validator, StepLoss lossFn, Path outDir, Listener listener) {
        if (train.seqLen() != tc.seqLen()) {
            throw new IllegalArgumentException("data rows hold " + train.seqLen() + " tokens but seq-len is " + tc.seqLen());
        }
        if (tc.seqLen() > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("seq-len " + tc.seqLen() + " exceeds the model's context (max_position_embeddings = "
                    + config.maxPositionEmbeddings() + ")");
        }
        this.config = config;
        this.weights = weights;
        this.tc = tc;
        this.train = train;
        this.validator = validator;
        this.lossFn = lossFn;
        this.checkpoints = new TrainCheckpoint(outDir);
        this.listener = listener == null ? m -> {} : listener;
        this.auxiliary = auxiliary;
        if (auxiliary != null) {
            for (String n : auxiliary.names()) {
                if (weights.has(n)) {
                    throw new IllegalArgumentException("auxiliary tensor '" + n + "' has the name of a model weight");
                }
            }
        }
    }

    /** Next-token cross-entropy of the model on the batch: the pretraining loss. */
    public static StepLoss languageModelling(ModelConfig c) {
        return (w, inputs, targets) -> LmLoss.mean(DecoderLM.forward(c, w, inputs), targets, null);
    }

    /** Runs to {@code tc.steps()}, resuming from the checkpoint in the output directory if there is one. */
    public List<StepMetrics> run() {
        AdamW opt = new AdamW(tc.hyper());
        LrSchedule schedule = tc.schedule();
        List<StepMetrics> history = new ArrayList<>();
        long start = 0;
        TrainCheckpoint.State resumed = checkpoints.loadLatest(config, weights, auxiliary, opt, tc);
        if (resumed != null) {
            start = resumed.step();
            history.addAll(resumed.metrics());
            listener.onResume(start);
        }
        long tokens = start * tc.tokensPerStep();
        NDManager m = weights.manager();
        List<Weights> params = auxiliary == null ? List.of(weights) : List.of(weights, auxiliary);
        for (Weights p : params) {
            p.setRequiresGradient(true);
        }
        GradClip.zero(params);
        try {
            for (long step = start; step < tc.steps(); step++) {
                long t0 = System.nanoTime();
                double lr = schedule.at(step);
                double loss = 0;
                for (int a = 0; a < tc.gradAccum(); a++) {
                    long[][] rows = train.batch(step * tc.gradAccum() + a, tc.batchSize());
                    loss += microStep(m, rows) / tc.gradAccum();
                }
                double gradNorm = GradClip.clip(params, tc.clipNorm());
                opt.step(params, lr);
                GradClip.zero(params);
                tokens += tc.tokensPerStep();
                double secs = (System.nanoTime() - t0) / 1e9;
                long done = step + 1;
                boolean last = done == tc.steps();
                double valLoss = Double.NaN;
                if (validator != null && ((tc.evalEvery() > 0 && done % tc.evalEvery() == 0) || last)) {
                    valLoss = validator.validate(done, tokens);
                }
                StepMetrics sm = new StepMetrics(done, tokens, lr, loss, valLoss, gradNorm, tc.tokensPerStep() / secs);
                history.add(sm);
                listener.onStep(sm);
                if ((tc.checkpointEvery() > 0 && done % tc.checkpointEvery() == 0) || last) {
                    Path dir = checkpoints.save(config, weights, auxiliary, opt, tc, done, history);
                    listener.onCheckpoint(done, dir);
                }
            }
        } finally {
            for (Weights p : params) {
                p.setRequiresGradient(false);
            }
        }
        return history;
    }

    private double microStep(NDManager m, long[][] rows) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray[] io = split(m, rows);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = lossFn.loss(weights, io[0], io[1]);
                double value = loss.toType(DataType.FLOAT64, false).getDouble();
                gc.backward(Scalars.div(loss, tc.gradAccum()));
                return value;
            }
        }
    }

    /** Rows [B][T+1] -> inputs [B, T] and targets [B, T]. */
    static NDArray[] split(NDManager m, long[][] rows) {
        CalibrationSet.Batch b = ValidationLoss.unpadded(rows);
        return new NDArray[] {b.inputs(m), b.targets(m)};
    }
}
