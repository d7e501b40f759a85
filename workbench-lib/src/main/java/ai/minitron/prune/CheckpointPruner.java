package ai.minitron.prune;

import ai.minitron.config.ModelConfig;
import ai.minitron.config.TensorSchema;
import ai.minitron.config.UnitLayout;
import ai.minitron.io.AtomicFiles;
import ai.minitron.io.HostTensor;
import ai.minitron.io.SafeTensors;
import ai.minitron.io.StreamedTensor;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import ai.minitron.progress.Progress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Pruning a checkpoint directory straight into another, tensor by tensor, without loading the model
 * (docs/architecture.md, "Pruning units"): the same child as {@link Pruner#apply} makes of the loaded
 * parent — the same tensor names and shapes ({@link TensorSchema}), the same values bit for bit — in
 * bounded memory, so an 8B checkpoint prunes on a machine that could not hold it.
 *
 * <p>The parent's headers are read (every tensor memory-mapped, which costs address space only) and
 * checked against its config; then each child tensor is written as the safetensors writer reaches it
 * ({@link SafeTensors#writeShardedStreamed}): the kept rows of its parent tensor are read from the
 * file by positional reads and their kept columns gathered as stored bytes ({@link SliceCopier}), in
 * blocks of {@code blockBytes}. BF16, F16 and F32 stay what they are unless {@code saveDtype} asks
 * for another dtype. The experimental head residual needs arithmetic: its layer's q_proj is read as
 * doubles (one tensor) and each o_proj row is merged in doubles, as {@link Pruner#apply} does.
 * Output is sharded above {@code maxShardBytes} with Hugging Face's index, and every file is written
 * atomically (the caller usually writes into an {@code io.OutputDir}).
 */
public final class CheckpointPruner {
    /** Read and write block size: large enough for few system calls, small beside any real tensor. */
    public static final int DEFAULT_BLOCK_BYTES = 8 << 20;

    private CheckpointPruner() {}

    /**
     * What was written.
     *
     * @param dtype the storage dtype recorded as the child's {@code torch_dtype}
     * @param files the weight files (single file, or shards and index)
     * @param bytesWritten tensor bytes written (without headers, config or tokenizer)
     * @param bytesRead parent tensor bytes read
     */
    public record Result(ModelConfig config, TensorDType dtype, List<Path> files, long bytesWritten, long bytesRead) {}

    /**
     * Prunes {@code parentDir} (config {@code parent}) to the kept set into {@code outDir}: weights,
     * {@code config.json} and a copy of {@code tokenizer.json}, as {@link LanguageModel#save} writes them.
     *
     * @param saveDtype storage dtype of the child, or null to keep each tensor's stored dtype
     */
    public static Result write(Path parentDir, ModelConfig parent, KeepSet keep, PrunePlan plan, TensorDType saveDtype,
            Path outDir) {
        return write(parentDir, parent, keep, plan, saveDtype, outDir, LanguageModel.DEFAULT_MAX_SHARD_BYTES,
                DEFAULT_BLOCK_BYTES, Progress.NONE);
    }

    /** As above, with the shard limit, the block size and progress reports (one step per child tensor). */
    public static Result write(Path parentDir, ModelConfig parent, KeepSet keep, PrunePlan plan, TensorDType saveDtype,
            Path outDir, long maxShardBytes, int blockBytes, Progress progress) {
        if (saveDtype != null && !saveDtype.isFloating()) {
            throw new IllegalArgumentException("save dtype " + saveDtype + " is not a floating dtype: use F32, F16 or BF16");
        }
        String source = parentDir.toString();
        ModelConfig child = Pruner.childConfig(parent, keep);
        try (SliceCopier copier = new SliceCopier(blockBytes)) {
            Map<String, HostTensor> src = SafeTensors.readCheckpoint(parentDir);
            Weights.requireSchema(parent, src, source);
            Map<String, long[]> shapes = TensorSchema.expectedShapes(child);
            List<StreamedTensor> out = new ArrayList<>();
            long[] written = {0};
            int[] done = {0};
            for (var e : shapes.entrySet()) {
                String name = e.getKey();
                HostTensor from = src.get(Pruner.parentName(keep, name));
                TensorDType dtype = saveDtype != null ? saveDtype : from.dtype();
                out.add(new StreamedTensor(name, dtype, e.getValue(), ch -> {
                    slice(copier, parent, src, keep, plan.headResidual(), name, dtype, ch, source);
                    written[0] += TensorSchema.numel(e.getValue()) * dtype.byteSize();
                    progress.update("prune", ++done[0], shapes.size());
                }));
            }
            Files.createDirectories(outDir);
            List<Path> files = SafeTensors.writeShardedStreamed(outDir, out, maxShardBytes, Map.of("format", "pt"));
            TensorDType stored = saveDtype != null ? saveDtype : src.get("model.embed_tokens.weight").dtype();
            AtomicFiles.writeString(outDir.resolve("config.json"),
                    child.withTorchDtype(LanguageModel.torchDtypeName(stored)).toJsonString() + "\n");
            Path tokenizer = parentDir.resolve("tokenizer.json");
            if (Files.isRegularFile(tokenizer)
                    && !tokenizer.toAbsolutePath().equals(outDir.resolve("tokenizer.json").toAbsolutePath())) {
                AtomicFiles.copy(tokenizer, outDir.resolve("tokenizer.json"));
            }
            return new Result(child, stored, files, written[0], copier.bytesRead());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prune " + parentDir + " into " + outDir + ": " + e.getMessage(), e);
        }
    }

    /** Writes child tensor {@code name}: its parent tensor sliced by {@link UnitLayout}'s cuts. */
    private static void slice(SliceCopier copier, ModelConfig parent, Map<String, HostTensor> src, KeepSet keep,
            boolean headResidual, String name, TensorDType dtype, java.nio.channels.FileChannel ch, String source)
            throws IOException {
        int j = UnitLayout.layerOf(name);
        String from = Pruner.parentName(keep, name);
        HostTensor t = src.get(from);
        int[] rows = null;
        int[] cols = null;
        for (UnitLayout.Cut cut : UnitLayout.cuts(parent, from)) {
            int[] idx = Pruner.expand(Pruner.kept(keep, cut.axis(), j), cut.block());
            if (cut.dim() == UnitLayout.Dim.COLUMNS) {
                cols = idx;
            } else {
                rows = idx;
            }
        }
        if (rows == null && cols == null) {
            throw new IllegalStateException("no unit owns a slice of " + from + ": the unit layout is incomplete");
        }
        long[] shape = t.shape();
        rows = allOf(rows, shape[0]);
        cols = shape.length < 2 ? cols : allOf(cols, shape[1]);
        SliceCopier.RowTransform merge = null;
        if (headResidual && UnitLayout.role(from).equals("self_attn.o_proj.weight")) {
            HostTensor q = src.get(TensorSchema.layerPrefix(keep.layers()[j]) + "self_attn.q_proj.weight");
            int[][] merges = Pruner.headMerges(parent, copier.readDoubles(q, source), (int) q.shape()[1],
                    keep.heads().get(j), keep.kvGroupsPerLayer().get(j));
            int d = parent.headDim();
            merge = (r, row) -> Pruner.mergeRow(row, 0, merges, d);
        }
        copier.copy(t, rows, cols, dtype, merge, ch, source);
    }

    /** null when {@code idx} keeps every index 0..n-1 in order (the copier then takes whole rows). */
    private static int[] allOf(int[] idx, long n) {
        if (idx == null || idx.length != n) {
            return idx;
        }
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] != i) {
                return idx;
            }
        }
        return null;
    }
}
