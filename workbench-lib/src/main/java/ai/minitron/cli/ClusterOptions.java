package ai.minitron.cli;

import ai.minitron.cluster.Cluster;
import ai.minitron.cluster.Clusters;
import picocli.CommandLine.Option;

/**
 * {@code --spark MASTER} and {@code --partitions N} (a picocli mixin of importance, eval and search): run the
 * command's forward passes on an Apache Spark cluster ({@link Clusters}; the {@code spark} module) instead of
 * in this process. Results are the same bits; only where the batches run changes.
 */
final class ClusterOptions {
    @Option(names = "--spark", paramLabel = "MASTER", description = "Run the forward passes on Apache Spark: local[N] or"
            + " spark://host:port (the model path must be readable by every executor).")
    String master;

    @Option(names = "--partitions", defaultValue = "0", description = "With --spark: partitions per job (default: the"
            + " cluster's default parallelism).")
    int partitions;

    boolean enabled() {
        return master != null;
    }

    Cluster open() {
        return Clusters.open(master, partitions);
    }
}
