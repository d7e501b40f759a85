package ai.minitron.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.ModelConfig;
import ai.minitron.model.DecoderLM;
import ai.minitron.model.LmLoss;
import ai.minitron.model.Scalars;
import ai.minitron.model.Weights;
import ai.minitron.stats.ArrowIo;
import ai.minitron.train.BatchSource;
import ai.minitron.train.TrainConfig;
import ai.minitron.train.TrainLoop;
import ai.minitron.train.ValidationLoss;
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
 * (forward KL at temperature τ by default) plus, optionally, a weighted cross-entropy to the data
 * and an {@link IntermediateLoss} on mapped hidden states through a learned projection:
 *
 * <pre>
 *   loss = kd · L_logits + ce · CE + α · L_is          (α fixed, or L_logits / L_is detached)
 * </pre>
 *
 * <p>The teacher is live (a forward pass per step), read from a {@link TeacherCache} (top-k logits
 * computed once), and may first be corrected on the distillation data ({@link TeacherCorrection}).
 *
 * <p>Training mechanics (AdamW, schedule, clipping, accumulation, atomic checkpoints, exact resume,
 * progress) are the shared {@link TrainLoop}'s. Besides its metrics, a distillation run writes
 * {@code distill_metrics.arrow}: at every validation step the student's validation loss,
 * perplexity, the true KL(teacher ‖ student) at τ = 1, and exact token counts for iso-compute
 * comparisons: the student's training tokens, the teacher's forward tokens during training (0 with a
 * cache), the teacher-correction tokens and the tokens of the pass that built the cache. The learned
 * projection is trained by the same AdamW, saved in the checkpoint (auxiliary.safetensors) so resume
 * is exact, and never exported with the student.
 */
public final class Distiller {
    /**
     * @param loss the logit divergence
     * @param kdWeight weight of the divergence (0 = plain training on the data)
     * @param ceWeight weight of the data cross-entropy (0 = pure distillation, Minitron's best)
     * @param alignVocab when the vocabularies differ in size, compare logits over the shared prefix
     *     (only valid when one vocabulary is a prefix of the other)
     * @param intermediate the intermediate-state loss, or null for none
     */
    public record Options(KdLoss.Config loss, double kdWeight, double ceWeight, boolean alignVocab,
            IntermediateLoss.Config intermediate) implements java.io.Serializable {
        public Options(KdLoss.Config loss, double kdWeight, double ceWeight, boolean alignVocab) {
            this(loss, kdWeight, ceWeight, alignVocab, null);
        }

        public static Options forwardKl() {
            return new Options(KdLoss.Config.forwardKl(1.0), 1.0, 0.0, false);
        }

        public Options withIntermediate(IntermediateLoss.Config is) {
            return new Options(loss, kdWeight, ceWeight, alignVocab, is);
        }
    }

    /**
     * Validation of a student against its teacher, with the run's token accounting.
     *
     * @param teacherTokens tokens the teacher read in forward passes during training (0 with a cache)
     * @param teacherCorrectionTokens tokens the teacher was fine-tuned on before distillation
     * @param teacherCacheTokens tokens the teacher read to build the cache the run distils from
     */
    public record Validation(long step, long studentTokens, long teacherTokens, long teacherCorrectionTokens,
            long teacherCacheTokens, double valLoss, double valPerplexity, double klToTeacher) {
        /** Every teacher token: training forwards + correction + cache pass. */
        public long teacherTokensTotal() {
            return teacherTokens + teacherCorrectionTokens + teacherCacheTokens;
        }
    }

    /** The terms of one micro-batch's loss (null when a term is off); {@code total} is what is minimised. */
    public record Terms(NDArray logits, NDArray ce, NDArray intermediate, NDArray alpha, NDArray total) {}

    private final ModelConfig teacherConfig;
    private final Weights teacher;
    private final ModelConfig studentConfig;
    private final Options options;
    private final int vocab;
    private TeacherCache cache;
    private Weights projection;
    private long teacherCorrectionTokens;

    /** A distiller from a live teacher (also used to validate when a cache is attached). */
    public Distiller(ModelConfig teacherConfig, Weights teacher, ModelConfig studentConfig, Options options) {
        int vt = teacherConfig.vocabSize();
        int vs = studentConfig.vocabSize();
        if (vt != vs && !options.alignVocab()) {
            throw new IllegalArgumentException("teacher vocab_size " + vt + " differs from student vocab_size " + vs
                    + ": distillation needs the same tokenizer (use --align-vocab only if one vocabulary is a prefix"
                    + " of the other, e.g. padded embeddings)");
        }
        if (options.intermediate() != null) {
            options.intermediate().check(teacherConfig, studentConfig);
            if (options.intermediate().dynamic() && options.kdWeight() <= 0) {
                throw new IllegalArgumentException("a dynamic intermediate-state weight (α = L_logits / L_is) needs the"
                        + " logit loss: set a KD weight > 0 or a fixed --is-weight");
            }
        }
        this.teacherConfig = teacherConfig;
        this.teacher = teacher;
        this.studentConfig = studentConfig;
        this.options = options;
        this.vocab = Math.min(vt, vs);
    }

    /**
     * Distils from a {@link TeacherCache} instead of running the teacher during training. The loss
     * must be TOP_K_KL with k ≤ the cache's k, or FORWARD_KL with a cache of the whole vocabulary; the
     * temperature must be the cache's; the intermediate-state loss needs a live teacher.
     */
    public Distiller withCache(TeacherCache c) {
        TeacherCache.Manifest m = c.manifest();
        KdLoss.Config lc = options.loss();
        if (m.vocab_size() != studentConfig.vocabSize()) {
            throw new IllegalArgumentException(c.dir() + ": the teacher cache has vocab_size " + m.vocab_size()
                    + " but the student has " + studentConfig.vocabSize() + ": a cached teacher needs the same vocabulary");
        }
        if (Math.abs(m.temperature() - lc.temperature()) > 1e-12) {
            throw new IllegalArgumentException(c.dir() + ": the teacher cache was made at temperature " + m.temperature()
                    + " but the distillation temperature is " + lc.temperature());
        }
        boolean ok = (lc.kind() == KdLoss.Kind.TOP_K_KL && lc.topK() <= m.top_k())
                || (lc.kind() == KdLoss.Kind.FORWARD_KL && m.top_k() == m.vocab_size());
        if (!ok) {
            throw new IllegalArgumentException(c.dir() + ": a teacher cache of top-" + m.top_k() + " logits supports "
                    + "TOP_K_KL with --top-k <= " + m.top_k() + (m.top_k() == m.vocab_size() ? " or FORWARD_KL" : "")
                    + ", not " + lc.kind() + (lc.kind() == KdLoss.Kind.TOP_K_KL ? " with --top-k " + lc.topK() : ""));
        }
        if (options.intermediate() != null) {
            throw new IllegalArgumentException(c.dir() + ": the intermediate-state loss needs the teacher's hidden"
                    + " states, which a teacher cache does not hold; run the teacher live");
        }
        this.cache = c;
        return this;
    }

    /** Records that the teacher was corrected on {@code tokens} tokens before distillation (for accounting). */
    public Distiller correctedOn(long tokens) {
        this.teacherCorrectionTokens = tokens;
        return this;
    }

    public Options options() {
        return options;
    }

    /** Whether the teacher runs forward at every training step (a live teacher that some loss needs). */
    public boolean teacherRunsLive() {
        return cache == null && (options.kdWeight() > 0 || options.intermediate() != null);
    }

    /**
     * The learned projection of the intermediate-state loss (created on first use, identity-initialised,
     * next to the student's weights); null when the loss has no intermediate term.
     */
    public Weights projection(Weights student) {
        if (options.intermediate() != null && projection == null) {
            projection = IntermediateLoss.newProjection(student.manager(), studentConfig.hiddenSize(),
                    teacherConfig.hiddenSize(), student.dataType());
        }
        return projection;
    }

    /** The per-micro-batch loss the {@link TrainLoop} minimises (call {@link #projection} first when the IS loss is on). */
    public TrainLoop.StepLoss stepLoss() {
        if (options.intermediate() != null && projection == null) {
            throw new IllegalStateException("create the intermediate-state projection first: projection(student)");
        }
        return (w, inputs, targets) -> terms(w, projection, inputs, targets).total();
    }

    /** Every term of the loss on one micro-batch: inputs, targets [B, T] int64. */
    public Terms terms(Weights student, Weights proj, NDArray inputs, NDArray targets) {
        IntermediateLoss.Config is = options.intermediate();
        IntermediateLoss.Capture sCap = null;
        NDArray s;
        if (is != null) {
            sCap = IntermediateLoss.forward(studentConfig, student, inputs, IntermediateLoss.studentLayers(is),
                    is.embedding());
            s = align(sCap.logits());
        } else {
            s = align(DecoderLM.forward(studentConfig, student, inputs));
        }
        boolean needLogitLoss = options.kdWeight() > 0 || (is != null && is.dynamic());
        NDArray kd = null;
        NDArray isLoss = null;
        if (cache != null) {
            if (needLogitLoss) {
                kd = cachedLogitLoss(s, inputs);
            }
        } else if (needLogitLoss || is != null) {
            IntermediateLoss.Capture tCap = null;
            NDArray t;
            if (is != null) {
                tCap = IntermediateLoss.forward(teacherConfig, teacher, inputs, IntermediateLoss.teacherLayers(is),
                        is.embedding());
                t = tCap.logits();
            } else {
                t = DecoderLM.forward(teacherConfig, teacher, inputs);
            }
            if (needLogitLoss) {
                kd = options.loss().kind() == KdLoss.Kind.FORWARD_KL
                        ? KdLoss.forwardKlMean(align(t), s, options.loss().temperature(), KdLoss.DEFAULT_CHUNK_ROWS)
                        : KdLoss.mean(KdLoss.perToken(options.loss(), align(t.stopGradient()), s), null);
            }
            if (is != null) {
                isLoss = IntermediateLoss.loss(is, tCap, sCap, proj);
            }
        }
        NDArray total = null;
        if (options.kdWeight() > 0) {
            total = Scalars.mul(kd, options.kdWeight());
        }
        NDArray ce = null;
        if (options.ceWeight() > 0) {
            ce = LmLoss.mean(s, targets, null);
            NDArray weighted = Scalars.mul(ce, options.ceWeight());
            total = total == null ? weighted : total.add(weighted);
        }
        NDArray alpha = null;
        if (isLoss != null) {
            alpha = is.dynamic() ? IntermediateLoss.dynamicAlpha(kd, isLoss)
                    : Scalars.of(isLoss, is.weight());
            NDArray term = isLoss.mul(alpha);
            total = total == null ? term : total.add(term);
        }
        if (total == null) {
            throw new IllegalArgumentException("the KD, CE and intermediate-state weights are all 0: nothing to train");
        }
        return new Terms(kd, ce, isLoss, alpha, total);
    }

    /** Top-k KL (τ²-scaled) of the student against the cached teacher for this batch -> scalar. */
    private NDArray cachedLogitLoss(NDArray studentLogits, NDArray inputs) {
        NDManager m = inputs.getManager();
        long[] flat = inputs.toLongArray();
        int b = (int) inputs.getShape().get(0);
        int t = (int) inputs.getShape().get(1);
        long[][] rows = new long[b][];
        for (int r = 0; r < b; r++) {
            rows[r] = java.util.Arrays.copyOfRange(flat, r * t, (r + 1) * t);
        }
        NDArray[] cached = cache.lookup(m, rows); // log p [B,T,k], idx [B,T,k]
        NDArray logP = cached[0].toType(studentLogits.getDataType(), false);
        NDArray idx = cached[1];
        KdLoss.Config lc = options.loss();
        int k = lc.kind() == KdLoss.Kind.TOP_K_KL ? lc.topK() : cache.manifest().top_k();
        if (k < cache.manifest().top_k()) { // the cache is sorted by descending logit: its first k are the top k
            logP = logP.get(":, :, :{}", k);
            idx = idx.get(":, :, :{}", k);
        }
        double tau = lc.temperature();
        NDArray logQ = Scalars.div(studentLogits, tau).logSoftmax(-1);
        return KdLoss.mean(Scalars.mul(KdLoss.topKKl(logP, logQ, idx), tau * tau), null);
    }

    private NDArray align(NDArray logits) {
        return logits.getShape().get(2) == vocab ? logits : logits.get(":, :, :{}", vocab);
    }

    /**
     * Student validation loss and KL(teacher ‖ student) at τ = 1 over the first {@code batches}
     * batches (KL is NaN without a live teacher); {@code tokens} = the student's training tokens so far.
     */
    public Validation validate(Weights student, BatchSource val, int batches, int batchSize, long step, long tokens) {
        KdLoss.Config trueKl = KdLoss.Config.forwardKl(1.0);
        ValidationLoss.BatchTerm kl = teacher == null ? null : (ids, s) -> {
            NDArray t = DecoderLM.forward(teacherConfig, teacher, ids); // [B,T,V]
            return KdLoss.mean(KdLoss.perToken(trueKl, align(t), align(s)), null).toType(DataType.FLOAT64, false)
                    .getDouble();
        };
        ValidationLoss.Result r = ValidationLoss.batchMean(studentConfig, student, val, batches, batchSize, kl);
        long cacheTokens = cache == null ? 0 : cache.manifest().teacher_tokens();
        return new Validation(step, tokens, teacherRunsLive() ? tokens : 0, teacherCorrectionTokens, cacheTokens,
                r.loss(), Math.exp(r.loss()), r.term());
    }

    /**
     * Distils {@code student} in place with the shared training loop, validating every
     * {@code tc.evalEvery()} steps and after the last; writes OUT/checkpoint, OUT/metrics.arrow and
     * OUT/distill_metrics.arrow.
     *
     * @return one {@link Validation} per validation step (loss, perplexity, KL, token counts), the same rows as
     *     distill_metrics.arrow; after a resume those of the interrupted run come first (read back from it);
     *     empty when {@code val} is null
     * @throws Diverged when the loss diverges, with the validations reached before
     */
    public List<Validation> run(Weights student, TrainConfig tc, BatchSource train, BatchSource val, Path out,
            TrainLoop.Listener progress) {
        if (cache != null && cache.manifest().seq_len() != tc.seqLen()) {
            throw new IllegalArgumentException(cache.dir() + ": the teacher cache was made with seq_len "
                    + cache.manifest().seq_len() + " but this run uses --seq-len " + tc.seqLen());
        }
        List<Validation> log = new ArrayList<>();
        Path metrics = out.resolve("distill_metrics.arrow");
        // The student is validated once per validation step: the loss and KL go to the log and
        // distill_metrics.arrow, the loss also to the loop's metrics. (A NaN loss is not logged here.)
        TrainLoop.Validator validator = val == null ? null : (step, tokens) -> {
            Validation v = validate(student, val, tc.evalBatches(), tc.batchSize(), step, tokens);
            if (!Double.isNaN(v.valLoss())) {
                log.add(v);
                ArrowIo.write(table(log), metrics);
            }
            return v.valLoss();
        };
        Weights proj = projection(student);
        TrainLoop loop = new TrainLoop(studentConfig, student, proj, tc, train, validator, stepLoss(), out,
                new TrainLoop.Listener() {
            @Override
            public void onStep(TrainLoop.StepMetrics m) {
                if (progress != null) {
                    progress.onStep(m);
                }
            }

            @Override
            public void onResume(long step) {
                if (java.nio.file.Files.exists(metrics)) {
                    for (Validation v : read(ArrowIo.read(metrics))) {
                        if (v.step() <= step) {
                            log.add(v);
                        }
                    }
                }
                if (progress != null) {
                    progress.onResume(step);
                }
            }
        });
        try {
            loop.run();
        } catch (ArithmeticException e) {
            throw new Diverged(e.getMessage(), List.copyOf(log), e);
        }
        return log;
    }

    /**
     * A run whose loss diverged (a non-finite gradient norm): {@link #validations()} are the validation
     * points it reached before, the same rows as its distill_metrics.arrow.
     */
    public static final class Diverged extends ArithmeticException {
        private final transient List<Validation> validations;

        Diverged(String message, List<Validation> validations, ArithmeticException cause) {
            super(message);
            this.validations = validations;
            initCause(cause);
        }

        public List<Validation> validations() {
            return validations;
        }
    }

    /**
     * The validation log as a table: step, student_tokens, teacher_tokens, teacher_correction_tokens,
     * teacher_cache_tokens, teacher_tokens_total, val_loss, val_ppl, kl_to_teacher.
     */
    public static Table table(List<Validation> log) {
        LongColumn step = LongColumn.create("step");
        LongColumn st = LongColumn.create("student_tokens");
        LongColumn tt = LongColumn.create("teacher_tokens");
        LongColumn tc = LongColumn.create("teacher_correction_tokens");
        LongColumn tk = LongColumn.create("teacher_cache_tokens");
        LongColumn ta = LongColumn.create("teacher_tokens_total");
        DoubleColumn vl = DoubleColumn.create("val_loss");
        DoubleColumn vp = DoubleColumn.create("val_ppl");
        DoubleColumn kl = DoubleColumn.create("kl_to_teacher");
        for (Validation v : log) {
            step.append(v.step());
            st.append(v.studentTokens());
            tt.append(v.teacherTokens());
            tc.append(v.teacherCorrectionTokens());
            tk.append(v.teacherCacheTokens());
            ta.append(v.teacherTokensTotal());
            vl.append(v.valLoss());
            vp.append(v.valPerplexity());
            kl.append(v.klToTeacher());
        }
        return Table.create("distill_metrics", step, st, tt, tc, tk, ta, vl, vp, kl);
    }

    /** Reads back a table written by {@link #table}. */
    public static List<Validation> read(Table t) {
        List<Validation> out = new ArrayList<>();
        for (int i = 0; i < t.rowCount(); i++) {
            out.add(new Validation(t.longColumn("step").getLong(i), t.longColumn("student_tokens").getLong(i),
                    t.longColumn("teacher_tokens").getLong(i), t.longColumn("teacher_correction_tokens").getLong(i),
                    t.longColumn("teacher_cache_tokens").getLong(i), t.doubleColumn("val_loss").getDouble(i),
                    t.doubleColumn("val_ppl").getDouble(i), t.doubleColumn("kl_to_teacher").getDouble(i)));
        }
        return out;
    }
}
