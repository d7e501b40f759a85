package ai.minitron.spark;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Spark standalone cluster on this machine, for tests: a Master and N Workers, each its own JVM on the
 * loopback interface, started from the Spark jars already on the test classpath (Maven's repository, no
 * download). Workers launch executors the standalone way (ExecutorRunner): java with the jars of
 * {@code SPARK_HOME/jars}, so a temporary SPARK_HOME holds {@code jars/} (links to the classpath's jars) and an
 * empty {@code conf/}. {@link #close} kills every process it started and their children (executors).
 */
final class StandaloneCluster implements AutoCloseable {
    final Path home;
    final int port;
    final int uiPort;
    private final Process master;
    final List<Process> workers = new ArrayList<>();
    final List<Integer> workerUiPorts = new ArrayList<>();
    private final List<ProcessHandle> all = new ArrayList<>();

    StandaloneCluster(int workerCount, int workerCores, String workerMemory) throws IOException, InterruptedException {
        home = Files.createTempDirectory("minitron-spark-home");
        Path jars = Files.createDirectories(home.resolve("jars"));
        Files.createDirectories(home.resolve("conf"));
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(e);
            if (e.endsWith(".jar") && Files.isRegularFile(p) && !Files.exists(jars.resolve(p.getFileName()))) {
                Files.createSymbolicLink(jars.resolve(p.getFileName()), p.toAbsolutePath());
            }
        }
        port = freePort();
        uiPort = freePort();
        master = start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                String.valueOf(port), "--webui-port", String.valueOf(uiPort));
        awaitPort(port, 120);
        for (int i = 0; i < workerCount; i++) {
            startWorker(workerCores, workerMemory);
        }
        awaitWorkers(workerCount, 120);
    }

    String url() {
        return "spark://127.0.0.1:" + port;
    }

    Process startWorker(int cores, String memory) throws IOException {
        int i = workers.size();
        Path work = Files.createDirectories(home.resolve("work-" + i));
        int ui = freePort();
        Process w = start("worker-" + i, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores",
                String.valueOf(cores), "--memory", memory, "--webui-port", String.valueOf(ui), "--work-dir",
                work.toString(), url());
        workers.add(w);
        workerUiPorts.add(ui);
        return w;
    }

    private Process start(String name, String mainClass, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx512m");
        cmd.addAll(List.of("--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
                "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/java.util=ALL-UNNAMED",
                "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED", "-Dio.netty.tryReflectionSetAccessible=true"));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(home.resolve(name + ".log").toFile());
        pb.environment().put("SPARK_HOME", home.toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().put("DJL_OFFLINE", "true");
        Process p = pb.start();
        all.add(p.toHandle());
        return p;
    }

    /** Kills a worker JVM (SIGKILL, as a lost machine); its executors see the worker gone and exit. */
    void killWorker(int i) {
        Process w = workers.get(i);
        List<ProcessHandle> children = w.descendants().toList();
        all.addAll(children);
        w.destroyForcibly();
    }

    /** The worker whose web UI an executor's log URL points to (standalone log URLs name the worker's UI port). */
    int workerOfLogUrl(String url) {
        for (int i = 0; i < workerUiPorts.size(); i++) {
            if (url.contains(":" + workerUiPorts.get(i) + "/")) {
                return i;
            }
        }
        throw new IllegalArgumentException("no worker serves " + url + " (worker UI ports " + workerUiPorts + ")");
    }

    String log(String name) {
        try {
            return Files.readString(home.resolve(name + ".log"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void awaitPort(int p, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", p), 1000);
                return;
            } catch (IOException e) {
                if (!master.isAlive()) {
                    throw new IllegalStateException("the Spark master exited: " + log("master"));
                }
                Thread.sleep(300);
            }
        }
        throw new IllegalStateException("the Spark master did not listen on " + p + " within " + seconds + " s: "
                + log("master"));
    }

    /** Waits until the master's web UI lists {@code n} ALIVE workers. */
    void awaitWorkers(int n, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        int alive = 0;
        while (System.nanoTime() < deadline) {
            alive = aliveWorkers();
            if (alive >= n) {
                return;
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException(alive + " of " + n + " workers registered within " + seconds + " s: "
                + log("worker-0"));
    }

    int aliveWorkers() {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + uiPort + "/json/").toURL()
                    .openConnection();
            c.setConnectTimeout(1000);
            c.setReadTimeout(2000);
            String json;
            try (InputStream in = c.getInputStream()) {
                json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            Matcher m = Pattern.compile("\"state\"\\s*:\\s*\"ALIVE\"").matcher(json);
            int k = 0;
            while (m.find()) {
                k++;
            }
            return k;
        } catch (IOException e) {
            return 0;
        }
    }

    @Override
    public void close() {
        List<ProcessHandle> everything = new ArrayList<>(all);
        for (ProcessHandle h : all) {
            everything.addAll(h.descendants().toList());
        }
        for (ProcessHandle h : everything) {
            h.destroyForcibly();
        }
        for (ProcessHandle h : everything) {
            try {
                h.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                // already gone or stuck: nothing more to do
            }
        }
        try {
            ai.minitron.io.FileTrees.delete(home);
        } catch (IOException e) {
            // a temporary directory
        }
    }
}
