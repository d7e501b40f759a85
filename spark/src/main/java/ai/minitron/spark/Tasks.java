package ai.minitron.spark;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;

/** Helpers every task uses: where it runs, and how many bytes a value is when Java-serialised (as Spark ships it). */
final class Tasks {
    private Tasks() {}

    /**
     * What one task did, shipped back with its result.
     *
     * @param partition the partition (0-based)
     * @param executor Spark's executor id ("driver" in local mode)
     * @param pid the executor JVM's process id
     * @param modelLoads the models this JVM had loaded when the task ended (1 for every task = loaded once)
     * @param items batches (or candidates) the task computed
     * @param firstItem index of its first item in the job's order (-1 when it had none)
     * @param bytesIn serialised size of the task's input rows
     * @param bytesOut serialised size of its result (the accumulators, scores)
     * @param seconds wall time of the task's work
     */
    record Info(int partition, String executor, long pid, int modelLoads, int items, int firstItem, long bytesIn, long bytesOut,
            double seconds) implements Serializable {}

    static Info info(int items, int firstItem, long bytesIn, long bytesOut, long startNanos) {
        TaskContext tc = TaskContext.get();
        SparkEnv env = SparkEnv.get();
        return new Info(tc == null ? -1 : tc.partitionId(), env == null ? "?" : env.executorId(),
                ProcessHandle.current().pid(), ModelCache.loads(), items, firstItem, bytesIn, bytesOut,
                (System.nanoTime() - startNanos) / 1e9);
    }

    static long serializedSize(Object o) {
        try (ByteArrayOutputStream b = new ByteArrayOutputStream(); ObjectOutputStream out = new ObjectOutputStream(b)) {
            out.writeObject(o);
            out.flush();
            return b.size();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise " + o.getClass().getName() + ": " + e.getMessage(), e);
        }
    }

    static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown host";
        }
    }
}
