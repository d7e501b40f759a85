package ai.minitron.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.minitron.cluster.ModelRef;
import ai.minitron.data.CalibrationSet;
import ai.minitron.data.Corpus;
import ai.minitron.eval.Perplexity;
import ai.minitron.importance.ActivationPass;
import ai.minitron.importance.ActivationStats;
import ai.minitron.importance.ImportanceEstimator;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Provenance;
import ai.minitron.tokenize.Tokenizer;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The jobs on a real Spark standalone cluster started by the test (a Master and two Workers, separate JVMs on
 * loopback, executors launched by the workers): importance and evaluation equal the single-process results bit
 * for bit, the model loads once per executor JVM, a worker killed in the middle of the importance job leaves a
 * correct result, and an unreachable master, a model path the executors cannot read and executor memory no
 * worker offers each fail with a message naming the cause.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 15, unit = TimeUnit.MINUTES) // stalled work only: a busy machine is slow, not wrong
class StandaloneClusterTest {
    static final Path TEACHER = Path.of("data/teacher");
    static StandaloneCluster cluster;
    static NDManager manager;
    static LanguageModel lm;
    static Tokenizer tok;
    static ModelRef ref;

    @BeforeAll
    static void start() throws Exception {
        cluster = new StandaloneCluster(2, 1, "1536m");
        manager = NDManager.newBaseManager();
        lm = LanguageModel.load(TEACHER, manager);
        tok = lm.openTokenizer(null);
        ref = ModelRef.of(TEACHER, Provenance.checkpointHash(TEACHER));
    }

    @AfterAll
    static void stop() {
        if (tok != null) tok.close();
        if (lm != null) lm.close();
        if (manager != null) manager.close();
        if (cluster != null) cluster.close();
    }

    /** Opens a session on the started cluster with these extra Spark settings (as -D properties would). */
    static SparkCluster open(int partitions, String... settings) {
        List<String> keys = new ArrayList<>();
        System.setProperty("spark.minitron.masterUiPort", String.valueOf(cluster.uiPort));
        keys.add("spark.minitron.masterUiPort");
        for (int i = 0; i < settings.length; i += 2) {
            System.setProperty(settings[i], settings[i + 1]);
            keys.add(settings[i]);
        }
        try {
            return SparkCluster.open(cluster.url(), partitions);
        } finally {
            keys.forEach(System::clearProperty);
        }
    }

    static CalibrationSet calibration(int n) {
        return CalibrationSet.fromSplit(Path.of("data/corpus/validation.txt"), tok, n, 32, 11,
                lm.config().maxPositionEmbeddings());
    }

    static List<ActivationStats> local(CalibrationSet cal, int batchSize, int[] bounds) {
        return new ActivationPass(lm.config(), lm.weights()).run(cal, batchSize, bounds, null);
    }

    static void assertSame(List<ActivationStats> a, List<ActivationStats> b, String what) {
        assertEquals(a.size(), b.size(), what);
        for (int i = 0; i < a.size(); i++) {
            assertTrue(a.get(i).sameAs(b.get(i)), what + ": shard " + i + " differs from one process");
        }
    }

    @Test
    @Order(1)
    void importanceAndEvaluationOnTheClusterEqualOneProcess() {
        CalibrationSet cal = calibration(24);
        int[] bounds = ImportanceEstimator.stabilityBoundaries(cal.size(), 2);
        List<ActivationStats> expected = local(cal, 2, bounds);
        List<String> docs = new ArrayList<>();
        for (String d : Corpus.read(Path.of("data/corpus/test.txt")).documents().subList(0, 4)) {
            docs.add(d.substring(0, Math.min(d.length(), 700)));
        }
        List<long[]> docTokens = docs.stream().map(tok::encode).toList();
        long prefix = Perplexity.prefixToken(tok);
        Perplexity.DocumentResult one = Perplexity.documents(lm.config(), lm.weights(), manager, docs, docTokens,
                prefix, 64, 4, null);
        try (SparkCluster spark = open(4, "spark.executor.memory", "1g")) {
            assertSame(expected, spark.activationPass(ref).run(cal, 2, bounds, null), "importance on 2 workers");
            assertSame(expected, spark.activationPass(ref).run(cal, 2, bounds, null), "importance again");
            Perplexity.DocumentResult d = Perplexity.documents(lm.config(), docs, docTokens, prefix, 64,
                    spark.scorer(ref, 4));
            assertEquals(one.nll(), d.nll(), 1e-12, "document protocol on the cluster");
            assertEquals(one.bitsPerByte(), d.bitsPerByte(), 1e-12);
            // once per executor JVM: over three jobs every executor ran several tasks and loaded the model once
            int tasks = 0;
            java.util.Set<Long> pids = new java.util.HashSet<>();
            for (JsonElement j : spark.jobs()) {
                for (JsonElement e : j.getAsJsonObject().getAsJsonArray("executors")) {
                    JsonObject x = e.getAsJsonObject();
                    assertEquals(1, x.get("model_loads").getAsInt(), "model loads of executor " + x);
                    tasks += x.get("tasks").getAsInt();
                    pids.add(x.get("pid").getAsLong());
                }
            }
            assertEquals(12, tasks, "3 jobs x 4 partitions");
            assertTrue(pids.size() >= 2 && !pids.contains(ProcessHandle.current().pid()),
                    "tasks ran in the workers' executor JVMs: " + pids);
        }
    }

    @Test
    @Order(2)
    void unreachableMasterFailsNamingTheAddress() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SparkCluster.open("spark://127.0.0.1:" + closed, 2));
        assertTrue(e.getMessage().contains("cannot reach the Spark master at 127.0.0.1:" + closed), e.getMessage());
        IllegalArgumentException url = assertThrows(IllegalArgumentException.class,
                () -> SparkCluster.open("yarn-ish://x", 2));
        assertTrue(url.getMessage().contains("not a master URL"), url.getMessage());
    }

    @Test
    @Order(3)
    void modelPathTheExecutorsCannotReadFailsNamingThePath() {
        CalibrationSet cal = calibration(4);
        ModelRef missing = new ModelRef("/nonexistent/minitron/teacher", ref.sha256());
        try (SparkCluster spark = open(2, "spark.task.maxFailures", "2")) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> spark.activationPass(missing).run(cal, 2, new int[0], null));
            assertTrue(e.getMessage().contains("cannot read the model at /nonexistent/minitron/teacher"), e.getMessage());
            assertTrue(e.getMessage().contains("spark job 'importance'"), e.getMessage());
        }
    }

    @Test
    @Order(4)
    void executorMemoryNoWorkerOffersFailsNamingTheSetting() {
        IllegalStateException big = assertThrows(IllegalStateException.class,
                () -> open(2, "spark.executor.memory", "64g", "spark.minitron.executorWaitSeconds", "20"));
        assertTrue(big.getMessage().contains("spark.executor.memory 64g"), big.getMessage());
        assertTrue(big.getMessage().contains("workers offer"), big.getMessage());
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                () -> open(2, "spark.executor.memory", "200m"));
        assertTrue(small.getMessage().contains("spark.executor.memory 200m"), small.getMessage());
    }

    @Test
    @Order(5)
    void aWorkerKilledInTheMiddleOfTheImportanceJobLeavesACorrectResult() throws Exception {
        CalibrationSet cal = calibration(96); // 8 samples per task: tasks still running when the first one ends, on a fast machine too
        int[] bounds = ImportanceEstimator.stabilityBoundaries(cal.size(), 2);
        List<ActivationStats> expected = local(cal, 2, bounds);
        ExecutorRecorder.stdoutLogs.clear();
        // registered when the context starts: executors register while open() waits for the first one, before a
        // listener added afterwards could see them
        try (SparkCluster spark = open(12, "spark.executor.memory", "1g",
                "spark.extraListeners", ExecutorRecorder.class.getName())) {
            CountDownLatch firstTask = new CountDownLatch(1);
            java.util.Map<Long, String> running = new java.util.concurrent.ConcurrentHashMap<>();
            java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();
            spark.context().sc().addSparkListener(new SparkListener() {
                @Override
                public void onTaskStart(org.apache.spark.scheduler.SparkListenerTaskStart start) {
                    running.put(start.taskInfo().taskId(), start.taskInfo().executorId());
                }

                @Override
                public void onTaskEnd(SparkListenerTaskEnd end) {
                    running.remove(end.taskInfo().taskId());
                    if (!end.taskInfo().successful()) {
                        failed.incrementAndGet();
                    }
                    firstTask.countDown();
                }
            });
            CompletableFuture<List<ActivationStats>> job = CompletableFuture.supplyAsync(
                    () -> spark.activationPass(ref).run(cal, 2, bounds, null));
            assertTrue(firstTask.await(10, TimeUnit.MINUTES), "no task finished");
            assertTrue(!job.isDone(), "the job ended before the worker could be killed");
            // kill the worker whose executor is running a task right now
            String victim = null;
            for (int i = 0; i < 600 && victim == null; i++) {
                victim = running.values().stream().filter(ExecutorRecorder.stdoutLogs::containsKey).findFirst()
                        .orElse(null);
                if (victim == null) {
                    Thread.sleep(100);
                }
            }
            assertTrue(victim != null, "no task running on a known executor; executors "
                    + ExecutorRecorder.stdoutLogs + ", running " + running);
            cluster.killWorker(cluster.workerOfLogUrl(ExecutorRecorder.stdoutLogs.get(victim)));
            List<ActivationStats> got = job.get(10, TimeUnit.MINUTES);
            assertSame(expected, got, "importance with a worker killed mid-job");
            assertTrue(failed.get() >= 1, "the killed worker's running task was lost and rerun (lost tasks: "
                    + failed.get() + ")");
            JsonObject j = spark.jobs().get(0).getAsJsonObject();
            assertEquals(12, j.get("partitions").getAsInt());
        }
    }

    /** Records each executor's stdout log URL (which names its worker) from the moment the context starts. */
    public static final class ExecutorRecorder extends SparkListener {
        static final java.util.Map<String, String> stdoutLogs = new java.util.concurrent.ConcurrentHashMap<>();

        @Override
        public void onExecutorAdded(org.apache.spark.scheduler.SparkListenerExecutorAdded e) {
            scala.Option<String> url = e.executorInfo().logUrlMap().get("stdout");
            if (url.isDefined()) {
                stdoutLogs.put(e.executorId(), url.get());
            }
        }
    }
}
