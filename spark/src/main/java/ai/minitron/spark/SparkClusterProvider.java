package ai.minitron.spark;

import ai.minitron.cluster.Cluster;
import ai.minitron.cluster.ClusterProvider;

/** The {@link ClusterProvider} of this module (META-INF/services): Apache Spark. */
public final class SparkClusterProvider implements ClusterProvider {
    @Override
    public Cluster open(String master, int partitions) {
        return SparkCluster.open(master, partitions);
    }
}
