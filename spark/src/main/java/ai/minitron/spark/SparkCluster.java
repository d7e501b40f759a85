package ai.minitron.spark;

import ai.minitron.cluster.Cluster;
import ai.minitron.cluster.ModelRef;
import ai.minitron.eval.LastWord;
import ai.minitron.eval.Perplexity;
import ai.minitron.eval.TokenScorer;
import ai.minitron.importance.ImportanceEstimator;
import ai.minitron.search.ArchitectureSearch;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * The workbench's {@link Cluster} on Apache Spark: a {@link SparkSession} on {@code local[N]} or a standalone
 * master ({@code spark://host:port}), and the three jobs — {@link ImportanceJob} (calibration pass),
 * {@link ScoringJob} (evaluation log-likelihoods, token-protocol batch NLLs), {@link SearchJob} (zero-shot
 * candidates). Every job cuts the work into the single-process run's own batches and gives each partition a
 * contiguous run of them, so each forward pass is the one {@code minitron} would run in one process.
 *
 * <p>Settings: every {@code spark.*} Java system property is read (Spark's own rule), e.g.
 * {@code -Dspark.executor.memory=4g}; on a standalone master the executors' classpath defaults to this JVM's
 * ({@code spark.executor.extraClassPath}: the same paths on every machine, or set {@code spark.jars}), and the
 * executors get the workbench's JVM flags and {@code DJL_OFFLINE=true}. Opening fails with a message naming the
 * cause when the master cannot be reached, when the executor memory is below Spark's floor, and when no
 * executor registers in time (no worker offers the memory and cores asked for).
 */
public final class SparkCluster implements Cluster {
    /** JVM flags every executor gets on top of Spark's own module options (Arrow, DJL offline, headless). */
    static final String WORKBENCH_FLAGS = "--add-opens=java.base/java.nio=ALL-UNNAMED -Dai.djl.offline=true"
            + " -Djava.awt.headless=true";
    /** Spark's floor for an executor's memory (1.5 x its 300 MiB reserve), MiB. */
    static final long MIN_EXECUTOR_MB = 450;
    /** How long to wait for a first executor on a standalone master ({@code spark.minitron.executorWaitSeconds}). */
    static final int DEFAULT_EXECUTOR_WAIT_S = 120;

    private static final Pattern SPARK_URL = Pattern.compile("spark://([^,/:]+:\\d+)(,[^,/:]+:\\d+)*");
    private static final Pattern LOCAL_URL = Pattern.compile("local(\\[(\\*|\\d+)(,\\d+)?])?");

    private final String master;
    private final int partitions;
    private final SparkSession session;
    private final JavaSparkContext jsc;
    private final JsonArray jobs = new JsonArray();

    private final boolean owner; // closes the session

    private SparkCluster(String master, int partitions, SparkSession session, boolean owner) {
        this.master = master;
        this.partitions = partitions;
        this.session = session;
        this.jsc = JavaSparkContext.fromSparkContext(session.sparkContext());
        this.owner = owner;
    }

    /**
     * The same session with {@code partitions} partitions per job (0 = default parallelism); closing the view
     * leaves the session open (close this cluster for that).
     */
    public SparkCluster withPartitions(int partitions) {
        if (partitions < 0) {
            throw new IllegalArgumentException("partitions must be >= 0 (0 = default parallelism), got " + partitions);
        }
        return new SparkCluster(master, partitions, session, false);
    }

    /**
     * Opens a session on {@code master}.
     *
     * @param partitions partitions per job; 0 = Spark's default parallelism
     * @throws IllegalArgumentException naming the master URL, the unreachable address or the memory setting at fault
     */
    public static SparkCluster open(String master, int partitions) {
        boolean local = LOCAL_URL.matcher(master).matches();
        if (!local && !SPARK_URL.matcher(master).matches()) {
            throw new IllegalArgumentException("--spark " + master + ": not a master URL this module runs on; use local,"
                    + " local[N], local[*] or spark://host:port (a standalone master)");
        }
        SparkConf conf = new SparkConf().setMaster(master).setAppName("minitron")
                .setIfMissing("spark.ui.enabled", "false")
                .setIfMissing("spark.executorEnv.DJL_OFFLINE", "true")
                .setIfMissing("spark.executorEnv.MKL_DYNAMIC", "FALSE");
        conf.set("spark.executor.extraJavaOptions", (WORKBENCH_FLAGS + " "
                + conf.get("spark.executor.extraJavaOptions", "")).trim());
        if (local || loopback(master)) { // everything on this machine: keep Spark's sockets on the loopback interface
            conf.setIfMissing("spark.driver.host", "127.0.0.1").setIfMissing("spark.driver.bindAddress", "127.0.0.1");
        }
        if (!local) {
            reachable(master);
            conf.setIfMissing("spark.executor.extraClassPath", System.getProperty("java.class.path"));
            long mb = conf.getSizeAsMb("spark.executor.memory", "1g");
            if (mb < MIN_EXECUTOR_MB) {
                throw new IllegalArgumentException("spark.executor.memory " + conf.get("spark.executor.memory", "1g")
                        + ": an executor needs at least " + MIN_EXECUTOR_MB + "m (Spark's floor), plus native memory for"
                        + " the model's weights (see README, 'Past one machine')");
            }
        }
        SparkSession session = SparkSession.builder().config(conf).getOrCreate();
        SparkCluster c = new SparkCluster(master, partitions, session, true);
        if (!local) {
            try {
                c.awaitExecutor(conf.getInt("spark.minitron.executorWaitSeconds", DEFAULT_EXECUTOR_WAIT_S), conf);
            } catch (RuntimeException e) {
                c.close();
                throw e;
            }
        }
        return c;
    }

    private static boolean loopback(String master) {
        String hp = master.substring("spark://".length());
        return hp.startsWith("127.") || hp.startsWith("localhost:");
    }

    /** Fails naming the address when no master of the URL accepts a TCP connection within 5 s. */
    private static void reachable(String master) {
        List<String> why = new ArrayList<>();
        for (String hp : master.substring("spark://".length()).split(",")) {
            int colon = hp.lastIndexOf(':');
            String host = hp.substring(0, colon);
            int port = Integer.parseInt(hp.substring(colon + 1));
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), 5000);
                return;
            } catch (IOException e) {
                why.add(hp + " (" + e.getMessage() + ")");
            }
        }
        throw new IllegalArgumentException("--spark " + master + ": cannot reach the Spark master at "
                + String.join(", ", why) + "; is the master running, and is this the URL its log prints?");
    }

    /** Waits until an executor has registered; fails naming the resources asked for when none does. */
    private void awaitExecutor(int seconds, SparkConf conf) {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (jsc.sc().statusTracker().getExecutorInfos().length > 1) { // the driver is one of them
                return;
            }
            if (jsc.sc().isStopped()) {
                break;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        String mem = conf.get("spark.executor.memory", "1g");
        String offered = workersFreeMemory(conf);
        throw new IllegalStateException("no executor registered with " + master + " within " + seconds + " s: no worker"
                + " offers the executor memory asked for (spark.executor.memory " + mem + ", spark.executor.cores "
                + conf.get("spark.executor.cores", "all of a worker's") + ")" + offered
                + "; lower spark.executor.memory or give the workers more (--memory)");
    }

    /** "; workers offer 1024, 1024 MiB free" from the master's web UI (JSON), or "" when it cannot be read. */
    private String workersFreeMemory(SparkConf conf) {
        String host = master.substring("spark://".length()).split(",")[0];
        host = host.substring(0, host.lastIndexOf(':'));
        int port = conf.getInt("spark.minitron.masterUiPort", 8080);
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://" + host + ":" + port + "/json/").toURL()
                    .openConnection();
            c.setConnectTimeout(2000);
            c.setReadTimeout(2000);
            String json;
            try (InputStream in = c.getInputStream()) {
                json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            Matcher m = Pattern.compile("\"memoryfree\"\\s*:\\s*(\\d+)").matcher(json);
            List<String> free = new ArrayList<>();
            while (m.find()) {
                free.add(m.group(1));
            }
            return free.isEmpty() ? "; the master lists no worker" : "; workers offer " + String.join(", ", free)
                    + " MiB free";
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    @Override
    public String master() {
        return master;
    }

    public JavaSparkContext context() {
        return jsc;
    }

    public SparkSession session() {
        return session;
    }

    /** Partitions for a job of {@code items} work items: the requested count (or the default parallelism), at most items. */
    int partitionsFor(int items) {
        int p = partitions > 0 ? partitions : jsc.defaultParallelism();
        return Math.max(1, Math.min(p, items));
    }

    /** Runs a Spark action; a failed job becomes one exception whose message is the task's own cause. */
    <T> T run(String job, Supplier<T> action) {
        if (jsc.sc().isStopped()) {
            throw new IllegalStateException("the Spark session on " + master + " has stopped (was the application"
                    + " removed by the master?); cannot run " + job);
        }
        try {
            return action.get();
        } catch (Exception e) { // Scala throws the checked SparkException undeclared
            if (e instanceof SparkException || e.getCause() instanceof SparkException) {
                throw new IllegalStateException("spark job '" + job + "' on " + master + " failed: " + cause(e), e);
            }
            if (e instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("spark job '" + job + "' on " + master + " failed: " + cause(e), e);
        }
    }

    /** The deepest message of a failed job: the task's exception when Spark kept it, else the stage failure text. */
    static String cause(Throwable e) {
        Throwable t = e;
        String msg = null;
        while (t != null) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                msg = t.getMessage();
            }
            if (t.getCause() == t) {
                break;
            }
            t = t.getCause();
        }
        if (msg == null) {
            return e.getClass().getSimpleName();
        }
        int at = msg.indexOf("most recent failure: ");
        if (at >= 0) {
            String rest = msg.substring(at + "most recent failure: ".length());
            int colon = rest.indexOf("): ");
            msg = colon >= 0 ? rest.substring(colon + 3) : rest;
        }
        return msg.lines().findFirst().orElse(msg).trim();
    }

    /** Records one job's partitioning and task facts for {@link #provenance}. */
    synchronized void record(String job, int items, int parts, double seconds, List<Tasks.Info> tasks) {
        JsonObject j = new JsonObject();
        j.addProperty("job", job);
        j.addProperty("items", items);
        j.addProperty("partitions", parts);
        j.addProperty("seconds", seconds);
        JsonArray ps = new JsonArray();
        TreeMap<String, JsonObject> executors = new TreeMap<>();
        tasks.stream().sorted(java.util.Comparator.comparingInt(Tasks.Info::partition)).forEach(t -> {
            JsonObject o = new JsonObject();
            o.addProperty("partition", t.partition());
            o.addProperty("first_item", t.firstItem());
            o.addProperty("items", t.items());
            o.addProperty("executor", t.executor());
            o.addProperty("bytes_in", t.bytesIn());
            o.addProperty("bytes_out", t.bytesOut());
            o.addProperty("seconds", t.seconds());
            ps.add(o);
            JsonObject e = executors.computeIfAbsent(t.executor() + " pid " + t.pid(), k -> {
                JsonObject x = new JsonObject();
                x.addProperty("executor", t.executor());
                x.addProperty("pid", t.pid());
                x.addProperty("tasks", 0);
                return x;
            });
            e.addProperty("tasks", e.get("tasks").getAsInt() + 1);
            e.addProperty("model_loads", Math.max(t.modelLoads(), e.has("model_loads") ? e.get("model_loads").getAsInt() : 0));
        });
        j.add("partition_detail", ps);
        JsonArray ex = new JsonArray();
        executors.values().forEach(ex::add);
        j.add("executors", ex);
        jobs.add(j);
    }

    @Override
    public ImportanceEstimator.ShardPass activationPass(ModelRef model) {
        return new ImportanceJob(this, model);
    }

    @Override
    public TokenScorer.Scorer scorer(ModelRef model, int batchSize) {
        return ScoringJob.scorer(this, model, batchSize);
    }

    @Override
    public LastWord.Generator generator(ModelRef model, String tokenizerJson, int batchSize) {
        return ScoringJob.generator(this, model, tokenizerJson, batchSize);
    }

    @Override
    public Perplexity.BatchNll windowNll(ModelRef model) {
        return ScoringJob.windowNll(this, model);
    }

    @Override
    public ArchitectureSearch.ZeroShotScorer zeroShot(ModelRef parent) {
        return new SearchJob(this, parent);
    }

    @Override
    public synchronized JsonObject provenance() {
        JsonObject o = new JsonObject();
        o.addProperty("engine", "Apache Spark " + jsc.version());
        o.addProperty("master", master);
        o.addProperty("application_id", jsc.sc().applicationId());
        o.addProperty("partitions_requested", partitions);
        o.addProperty("default_parallelism", jsc.defaultParallelism());
        o.addProperty("note", "each partition ran a contiguous run of the single-process batches (same rows, same"
                + " batch size), so exact sums equal a single-process run bit for bit");
        o.add("jobs", jobs.deepCopy());
        return o;
    }

    /** The jobs recorded so far (a copy). */
    public synchronized JsonArray jobs() {
        return jobs.deepCopy();
    }

    @Override
    public void close() {
        if (owner) {
            session.stop();
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "SparkCluster[%s, %d partitions]", master, partitions);
    }
}
