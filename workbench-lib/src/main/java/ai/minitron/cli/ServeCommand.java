package ai.minitron.cli;

import ai.minitron.serve.CompletionRequest;
import ai.minitron.serve.CompletionServer;
import ai.minitron.serve.ServedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code minitron serve}: the models behind an OpenAI-compatible completions API ({@link CompletionServer}), e.g.
 * for lm-evaluation-harness's {@code local-completions}. Runs until stopped (Ctrl-C).
 */
@Command(name = "serve", description = "Serve models over an OpenAI-compatible completions API (POST /v1/completions,"
        + " GET /v1/models; scoring with echo + logprobs, generation, streaming) until stopped.")
final class ServeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, description = "Checkpoint directory, served under its directory name,"
            + " or NAME=DIR; repeat for several models (the first is the default of the tokenizer endpoints).")
    List<String> models;

    @Option(names = "--port", defaultValue = "8000", description = "TCP port (default ${DEFAULT-VALUE}; 0 = any free port).")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default ${DEFAULT-VALUE}:"
            + " this machine only; 0.0.0.0 = every interface).")
    String host;

    @Option(names = "--max-pending", defaultValue = "32", description = "Requests queued or running at once; more are"
            + " answered 429 (default ${DEFAULT-VALUE}).")
    int maxPending;

    @Option(names = "--batch-size", defaultValue = "8", description = "Prompts per scoring forward pass, across requests"
            + " (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--max-body-bytes", defaultValue = "" + CompletionServer.DEFAULT_MAX_BODY_BYTES,
            description = "Largest request body; larger ones are answered 413 (default ${DEFAULT-VALUE}).")
    int maxBodyBytes;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--port must be in 0..65535, got " + port);
        }
        for (var o : new Object[][] {{"--max-pending", maxPending}, {"--batch-size", batchSize}, {"--max-body-bytes", maxBodyBytes}}) {
            if ((int) o[1] < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), o[0] + " must be >= 1, got " + o[1]);
            }
        }
        Map<String, Path> dirs = new LinkedHashMap<>();
        for (String m : models) {
            String name = ServedModel.nameOf(m);
            Path dir = ServedModel.dirOf(m);
            if (!Files.isRegularFile(dir.resolve("config.json"))) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--model " + m + ": " + dir
                        + " is not a checkpoint directory (no config.json)");
            }
            if (dirs.put(name, dir) != null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--model " + m + ": the name '" + name
                        + "' is already served; give one NAME=DIR");
            }
        }
        Map<String, ServedModel> served = new LinkedHashMap<>();
        try {
            for (var e : dirs.entrySet()) {
                served.put(e.getKey(), ServedModel.load(e.getKey(), e.getValue()));
            }
            try (CompletionServer server = new CompletionServer(served, host, port, maxPending, batchSize, maxBodyBytes)) {
                server.start();
                Thread hook = new Thread(server::close, "minitron-serve-shutdown");
                Runtime.getRuntime().addShutdownHook(hook);
                for (ServedModel m : served.values()) {
                    System.out.printf("serving %s (%s, context %d tokens)%n", m.name(), m.dir(), m.contextLength());
                }
                System.out.printf("listening on %s/v1 (POST /v1/completions, GET /v1/models; at most %d requests at once,"
                        + " bodies up to %d bytes, logprobs up to %d); Ctrl-C stops%n", server.url(), maxPending,
                        maxBodyBytes, CompletionRequest.MAX_LOGPROBS);
                System.out.flush();
                try {
                    server.join();
                } catch (InterruptedException stop) {
                    // stopped from inside the JVM: shut down cleanly below (the flag would abort Jetty's own stop)
                } finally {
                    try {
                        Runtime.getRuntime().removeShutdownHook(hook);
                    } catch (IllegalStateException shuttingDown) {
                        // the hook is already running
                    }
                }
            }
        } finally {
            for (ServedModel m : served.values()) {
                m.close();
            }
        }
        return 0;
    }
}
