package ai.minitron.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.LmLoss;
import ai.minitron.model.Weights;
import ai.minitron.stats.ArrowIo;
import ai.minitron.train.BatchSource;
import ai.minitron.train.TrainConfig;
import ai.minitron.train.TrainLoop;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.Table;

/**
 * Knowledge distillation of a (pruned) student from its unpruned teacher — step (4) of Minitron
 * (arXiv 2407.14679 §3; 2408.11796 §2): the teacher runs forward without gradients, the student
 * runs forward and backward on the same batch, and the student minimises a {@link KdLoss}
 * (forward KL at temperature τ by default) plus, optionally, a weighted cross-entropy to the data.
 *
 * <p>Training mechanics (AdamW, schedule, clipping, accumulation, atomic checkpoints, exact resume,
 * progress) are the shared {@link TrainLoop}'s. Besides its metrics, a distillation run writes
 * {@code distill_metrics.arrow}: at every validation step the student's validation loss,
 * perplexity, the true KL(teacher ‖ student) at τ = 1, and the exact token counts of both models
 * (teacher tokens = the tokens it read, so runs can be compared at equal compute).
 */
public final class Distiller {
    /**
     * @param loss the logit divergence
     * @param kdWeight weight of the divergence (0 = plain training on the data)
     * @param ceWeight weight of the data cross-entropy (0 = pure distillation, Minitron's best)
     * @param alignVocab when the vocabularies differ in size, compare logits over the shared prefix
     *     (only valid when one vocabulary is a prefix of the other)
     */
    public record Options(KdLoss.Config loss, double kdWeight, double ceWeight, boolean alignVocab) {
        public static Options forwardKl() {
            return new Options(KdLoss.Config.forwardKl(1.0), 1.0, 0.0, false);
        }
    }

    /** Validation of a student against its teacher. */
    public record Validation(long step, long studentTokens, long teacherTokens, double valLoss, double valPerplexity,
            double klToTeacher) {}

    private final ModelConfig teacherConfig;
    private final Weights teacher;
    private final ModelConfig studentConfig;
    private final Options options;
    private final int vocab;

    public Distiller(ModelConfig teacherConfig, Weights teacher, ModelConfig studentConfig, Options options) {
        int vt = teacherConfig.vocabSize();
        int vs = studentConfig.vocabSize();
        if (vt != vs && !options.alignVocab()) {
            throw new IllegalArgumentException("teacher vocab_size " + vt + " differs from student vocab_size " + vs
                    + ": distillation needs the same tokenizer (use --align-vocab only if one vocabulary is a prefix"
                    + " of the other, e.g. padded embeddings)");
        }
        this.teacherConfig = teacherConfig;
        this.teacher = teacher;
        this.studentConfig = studentConfig;
        this.options = options;
        this.vocab = Math.min(vt, vs);
    }

    /** The per-micro-batch loss the {@link TrainLoop} minimises. */
    public TrainLoop.StepLoss stepLoss() {
        return (w, inputs, targets) -> {
            NDArray s = align(DecoderLM.forward(studentConfig, w, inputs));
            NDArray loss = null;
            if (options.kdWeight() > 0) {
                NDArray t = align(DecoderLM.forward(teacherConfig, teacher, inputs).stopGradient());
                loss = KdLoss.mean(KdLoss.perToken(options.loss(), t, s), null).mul(options.kdWeight());
            }
            if (options.ceWeight() > 0) {
                NDArray ce = LmLoss.mean(s, targets, null).mul(options.ceWeight());
                loss = loss == null ? ce : loss.add(ce);
            }
            if (loss == null) {
                throw new IllegalArgumentException("both the KD weight and the CE weight are 0: nothing to train");
            }
            return loss;
        };
    }

    private NDArray align(NDArray logits) {
        return logits.getShape().get(2) == vocab ? logits : logits.get(":, :, :{}", vocab);
    }

    /** Student validation loss and KL(teacher ‖ student) at τ = 1 over the first {@code batches} batches. */
    public Validation validate(Weights student, BatchSource val, int batches, int batchSize, long step, long tokens) {
        double loss = 0;
        double kl = 0;
        int n = Math.max(1, batches);
        KdLoss.Config trueKl = KdLoss.Config.forwardKl(1.0);
        for (int i = 0; i < n; i++) {
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                long[][] rows = val.batch(i, batchSize);
                long[][] in = new long[rows.length][];
                long[][] tg = new long[rows.length][];
                for (int r = 0; r < rows.length; r++) {
                    in[r] = java.util.Arrays.copyOf(rows[r], rows[r].length - 1);
                    tg[r] = java.util.Arrays.copyOfRange(rows[r], 1, rows[r].length);
                }
                NDArray ids = student.manager().create(in);
                NDArray s = DecoderLM.forward(studentConfig, student, ids);
                NDArray t = DecoderLM.forward(teacherConfig, teacher, ids);
                loss += LmLoss.mean(s, student.manager().create(tg), null).toType(DataType.FLOAT64, false).getDouble();
                kl += KdLoss.mean(KdLoss.perToken(trueKl, align(t), align(s)), null).toType(DataType.FLOAT64, false)
                        .getDouble();
            }
        }
        return new Validation(step, tokens, options.kdWeight() > 0 ? tokens : 0, loss / n, Math.exp(loss / n), kl / n);
    }

    /**
     * Distils {@code student} in place with the shared training loop, validating every
     * {@code tc.evalEvery()} steps; writes OUT/checkpoint, OUT/metrics.arrow and OUT/distill_metrics.arrow.
     */
    public List<Validation> run(Weights student, TrainConfig tc, BatchSource train, BatchSource val, Path out,
            TrainLoop.Listener progress) {
        List<Validation> log = new ArrayList<>();
        TrainLoop loop = new TrainLoop(studentConfig, student, tc, train, val, stepLoss(), out, new TrainLoop.Listener() {
            @Override
            public void onStep(TrainLoop.StepMetrics m) {
                if (!Double.isNaN(m.valLoss())) {
                    // Outside any GradientCollector: no graph is recorded.
                    log.add(validate(student, val, tc.evalBatches(), tc.batchSize(), m.step(), m.tokens()));
                    ArrowIo.write(table(log), out.resolve("distill_metrics.arrow"));
                }
                if (progress != null) {
                    progress.onStep(m);
                }
            }

            @Override
            public void onResume(long step) {
                if (progress != null) {
                    progress.onResume(step);
                }
            }
        });
        loop.run();
        return log;
    }

    /** The validation log as a table: step, student_tokens, teacher_tokens, val_loss, val_ppl, kl_to_teacher. */
    public static Table table(List<Validation> log) {
        LongColumn step = LongColumn.create("step");
        LongColumn st = LongColumn.create("student_tokens");
        LongColumn tt = LongColumn.create("teacher_tokens");
        DoubleColumn vl = DoubleColumn.create("val_loss");
        DoubleColumn vp = DoubleColumn.create("val_ppl");
        DoubleColumn kl = DoubleColumn.create("kl_to_teacher");
        for (Validation v : log) {
            step.append(v.step());
            st.append(v.studentTokens());
            tt.append(v.teacherTokens());
            vl.append(v.valLoss());
            vp.append(v.valPerplexity());
            kl.append(v.klToTeacher());
        }
        return Table.create("distill_metrics", step, st, tt, vl, vp, kl);
    }
}
