package ai.minitron.bench;

import ai.minitron.io.Json;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The PyTorch peer of the benchmark: {@code tools/peer_bench.py} (Hugging Face transformers on PyTorch eager,
 * CPU, fp32) as a long-lived worker process, one JSON command per line on its stdin, one JSON answer per line
 * on its stdout (the protocol is documented in the script). Its stderr goes to ours.
 *
 * <p>{@link #ensureVenv} creates the pinned Python environment ({@code tools/requirements-peer.txt}) on first
 * use; nothing else in the workbench needs torch.
 */
public final class PeerProcess implements AutoCloseable {
    private final Process process;
    private final BufferedWriter in;
    private final BufferedReader out;

    private final Thread hook;

    private PeerProcess(Process process) {
        this.process = process;
        this.hook = new Thread(process::destroyForcibly); // no orphaned worker if the JVM is stopped
        Runtime.getRuntime().addShutdownHook(hook);
        this.in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /**
     * The venv's python, creating {@code venv} from {@code requirements} first when it has no python yet (a
     * few minutes: torch is a large download). Progress goes to stderr.
     */
    public static Path ensureVenv(Path venv, Path requirements) {
        Path python = venv.resolve("bin/python");
        Path stamp = venv.resolve(".minitron-peer-requirements");
        try {
            String req = Files.readString(requirements);
            if (Files.isExecutable(python) && Files.isRegularFile(stamp) && Files.readString(stamp).equals(req)) {
                return python;
            }
            System.err.println("bench --peer: installing " + requirements + " into " + venv + " (first use)...");
            run(List.of("python3", "-m", "venv", venv.toString()), "creating the venv " + venv);
            run(List.of(python.toString(), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r",
                    requirements.toString()), "pip install -r " + requirements);
            Files.writeString(stamp, req);
            return python;
        } catch (IOException e) {
            throw new UncheckedIOException("bench --peer: cannot prepare " + venv + ": " + e.getMessage(), e);
        }
    }

    private static void run(List<String> cmd, String what) throws IOException {
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        try {
            int code = p.waitFor();
            if (code != 0) {
                throw new IllegalStateException("bench --peer: " + what + " failed (exit " + code + ")");
            }
        } catch (InterruptedException e) {
            p.destroy();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("bench --peer: interrupted while " + what);
        }
    }

    /** Starts {@code python script} with these extra environment variables. */
    public static PeerProcess start(Path python, Path script, Map<String, String> env) {
        if (!Files.isRegularFile(script)) {
            throw new IllegalArgumentException("bench --peer: the peer script " + script + " does not exist");
        }
        ProcessBuilder pb = new ProcessBuilder(python.toString(), "-u", script.toString());
        pb.environment().putAll(env);
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        try {
            return new PeerProcess(pb.start());
        } catch (IOException e) {
            throw new UncheckedIOException("bench --peer: cannot start " + python + " " + script + ": " + e.getMessage(),
                    e);
        }
    }

    /** Sends one command and waits for its answer; an {@code error} answer becomes an exception. */
    public JsonObject call(JsonObject command) {
        try {
            in.write(command.toString());
            in.write('\n');
            in.flush();
            String line = out.readLine();
            if (line == null) {
                throw new IllegalStateException("bench --peer: the PyTorch worker exited (code "
                        + (process.isAlive() ? "?" : process.exitValue()) + ") during " + command.get("op"));
            }
            JsonElement e = Json.parse(line);
            JsonObject o = e.getAsJsonObject();
            if (o.has("error")) {
                throw new IllegalStateException("bench --peer: PyTorch worker, " + command.get("op") + ": "
                        + o.get("error").getAsString());
            }
            return o;
        } catch (IOException e) {
            throw new UncheckedIOException("bench --peer: talking to the PyTorch worker: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            if (process.isAlive()) {
                JsonObject q = new JsonObject();
                q.addProperty("op", "quit");
                call(q);
            }
        } catch (RuntimeException ignored) {
            // the worker is gone already
        } finally {
            process.destroy();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // already shutting down
            }
        }
    }
}
