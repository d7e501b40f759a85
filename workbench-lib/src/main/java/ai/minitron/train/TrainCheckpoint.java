package ai.minitron.train;

import ai.minitron.io.Json;
import ai.djl.ndarray.NDArray;
import ai.minitron.config.ModelConfig;
import ai.minitron.io.AtomicFiles;
import ai.minitron.io.FileTrees;
import ai.minitron.io.HostTensor;
import ai.minitron.io.SafeTensors;
import ai.minitron.io.TensorDType;
import ai.minitron.model.Weights;
import ai.minitron.stats.ArrowIo;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.Table;

/**
 * Training checkpoints in {@code OUT/checkpoint/}: the model (config.json + model.safetensors, F32,
 * a valid Hugging Face checkpoint), the AdamW moments (optimizer.safetensors), the step and data
 * position with the run's configuration (trainer_state.json), and the metrics so far (metrics.arrow).
 * Auxiliary tensors trained with the model but not part of it (e.g. distillation's learned
 * projection) go to auxiliary.safetensors, so a resume restores them too.
 *
 * <p>Atomic: a checkpoint is written completely into {@code checkpoint.tmp/}, then swapped in by
 * renames ({@code checkpoint -> checkpoint.old}, {@code checkpoint.tmp -> checkpoint}), so an
 * interruption at any moment leaves a complete previous checkpoint to resume from.
 */
public final class TrainCheckpoint {
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    /** What a resume restores besides weights and optimizer. */
    public record State(long step, List<TrainLoop.StepMetrics> metrics) {}

    /** File of the auxiliary trainable tensors inside a checkpoint. */
    public static final String AUXILIARY = "auxiliary.safetensors";

    private final Path out;

    public TrainCheckpoint(Path outDir) {
        this.out = outDir;
    }

    public Path dir() {
        return out.resolve("checkpoint");
    }

    /** Writes a checkpoint at {@code step} and returns its directory. */
    public Path save(ModelConfig config, Weights w, AdamW opt, TrainConfig tc, long step,
            List<TrainLoop.StepMetrics> metrics) {
        return save(config, w, null, opt, tc, step, metrics);
    }

    /** As {@link #save(ModelConfig, Weights, AdamW, TrainConfig, long, List)}, plus auxiliary tensors (or null). */
    public Path save(ModelConfig config, Weights w, Weights auxiliary, AdamW opt, TrainConfig tc, long step,
            List<TrainLoop.StepMetrics> metrics) {
        Path tmp = out.resolve("checkpoint.tmp");
        Path cur = dir();
        Path old = out.resolve("checkpoint.old");
        try {
            FileTrees.delete(tmp);
            Files.createDirectories(tmp);
            SafeTensors.write(tmp.resolve("model.safetensors"), w.toHost(TensorDType.F32).values(), Map.of("format", "pt"));
            if (auxiliary != null) {
                SafeTensors.write(tmp.resolve(AUXILIARY), auxiliary.toHost(TensorDType.F32).values(), Map.of("format", "pt"));
            }
            SafeTensors.write(tmp.resolve("optimizer.safetensors"), opt.state().values(), Map.of("step", "" + opt.stepCount()));
            // torch_dtype states what is stored: the checkpoint's weights are always F32
            AtomicFiles.writeString(tmp.resolve("config.json"), config.withTorchDtype("float32").toJsonString() + "\n");
            JsonObject state = new JsonObject();
            state.addProperty("step", step);
            state.addProperty("optimizer_steps", opt.stepCount());
            state.addProperty("data_position_batches", step * tc.gradAccum());
            state.addProperty("tokens", step * tc.tokensPerStep());
            state.addProperty("seed", tc.seed());
            state.add("train_config", GSON.toJsonTree(tc));
            AtomicFiles.writeString(tmp.resolve("trainer_state.json"), GSON.toJson(state) + "\n");
            Table t = metricsTable(metrics);
            ArrowIo.write(t, tmp.resolve("metrics.arrow"));
            FileTrees.delete(old);
            if (Files.exists(cur)) {
                Files.move(cur, old, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(tmp, cur, StandardCopyOption.ATOMIC_MOVE);
            FileTrees.delete(old);
            ArrowIo.write(t, out.resolve("metrics.arrow"));
            return cur;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint in " + out + ": " + e.getMessage(), e);
        }
    }

    /**
     * Restores the latest complete checkpoint into {@code w} and {@code opt}; null when there is none.
     * Refuses (clearly, changing nothing) a checkpoint of another model or of a different run setup.
     */
    public State loadLatest(ModelConfig config, Weights w, AdamW opt, TrainConfig tc) {
        return loadLatest(config, w, null, opt, tc);
    }

    /** As {@link #loadLatest(ModelConfig, Weights, AdamW, TrainConfig)}, restoring auxiliary tensors too (or null). */
    public State loadLatest(ModelConfig config, Weights w, Weights auxiliary, AdamW opt, TrainConfig tc) {
        Path dir = Files.isDirectory(dir()) ? dir() : out.resolve("checkpoint.old");
        if (!Files.isRegularFile(dir.resolve("trainer_state.json"))) {
            return null;
        }
        try {
            ModelConfig saved = ModelConfig.load(dir.resolve("config.json"));
            if (!saved.equals(config.withTorchDtype(saved.torchDtype()))) { // (compute dtype aside)
                throw new IllegalArgumentException(dir + ": this checkpoint is of another model (config.json differs: "
                        + saved.hiddenSize() + " hidden x " + saved.numHiddenLayers() + " layers vs "
                        + config.hiddenSize() + " x " + config.numHiddenLayers() + "); use a new --out directory");
            }
            JsonObject state = Json.parse(Files.readString(dir.resolve("trainer_state.json"))).getAsJsonObject();
            TrainConfig savedTc = GSON.fromJson(state.get("train_config"), TrainConfig.class);
            for (String f : List.of("batchSize", "seqLen", "gradAccum", "seed")) {
                JsonObject a = GSON.toJsonTree(savedTc).getAsJsonObject();
                JsonObject b = GSON.toJsonTree(tc).getAsJsonObject();
                if (!a.get(f).equals(b.get(f))) {
                    throw new IllegalArgumentException(dir + ": cannot resume with a different " + f + " (checkpoint "
                            + a.get(f) + ", now " + b.get(f) + ")");
                }
            }
            Map<String, HostTensor> aux = null;
            boolean hasAux = Files.exists(dir.resolve(AUXILIARY));
            if (hasAux != (auxiliary != null)) {
                throw new IllegalArgumentException(dir + (hasAux
                        ? ": this checkpoint also trained auxiliary tensors (e.g. an intermediate-state projection) that"
                                + " this run does not have; resume with the same distillation options or use a new --out"
                        : ": this checkpoint has no auxiliary tensors (e.g. an intermediate-state projection) but this run"
                                + " trains some; resume with the same distillation options or use a new --out"));
            }
            if (auxiliary != null) {
                aux = SafeTensors.read(dir.resolve(AUXILIARY));
                for (var e : auxiliary.asMap().entrySet()) {
                    HostTensor t = aux.get(e.getKey());
                    if (t == null || !java.util.Arrays.equals(t.shape(), e.getValue().getShape().getShape())) {
                        throw new IllegalArgumentException(dir + ": auxiliary tensor '" + e.getKey() + "' is "
                                + (t == null ? "missing" : "of shape " + java.util.Arrays.toString(t.shape()))
                                + " but this run needs " + e.getValue().getShape());
                    }
                }
            }
            Map<String, HostTensor> host = SafeTensors.read(dir.resolve("model.safetensors"));
            Weights restored = Weights.fromHost(config, host, w.manager(), w.dataType(), dir.toString());
            Map<String, HostTensor> optState = SafeTensors.read(dir.resolve("optimizer.safetensors"));
            long step = state.get("step").getAsLong();
            for (var e : restored.asMap().entrySet()) {
                NDArray a = e.getValue();
                a.detach();
                w.put(e.getKey(), a);
            }
            List<Weights> groups = new ArrayList<>(List.of(w));
            if (auxiliary != null) {
                for (var e : auxiliary.asMap().entrySet()) {
                    HostTensor t = aux.get(e.getKey());
                    NDArray a = auxiliary.manager().create(t.toFloats(), e.getValue().getShape())
                            .toType(e.getValue().getDataType(), false);
                    auxiliary.put(e.getKey(), a);
                }
                groups.add(auxiliary);
            }
            opt.load(optState, groups, state.get("optimizer_steps").getAsLong(), dir.toString());
            List<TrainLoop.StepMetrics> metrics = new ArrayList<>();
            Path mf = dir.resolve("metrics.arrow");
            if (Files.exists(mf)) {
                Table t = ArrowIo.read(mf);
                for (int i = 0; i < t.rowCount(); i++) {
                    metrics.add(new TrainLoop.StepMetrics(t.longColumn("step").getLong(i), t.longColumn("tokens").getLong(i),
                            t.doubleColumn("lr").getDouble(i), t.doubleColumn("loss").getDouble(i), t.doubleColumn("val_loss").getDouble(i),
                            t.doubleColumn("grad_norm").getDouble(i), t.doubleColumn("tokens_per_s").getDouble(i)));
                }
            }
            restored.close();
            return new State(step, metrics);
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": corrupt checkpoint: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            if (e instanceof IllegalArgumentException) {
                throw e;
            }
            throw new IllegalArgumentException(dir + ": corrupt checkpoint: " + e.getMessage(), e);
        }
    }

    /** The metrics rows as a table: step, tokens, lr, loss, val_loss, grad_norm, tokens_per_s. */
    public static Table metricsTable(List<TrainLoop.StepMetrics> rows) {
        LongColumn step = LongColumn.create("step");
        LongColumn tokens = LongColumn.create("tokens");
        DoubleColumn lr = DoubleColumn.create("lr");
        DoubleColumn loss = DoubleColumn.create("loss");
        DoubleColumn val = DoubleColumn.create("val_loss");
        DoubleColumn gn = DoubleColumn.create("grad_norm");
        DoubleColumn tps = DoubleColumn.create("tokens_per_s");
        for (TrainLoop.StepMetrics r : rows) {
            step.append(r.step());
            tokens.append(r.tokens());
            lr.append(r.lr());
            loss.append(r.loss());
            val.append(r.valLoss());
            gn.append(r.gradNorm());
            tps.append(r.tokensPerS());
        }
        return Table.create("metrics", step, tokens, lr, loss, val, gn, tps);
    }
}
