package ai.minitron.cluster;

import java.util.ServiceLoader;

/** Finds the {@link ClusterProvider} on the classpath (the {@code spark} module) and opens a cluster. */
public final class Clusters {
    private Clusters() {}

    /** Opens a cluster; throws naming the master, or saying that no cluster module is on the classpath. */
    public static Cluster open(String master, int partitions) {
        if (partitions < 0) {
            throw new IllegalArgumentException("--partitions must be >= 0 (0 = the cluster's default), got " + partitions);
        }
        for (ClusterProvider p : ServiceLoader.load(ClusterProvider.class)) {
            return p.open(master, partitions);
        }
        throw new IllegalArgumentException("--spark " + master + ": no cluster module on the classpath (the spark"
                + " module; ./minitron adds it when --spark is given)");
    }
}
