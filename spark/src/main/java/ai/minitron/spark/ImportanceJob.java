package ai.minitron.spark;

import ai.minitron.cluster.ModelRef;
import ai.minitron.data.CalibrationSet;
import ai.minitron.importance.ActivationPass;
import ai.minitron.importance.ActivationStats;
import ai.minitron.importance.ImportanceEstimator;
import ai.minitron.progress.Progress;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;

/**
 * Importance's calibration pass as a Spark job ({@link ImportanceEstimator.ShardPass}): the calibration set is
 * cut into the batches the single-process pass runs ({@link CalibrationSet#batches}), each partition gets a
 * contiguous run of them (by sample index: partition p holds samples [first_p, last_p)), and each task loads
 * the model once per executor JVM ({@link ModelCache}), runs {@link ActivationPass#runBatch} on its batches and
 * returns its exact accumulators, one {@link ActivationStats} per stability shard. The driver merges them by
 * {@code treeAggregate}: the sums are {@code stats.ExactSum} integers, so any grouping and order of the merges
 * gives the single-process bits.
 */
final class ImportanceJob implements ImportanceEstimator.ShardPass {
    private final SparkCluster cluster;
    private final ModelRef model;

    ImportanceJob(SparkCluster cluster, ModelRef model) {
        this.cluster = cluster;
        this.model = model;
    }

    /** One batch of the single-process pass, and the stability shard of each of its samples. */
    record Work(int index, long[][] inputs, long[][] targets, int[] lengths, int[] sampleIds, int[] shardOf)
            implements Serializable {
        CalibrationSet.Batch batch() {
            return new CalibrationSet.Batch(inputs, targets, lengths, sampleIds);
        }
    }

    /** The accumulators of some partitions (one per shard) and the facts of the tasks that made them. */
    static final class Partial implements Serializable {
        private static final long serialVersionUID = 1L;
        final ActivationStats[] shards;
        final ArrayList<Tasks.Info> tasks = new ArrayList<>();

        Partial(int shards) {
            this.shards = new ActivationStats[shards];
            for (int i = 0; i < shards; i++) {
                this.shards[i] = new ActivationStats();
            }
        }

        /** Adds {@code o} into this (exact); returns this. */
        Partial merge(Partial o) {
            for (int i = 0; i < shards.length; i++) {
                shards[i].merge(o.shards[i]);
            }
            tasks.addAll(o.tasks);
            return this;
        }
    }

    @Override
    public List<ActivationStats> run(CalibrationSet cal, int batchSize, int[] boundaries, Progress progress) {
        List<CalibrationSet.Batch> batches = cal.batches(batchSize);
        List<Work> work = new ArrayList<>(batches.size());
        for (int i = 0; i < batches.size(); i++) {
            CalibrationSet.Batch b = batches.get(i);
            work.add(new Work(i, b.inputs(), b.targets(), b.lengths(), b.sampleIds(),
                    ActivationPass.shardOf(i * batchSize, b.size(), boundaries)));
        }
        int parts = cluster.partitionsFor(work.size());
        int shards = boundaries.length + 1;
        ModelRef ref = model;
        long t0 = System.nanoTime();
        JavaRDD<Partial> partials = cluster.context().parallelize(work, parts)
                .mapPartitions(it -> List.of(compute(ref, shards, it)).iterator());
        Partial total = cluster.run("importance", () -> partials.treeAggregate(new Partial(shards), Partial::merge,
                Partial::merge, 2));
        cluster.record("importance", work.size(), parts, (System.nanoTime() - t0) / 1e9, total.tasks);
        if (progress != null) {
            progress.update("activations", batches.size(), batches.size());
        }
        return Arrays.asList(total.shards);
    }

    /** A task: the model of this JVM on the partition's batches. */
    static Partial compute(ModelRef ref, int shards, Iterator<Work> it) {
        long t0 = System.nanoTime();
        List<Work> mine = new ArrayList<>();
        it.forEachRemaining(mine::add);
        Partial p = new Partial(shards);
        if (!mine.isEmpty()) {
            ModelCache.Loaded m = ModelCache.get(ref);
            List<ActivationStats> out = Arrays.asList(p.shards);
            synchronized (m.lock()) {
                ActivationPass pass = new ActivationPass(m.model().config(), m.model().weights());
                for (Work w : mine) {
                    pass.runBatch(w.batch(), out, w.shardOf());
                }
            }
        }
        long bytesOut = Tasks.serializedSize(p.shards);
        p.tasks.add(Tasks.info(mine.size(), mine.isEmpty() ? -1 : mine.get(0).index(),
                Tasks.serializedSize(new ArrayList<>(mine)), bytesOut, t0));
        return p;
    }
}
