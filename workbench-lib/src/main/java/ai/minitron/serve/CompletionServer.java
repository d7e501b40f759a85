package ai.minitron.serve;

import ai.minitron.io.Json;
import ai.minitron.tokenize.Tokenizer;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * An OpenAI-compatible completions server over the workbench's models, on Jetty's core HTTP server (no servlets),
 * so that any client of that API, lm-evaluation-harness's {@code local-completions} model first, can score and
 * sample a workbench checkpoint. Routes:
 *
 * <pre>
 *   POST /v1/completions   {@link CompletionRequest}; answer as {@link Completions}, or server-sent events with stream
 *   GET  /v1/models        the served names
 *   GET  /tokenizer_info   POST /tokenize   POST /detokenize   (vLLM's tokenizer endpoints: lm-eval's
 *                          local-completions then tokenises with the served model's own tokenizer, no download)
 *   GET  /health
 * </pre>
 *
 * Bad input is answered with its HTTP status and an OpenAI-style error object ({@link ApiError}) and the server
 * keeps serving: malformed JSON or a body that is not UTF-8 (400, naming the byte offset), an unknown model (404),
 * out-of-range fields (400, naming the field), a body over {@code maxBodyBytes} (413), more than the engine's
 * {@code maxPending} requests at once (429). A client that closes its connection cancels its request (the engine
 * skips it or stops its generation). Work runs on one {@link Engine} thread; HTTP threads only parse and wait.
 */
public final class CompletionServer implements AutoCloseable {
    /** Default body limit: 4 MiB, far above any prompt a 2k-token context can hold. */
    public static final int DEFAULT_MAX_BODY_BYTES = 4 << 20;

    /** A connection idle this long (no request being handled) is closed: 15 minutes. */
    static final long IDLE_TIMEOUT_MS = 15 * 60_000L;

    private final Map<String, ServedModel> models;
    private final Engine engine;
    private final int maxBodyBytes;
    private final Server server;
    private final ServerConnector connector;

    /**
     * @param models served name -> model, the first being the default of the tokenizer endpoints
     * @param maxPending requests queued or running at once before 429
     * @param batchRows prompts per scoring forward pass
     */
    public CompletionServer(Map<String, ServedModel> models, String host, int port, int maxPending, int batchRows,
            int maxBodyBytes) {
        if (models.isEmpty()) {
            throw new IllegalArgumentException("no model to serve");
        }
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("max body bytes must be >= 1, got " + maxBodyBytes);
        }
        this.models = new LinkedHashMap<>(models);
        this.maxBodyBytes = maxBodyBytes;
        this.engine = new Engine(maxPending, batchRows);
        QueuedThreadPool threads = new QueuedThreadPool(Math.max(16, maxPending + 8), 4);
        threads.setName("minitron-serve-http");
        this.server = new Server(threads);
        this.connector = new ServerConnector(server, 1, 1);
        connector.setHost(host);
        connector.setPort(port);
        // A long generation writes nothing until done (unless streamed): no idle timeout cuts it short. Clients that
        // go away are noticed by await's probe instead.
        connector.setIdleTimeout(IDLE_TIMEOUT_MS);
        server.addConnector(connector);
        server.setHandler(new Routes());
    }

    /** Starts listening; {@link #port()} then tells the port (useful with port 0). */
    public CompletionServer start() {
        try {
            server.start();
        } catch (Exception e) {
            engine.close();
            throw new IllegalStateException("cannot listen on " + connector.getHost() + ":" + connector.getPort() + ": "
                    + e.getMessage(), e);
        }
        return this;
    }

    public int port() {
        return connector.getLocalPort();
    }

    public Engine engine() {
        return engine;
    }

    /** Blocks until the server stops. */
    public void join() throws InterruptedException {
        server.join();
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException("stopping the HTTP server: " + e.getMessage(), e);
        } finally {
            engine.close();
        }
    }

    private final class Routes extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            String path = Request.getPathInContext(request);
            String method = request.getMethod();
            try {
                switch (path) {
                    case "/v1/completions" -> {
                        requireMethod(method, "POST", path);
                        completions(request, response, callback);
                    }
                    case "/v1/models" -> {
                        requireMethod(method, "GET", path);
                        send(response, callback, 200, modelList());
                    }
                    case "/tokenizer_info" -> {
                        requireMethod(method, "GET", path);
                        send(response, callback, 200, tokenizerInfo(defaultModel()));
                    }
                    case "/tokenize" -> {
                        requireMethod(method, "POST", path);
                        send(response, callback, 200, tokenize(body(request)));
                    }
                    case "/detokenize" -> {
                        requireMethod(method, "POST", path);
                        send(response, callback, 200, detokenize(body(request)));
                    }
                    case "/health" -> send(response, callback, 200, new JsonObject());
                    default -> throw new ApiError(404, "invalid_request_error", null, "not_found", "no route " + method
                            + " " + path + " (POST /v1/completions, GET /v1/models)");
                }
            } catch (ApiError e) {
                send(response, callback, e.status(), e.body());
            } catch (RuntimeException e) {
                ApiError err = new ApiError(500, "server_error", null, null, "internal error: " + e);
                send(response, callback, 500, err.body());
            }
            return true;
        }
    }

    private void completions(Request request, Response response, Callback callback) {
        CompletionRequest req = CompletionRequest.parse(body(request), models);
        if (!engine.tryAdmit()) {
            throw new ApiError(429, "server_busy", null, "too_many_requests", engine.maxPending()
                    + " requests are already queued or running on this server; retry later");
        }
        try {
            if (req.stream()) {
                stream(request, response, callback, req);
                return;
            }
            Job job = new Job(req, null);
            request.addFailureListener(t -> job.cancel()); // the client went away
            engine.submit(job);
            JsonObject answer = await(job, request);
            send(response, callback, 200, answer);
        } finally {
            engine.release();
        }
    }

    private void stream(Request request, Response response, Callback callback, CompletionRequest req) {
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        OutputStream out = Content.Sink.asOutputStream(response);
        Job job = new Job(req, data -> {
            out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        });
        request.addFailureListener(t -> job.cancel());
        engine.submit(job);
        try {
            await(job);
            out.close();
            callback.succeeded();
        } catch (ApiError | IOException e) {
            callback.failed(e); // the stream has begun: the status cannot change, the connection is closed
        }
    }

    private static JsonObject await(Job job) {
        return await(job, null);
    }

    /**
     * Waits for the job's answer. With {@code request}, a non-streamed request, the connection is probed every
     * 100 ms while waiting: Jetty tells a handler that its client went away only when it reads or writes, and
     * a non-streamed answer writes nothing until done. The request body has been read whole, so the only bytes
     * a well-behaved HTTP/1.1 client could still send before the answer are none (pipelining is not supported
     * while a completion runs); end-of-stream means the client closed the connection: the job is cancelled.
     */
    private static JsonObject await(Job job, Request request) {
        EndPoint endPoint = request == null ? null : request.getConnectionMetaData().getConnection().getEndPoint();
        try {
            if (endPoint != null) {
                ByteBuffer probe = ByteBuffer.allocate(1);
                while (true) {
                    try {
                        return job.result.get(100, TimeUnit.MILLISECONDS);
                    } catch (TimeoutException stillRunning) {
                        probe.clear().flip();
                        int n;
                        try {
                            n = endPoint.fill(probe);
                        } catch (IOException gone) {
                            n = -1;
                        }
                        if (n < 0) {
                            job.cancel();
                        } else if (n > 0) {
                            endPoint = null; // unexpected bytes: stop probing and just wait
                            return job.result.get();
                        }
                    }
                }
            }
            return job.result.get();
        } catch (InterruptedException e) {
            job.cancel();
            Thread.currentThread().interrupt();
            throw new ApiError(503, "server_error", null, "shutting_down", "the server is stopping");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof Job.Cancelled) {
                throw new ApiError(499, "invalid_request_error", null, "cancelled", "the client closed the connection");
            }
            if (c instanceof ApiError a) {
                throw a;
            }
            throw new ApiError(500, "server_error", null, null, "internal error: " + c);
        }
    }

    private ServedModel defaultModel() {
        return models.values().iterator().next();
    }

    private ServedModel modelOf(JsonObject o) {
        JsonElement m = o.get("model");
        if (m == null || m.isJsonNull()) {
            return defaultModel();
        }
        ServedModel s = m.isJsonPrimitive() ? models.get(m.getAsString()) : null;
        if (s == null) {
            throw new ApiError(404, "invalid_request_error", "model", "model_not_found", "the model " + m
                    + " does not exist on this server; served: " + String.join(", ", models.keySet()));
        }
        return s;
    }

    private JsonObject modelList() {
        JsonArray data = new JsonArray();
        for (ServedModel m : models.values()) {
            JsonObject o = new JsonObject();
            o.addProperty("id", m.name());
            o.addProperty("object", "model");
            o.addProperty("created", 0);
            o.addProperty("owned_by", "minitron-workbench");
            o.addProperty("max_model_len", m.contextLength());
            data.add(o);
        }
        JsonObject o = new JsonObject();
        o.addProperty("object", "list");
        o.add("data", data);
        return o;
    }

    private static JsonObject tokenizerInfo(ServedModel m) {
        Tokenizer tok = m.tokenizer();
        JsonObject o = new JsonObject();
        o.addProperty("eos_token", tok.eosTokenId() == null ? null : tok.decode(new long[] {tok.eosTokenId()}));
        o.addProperty("bos_token", tok.bosTokenId() == null ? null : tok.decode(new long[] {tok.bosTokenId()}));
        o.addProperty("pad_token", (String) null);
        o.addProperty("model_max_length", m.contextLength());
        o.addProperty("tokenizer_class", "PreTrainedTokenizerFast");
        return o;
    }

    private JsonObject tokenize(JsonElement body) {
        JsonObject o = object(body);
        ServedModel m = modelOf(o);
        JsonElement p = o.get("prompt");
        if (p == null || !p.isJsonPrimitive() || !p.getAsJsonPrimitive().isString()) {
            throw ApiError.invalid("prompt", "prompt must be a string");
        }
        long[] ids = m.tokenizer().encode(p.getAsString());
        JsonArray tokens = new JsonArray();
        for (long id : ids) {
            tokens.add(id);
        }
        JsonObject out = new JsonObject();
        out.add("tokens", tokens);
        out.addProperty("count", ids.length);
        out.addProperty("max_model_len", m.contextLength());
        return out;
    }

    private JsonObject detokenize(JsonElement body) {
        JsonObject o = object(body);
        ServedModel m = modelOf(o);
        JsonElement t = o.get("tokens");
        if (t == null || !t.isJsonArray()) {
            throw ApiError.invalid("tokens", "tokens must be a list of token ids");
        }
        JsonArray a = t.getAsJsonArray();
        long[] ids = new long[a.size()];
        int vocab = m.tokenizer().vocabSize();
        for (int i = 0; i < ids.length; i++) {
            JsonElement e = a.get(i);
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber() || e.getAsDouble() != Math.rint(e.getAsDouble())
                    || e.getAsDouble() < 0 || e.getAsDouble() >= vocab) {
                throw ApiError.invalid("tokens", "tokens[" + i + "] = " + e + " is not a token id (vocabulary of " + vocab + ")");
            }
            ids[i] = e.getAsLong();
        }
        JsonObject out = new JsonObject();
        out.addProperty("prompt", m.tokenizer().decode(ids));
        return out;
    }

    private static JsonObject object(JsonElement e) {
        if (!e.isJsonObject()) {
            throw ApiError.invalid(null, "the request body must be a JSON object");
        }
        return e.getAsJsonObject();
    }

    private static void requireMethod(String method, String wanted, String path) {
        if (!method.equals(wanted)) {
            throw new ApiError(405, "invalid_request_error", null, "method_not_allowed", path + " takes " + wanted
                    + ", not " + method);
        }
    }

    /** The request body as JSON: at most maxBodyBytes, valid UTF-8, one strict JSON value. */
    private JsonElement body(Request request) {
        long declared = request.getLength();
        if (declared > maxBodyBytes) {
            throw tooLarge(declared);
        }
        byte[] bytes;
        try (InputStream in = Content.Source.asInputStream(request)) {
            bytes = in.readNBytes(maxBodyBytes + 1);
        } catch (IOException e) {
            throw new ApiError(400, "invalid_request_error", null, "unreadable_body", "the request body could not be read: "
                    + e.getMessage());
        }
        if (bytes.length > maxBodyBytes) {
            throw tooLarge(-1);
        }
        String text = utf8(bytes);
        try {
            JsonReader reader = Json.strictReader(text);
            JsonElement e = Json.parse(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new JsonParseException("text after the JSON value");
            }
            return e;
        } catch (JsonParseException | IOException | IllegalStateException e) {
            String why = e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
            throw new ApiError(400, "invalid_request_error", null, "invalid_json", "the request body is not valid JSON: "
                    + why);
        }
    }

    private ApiError tooLarge(long declared) {
        return new ApiError(413, "invalid_request_error", null, "request_too_large", "the request body "
                + (declared >= 0 ? "of " + declared + " bytes " : "") + "exceeds this server's limit of " + maxBodyBytes
                + " bytes");
    }

    /** Decodes strict UTF-8, naming the offset of the first malformed byte. */
    static String utf8(byte[] bytes) {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = d.decode(in, out, true);
        if (r.isError()) {
            throw new ApiError(400, "invalid_request_error", null, "invalid_encoding", "the request body is not UTF-8:"
                    + " malformed byte sequence at byte offset " + in.position());
        }
        r = d.flush(out);
        out.flip();
        return out.toString();
    }

    private static void send(Response response, Callback callback, int status, JsonObject body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        Content.Sink.write(response, true, body.toString() + "\n", callback);
    }

    /** The address the server listens on, for messages. */
    public String url() {
        String host = connector.getHost() == null ? "0.0.0.0" : connector.getHost();
        return "http://" + new InetSocketAddress(host, port()).getHostString() + ":" + port();
    }

    /** Served names, in order. */
    public List<String> modelNames() {
        return List.copyOf(models.keySet());
    }
}
