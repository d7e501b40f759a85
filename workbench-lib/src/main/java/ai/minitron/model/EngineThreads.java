package ai.minitron.model;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import java.util.Locale;

/**
 * The engine's threading defaults, chosen explicitly and stated (README, "Threads").
 *
 * <ul>
 *   <li><b>intra-op threads</b> (libtorch's OpenMP pool, what parallelises one matmul): {@code MINITRON_THREADS}
 *       when set, else the number of cores: on an idle machine all cores serve the large matmuls of a
 *       forward or a training step (issue 17 measured one thread ahead only for decoding beside busy processes;
 *       {@code minitron bench --peer --busy N --threads 1} measures that trade-off on a given machine).</li>
 *   <li><b>inter-op threads</b>: 1 (the workbench runs one op at a time).</li>
 *   <li><b>{@code OMP_WAIT_POLICY=PASSIVE}</b>: idle OpenMP workers sleep instead of spinning. With spinning
 *       workers (libgomp's default) a 2-thread decode beside two busy processes fell from 14.6 to 2.2 tokens/s
 *       (issue 17); passive workers degrade gracefully. OpenMP reads the variable once, when libtorch loads, so
 *       it cannot be set from Java: the {@code minitron} launcher, the Jupyter kernel and the tests' JVMs set it
 *       (a value already in the environment wins); {@link #describe} says which policy is in force.</li>
 * </ul>
 * {@link #configure} must run before the engine starts (it sets DJL's {@code ai.djl.pytorch.num_threads} and
 * {@code num_interop_threads} properties); {@link #describe} starts the engine and reports what it runs with.
 */
public final class EngineThreads {
    private EngineThreads() {}

    /** Intra-op threads to use: {@code MINITRON_THREADS} if set (>= 1), else the number of cores. */
    public static int defaultThreads() {
        String env = System.getenv("MINITRON_THREADS");
        if (env != null && !env.isBlank()) {
            try {
                int n = Integer.parseInt(env.trim());
                if (n >= 1) {
                    return n;
                }
            } catch (NumberFormatException ignored) {
                // fall through to the error below
            }
            throw new IllegalArgumentException("MINITRON_THREADS must be a whole number >= 1, got '" + env + "'");
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /** Sets DJL's thread properties (unless already given as -D options); call before the engine starts. */
    public static void configure() {
        if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(defaultThreads()));
        }
        if (System.getProperty("ai.djl.pytorch.num_interop_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
    }

    /** Changes the intra-op thread count of the running engine (benchmarks compare counts). */
    public static void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + n);
        }
        Engine.getInstance();
        JniUtils.setNumThreads(n);
    }

    /** Intra-op threads of the running engine. */
    public static int threads() {
        Engine.getInstance();
        return JniUtils.getNumThreads();
    }

    /** The OpenMP wait policy in force, as the environment states it ("" = OpenMP's default, spinning). */
    public static String waitPolicy() {
        String p = System.getenv("OMP_WAIT_POLICY");
        return p == null ? "" : p;
    }

    /** One line: the engine, its intra-op and inter-op threads, the cores and the OpenMP wait policy. */
    public static String describe() {
        Engine e = Engine.getInstance();
        String policy = waitPolicy();
        return String.format(Locale.ROOT, "%s %s: %d intra-op thread(s) of %d cores, %d inter-op, OMP_WAIT_POLICY=%s",
                e.getEngineName(), e.getVersion(), JniUtils.getNumThreads(), Runtime.getRuntime().availableProcessors(),
                JniUtils.getNumInteropThreads(),
                policy.isEmpty() ? "unset (OpenMP default: workers spin; slow on a busy machine)" : policy);
    }
}
