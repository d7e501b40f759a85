package ai.minitron.cluster;

/**
 * Opens a {@link Cluster}: the service interface a cluster module implements (listed in its
 * {@code META-INF/services/ai.minitron.cluster.ClusterProvider}).
 */
public interface ClusterProvider {
    /**
     * @param master the master URL ({@code local[N]}, {@code spark://host:port})
     * @param partitions partitions per job (0 = the cluster's default parallelism)
     * @throws IllegalArgumentException naming the master when it cannot be reached
     */
    Cluster open(String master, int partitions);
}
