package ai.minitron.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.TensorSchema;
import ai.minitron.io.AtomicFiles;
import ai.minitron.io.SafeTensors;
import ai.minitron.io.StreamedTensor;
import ai.minitron.io.TensorDType;
import ai.minitron.progress.Progress;
import ai.minitron.train.NativeMemory;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The streaming property of {@link CheckpointPruner}: pruning a sharded checkpoint 13 times larger than its
 * largest tensor, its direct buffers never hold more than the largest tensor, native memory in use (malloc,
 * where direct buffers and libtorch live) never rises by more than the largest tensor plus the JVM's own
 * slack, and the pruning thread allocates less Java heap than one tensor in all. Loading the model first, as pruning did before, would need all 216 MB natively.
 */
class StreamingPruneMemoryTest {
    /** 16 layers of 11.5 MB and two 16 MB embedding matrices, F32: 216 MB; the largest tensor is 16 MB. */
    static final ModelConfig C = ModelConfig.builder(Architecture.LLAMA).vocabSize(8192).hiddenSize(512)
            .intermediateSize(1536).numHiddenLayers(16).numAttentionHeads(8).numKeyValueHeads(2).headDim(64)
            .maxPositionEmbeddings(256).normEps(1e-5).build();

    /** Slack for the JVM's own native allocations during the run: JIT compiler arenas, GC threads, file channels. */
    static final long JVM_SLACK = 32L << 20;

    @TempDir
    Path tmp;

    @Test
    void peakNativeMemoryIsBoundedByTheLargestTensorNotTheModel() throws Exception {
        assertTrue(NativeMemory.mallocStatsAvailable(), "glibc >= 2.33 (mallinfo2) is needed to measure native memory");
        Path parent = tmp.resolve("parent");
        writeRandomF32(C, parent, 64L << 20);
        long model = TensorSchema.expectedShapes(C).values().stream().mapToLong(TensorSchema::numel).sum() * 4;
        long largest = TensorSchema.expectedShapes(C).values().stream().mapToLong(TensorSchema::numel).max()
                .orElseThrow() * 4;
        assertTrue(model >= 10 * largest, model + " vs " + largest);
        assertTrue(Files.isRegularFile(parent.resolve(SafeTensors.INDEX_FILE)), "the parent is sharded");

        PrunePlan plan = PrunePlan.keepAll().withHidden(384).withHeadsPerGroup(3).withMlp(1024)
                .withLayers(12, PrunePlan.Depth.LOWEST);
        KeepSet keep = Pruner.select(C, plan, UnitScores.random(C, 4));
        prune(parent, keep, plan, tmp.resolve("warm-up"), Progress.NONE); // JIT and class loading out of the way

        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        for (int i = 0; i < 3; i++) { // the warm-up's direct buffers are freed after a collection, by a cleaner thread
            System.gc();
            Thread.sleep(100);
        }
        long before = NativeMemory.mallocInUseBytes();
        long heapBefore = threads.getThreadAllocatedBytes(thread);
        BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
        long directBefore = direct.getMemoryUsed();
        long[] peak = {before, directBefore};
        int[] samples = {0};
        CheckpointPruner.Result r = prune(parent, keep, plan, tmp.resolve("child"), (phase, done, total) -> {
            // after each tensor, with the pruner's buffers still held
            peak[0] = Math.max(peak[0], NativeMemory.mallocInUseBytes());
            peak[1] = Math.max(peak[1], direct.getMemoryUsed());
            samples[0]++;
        });
        long heap = threads.getThreadAllocatedBytes(thread) - heapBefore;
        long rise = peak[0] - before;
        long directRise = peak[1] - directBefore;

        assertEquals(TensorSchema.expectedShapes(r.config()).size(), samples[0], "one sample per child tensor");
        assertTrue(r.bytesRead() > model / 2 && r.bytesWritten() > model / 3, r.toString());
        System.out.printf("streaming prune of a %d MB model (largest tensor %d MB): native memory in use rose by %.1f MB"
                + " at most (direct buffers %.1f MB), the thread allocated %.1f MB of heap; read %d MB, wrote %d MB%n",
                model >> 20, largest >> 20, rise / 1048576.0, directRise / 1048576.0, heap / 1048576.0,
                r.bytesRead() >> 20, r.bytesWritten() >> 20);
        assertTrue(directRise >= CheckpointPruner.DEFAULT_BLOCK_BYTES && rise >= directRise,
                "the measurement sees the pruner's own buffers: " + directRise + " direct, " + rise + " malloc");
        assertTrue(directRise <= largest + (1 << 20), "direct buffers rose by " + directRise + " bytes; bound: the"
                + " largest tensor " + largest + " + 1 MB (model " + model + ")");
        assertTrue(rise <= largest + JVM_SLACK && rise <= model / 4, "native memory rose by " + rise + " bytes; bound:"
                + " the largest tensor " + largest + " + " + JVM_SLACK + " of JVM slack (model " + model + ")");
        assertTrue(heap <= largest, "the pruning thread allocated " + heap + " bytes of Java heap; bound: one tensor, "
                + largest);
    }

    private static CheckpointPruner.Result prune(Path parent, KeepSet keep, PrunePlan plan, Path out,
            Progress progress) {
        return CheckpointPruner.write(parent, C, keep, plan, null, out, 32L << 20, CheckpointPruner.DEFAULT_BLOCK_BYTES,
                progress);
    }

    /** A random F32 checkpoint written tensor by tensor through one 1 MB buffer, in shards of {@code shardBytes}. */
    static void writeRandomF32(ModelConfig c, Path dir, long shardBytes) throws Exception {
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        SplittableRandom random = new SplittableRandom(3);
        List<StreamedTensor> tensors = new ArrayList<>();
        for (var e : TensorSchema.expectedShapes(c).entrySet()) {
            tensors.add(new StreamedTensor(e.getKey(), TensorDType.F32, e.getValue(), ch -> {
                for (long left = TensorSchema.numel(e.getValue()) * 4; left > 0; ) {
                    buf.clear().limit((int) Math.min(buf.capacity(), left));
                    while (buf.hasRemaining()) {
                        buf.putFloat((float) (random.nextDouble() - 0.5));
                    }
                    buf.flip();
                    left -= buf.remaining();
                    AtomicFiles.writeFully(ch, buf);
                }
            }));
        }
        SafeTensors.writeShardedStreamed(dir, tensors, shardBytes, Map.of("format", "pt"));
        Files.writeString(dir.resolve("config.json"), c.toJsonString());
    }
}
