package ai.minitron.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.RepoData;
import ai.minitron.eval.TokenScorer;
import ai.minitron.generate.GenerationConfig;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The completions server on the embedded teacher: answers equal the library's scoring and generation, every kind
 * of bad input gets its status and an OpenAI-style error while the server keeps serving, requests arriving together
 * are batched, and a client that goes away cancels its work.
 */
class CompletionServerTest {
    static ServedModel teacher;
    static CompletionServer server;
    static ServeTestClient client;
    static final int MAX_PENDING = 3;
    static final int MAX_BODY = 64 * 1024;

    @BeforeAll
    static void start() {
        teacher = ServedModel.load("teacher", RepoData.dir().resolve("teacher"));
        server = new CompletionServer(Map.of("teacher", teacher), "127.0.0.1", 0, MAX_PENDING, 8, MAX_BODY).start();
        client = new ServeTestClient(server.port());
    }

    @AfterAll
    static void stop() {
        server.close();
        teacher.close();
    }

    static String prompt(String p, String more) {
        return "{\"model\":\"teacher\",\"prompt\":" + p + (more.isEmpty() ? "" : "," + more) + "}";
    }

    @Test
    void echoedLogprobsEqualTheLibrarysScoring() {
        String context = "Call me Ishmael. Some years ago";
        String continuation = " I went to sea";
        long[] ctx = teacher.tokenizer().encode(context);
        long[] all = teacher.tokenizer().encode(context + continuation);
        var expected = TokenScorer.score(teacher.lm().config(), teacher.lm().weights(), teacher.manager(),
                List.of(new TokenScorer.Request(all, ctx.length)), 1, null).get(0);
        JsonArray ids = new JsonArray();
        Arrays.stream(all).forEach(ids::add);
        var a = client.post("/v1/completions", prompt(ids.toString(), "\"max_tokens\":1,\"temperature\":0,\"echo\":true,\"logprobs\":1"));
        assertEquals(200, a.status(), a.body());
        JsonObject lp = a.json().getAsJsonArray("choices").get(0).getAsJsonObject().getAsJsonObject("logprobs");
        JsonArray tl = lp.getAsJsonArray("token_logprobs");
        assertEquals(all.length + 1, tl.size(), "prompt tokens + the one generated");
        assertTrue(tl.get(0).isJsonNull(), "the first token has no log-probability");
        double sum = 0;
        boolean greedy = true;
        for (int i = ctx.length; i < all.length; i++) { // lm-eval: token_logprobs[ctxlen:-1]
            sum += tl.get(i).getAsDouble();
            var top = lp.getAsJsonArray("top_logprobs").get(i).getAsJsonObject();
            double best = top.entrySet().stream().mapToDouble(e -> e.getValue().getAsDouble()).max().orElseThrow();
            greedy &= tl.get(i).getAsDouble() == best;
        }
        assertEquals(expected.logLikelihood(), sum, 1e-4);
        assertEquals(expected.greedy(), greedy);
        assertEquals(all.length, lp.getAsJsonArray("tokens").size() - 1);
        assertEquals(0, lp.getAsJsonArray("text_offset").get(0).getAsInt());
        // max_tokens 0 with echo: the prompt alone, the same numbers
        var z = client.post("/v1/completions", prompt(ids.toString(), "\"max_tokens\":0,\"echo\":true,\"logprobs\":0"));
        assertEquals(200, z.status(), z.body());
        JsonArray tz = z.json().getAsJsonArray("choices").get(0).getAsJsonObject().getAsJsonObject("logprobs")
                .getAsJsonArray("token_logprobs");
        assertEquals(all.length, tz.size());
        assertEquals(tl.get(all.length - 1).getAsDouble(), tz.get(all.length - 1).getAsDouble(), 0.0);
    }

    @Test
    void generationEqualsTheGeneratorAndStreamsTheSameText() throws Exception {
        String p = "It was the best of times";
        String expected = teacher.generator().generate(p, GenerationConfig.defaults().withMaxNewTokens(12)).text();
        var a = client.post("/v1/completions", prompt("\"" + p + "\"", "\"max_tokens\":12,\"temperature\":0"));
        assertEquals(200, a.status(), a.body());
        JsonObject choice = a.json().getAsJsonArray("choices").get(0).getAsJsonObject();
        assertEquals(expected, choice.get("text").getAsString());
        assertEquals(12, a.json().getAsJsonObject("usage").get("completion_tokens").getAsInt());
        // logprobs of a generation without echo: the completion's tokens only, scored as the library scores them
        var withLp = client.post("/v1/completions", prompt("\"" + p + "\"", "\"max_tokens\":12,\"temperature\":0,\"logprobs\":3"));
        JsonObject lp = withLp.json().getAsJsonArray("choices").get(0).getAsJsonObject().getAsJsonObject("logprobs");
        assertEquals(12, lp.getAsJsonArray("tokens").size());
        assertEquals(p.length(), lp.getAsJsonArray("text_offset").get(0).getAsInt(), "offsets count from the prompt's start");
        long[] promptIds = teacher.tokenizer().encode(p);
        long[] genIds = teacher.generator().generate(p, GenerationConfig.defaults().withMaxNewTokens(12)).tokens();
        long[] all = Arrays.copyOf(promptIds, promptIds.length + genIds.length);
        System.arraycopy(genIds, 0, all, promptIds.length, genIds.length);
        var score = TokenScorer.score(teacher.lm().config(), teacher.lm().weights(), teacher.manager(),
                List.of(new TokenScorer.Request(all, promptIds.length)), 1, null).get(0);
        double sum = 0;
        for (var e : lp.getAsJsonArray("token_logprobs")) {
            sum += e.getAsDouble();
        }
        assertEquals(score.logLikelihood(), sum, 1e-4);
        for (int i = 0; i < 12; i++) { // greedy: each token is its position's most likely alternative
            JsonObject top = lp.getAsJsonArray("top_logprobs").get(i).getAsJsonObject();
            String token = lp.getAsJsonArray("tokens").get(i).getAsString();
            assertTrue(top.size() >= 1 && top.size() <= 3, top.toString());
            assertEquals(lp.getAsJsonArray("token_logprobs").get(i).getAsDouble(), top.get(token).getAsDouble(), 0.0, top.toString());
        }
        // two prompts in one request: two choices, each as alone
        var two = client.post("/v1/completions", prompt("[\"" + p + "\", \"The sea\"]", "\"max_tokens\":12,\"temperature\":0"));
        assertEquals(200, two.status(), two.body());
        assertEquals(expected, two.json().getAsJsonArray("choices").get(0).getAsJsonObject().get("text").getAsString());
        // streamed: the deltas add up to the same text, then [DONE]
        StringBuilder streamed = new StringBuilder();
        List<String> events = sse(prompt("\"" + p + "\"", "\"max_tokens\":12,\"temperature\":0,\"stream\":true"), -1);
        assertEquals("[DONE]", events.get(events.size() - 1));
        for (String e : events.subList(0, events.size() - 1)) {
            streamed.append(ai.minitron.io.Json.parse(e).getAsJsonObject().getAsJsonArray("choices").get(0)
                    .getAsJsonObject().get("text").getAsString());
        }
        assertEquals(expected, streamed.toString());
        // sampling with a seed is reproducible
        var s1 = client.post("/v1/completions", prompt("\"" + p + "\"", "\"max_tokens\":8,\"temperature\":0.9,\"top_p\":0.9,\"seed\":7"));
        var s2 = client.post("/v1/completions", prompt("\"" + p + "\"", "\"max_tokens\":8,\"temperature\":0.9,\"top_p\":0.9,\"seed\":7"));
        assertEquals(s1.json().get("choices").toString(), s2.json().get("choices").toString());
        // a stop string ends the text before it
        String cut = expected.substring(0, Math.max(1, expected.length() / 2));
        String stop = expected.substring(cut.length(), cut.length() + 1);
        var st = client.post("/v1/completions", prompt("\"" + p + "\"", "\"max_tokens\":12,\"temperature\":0,\"stop\":"
                + new com.google.gson.JsonPrimitive(stop)));
        JsonObject sc = st.json().getAsJsonArray("choices").get(0).getAsJsonObject();
        assertTrue(!sc.get("text").getAsString().contains(stop) && expected.startsWith(sc.get("text").getAsString()), sc.toString());
        assertEquals("stop", sc.get("finish_reason").getAsString());
        var models = client.get("/v1/models");
        assertEquals("teacher", models.json().getAsJsonArray("data").get(0).getAsJsonObject().get("id").getAsString());
    }

    /** Each bad request: its status, the error object's type / param / code, and the server still answers. */
    @Test
    void badInputGetsItsStatusAndAnErrorObjectAndTheServerKeepsServing() {
        long[] longPrompt = new long[600];
        JsonArray lp = new JsonArray();
        Arrays.stream(longPrompt).forEach(lp::add);
        byte[] notUtf8 = "{\"prompt\":\"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1);
        byte[] huge = ("{\"prompt\":\"" + "a".repeat(MAX_BODY) + "\"}").getBytes(StandardCharsets.UTF_8);
        record Bad(String what, ServeTestClient.Answer a, int status, String param, String code) {}
        List<Bad> cases = List.of(
                new Bad("malformed JSON", client.post("/v1/completions", "{\"prompt\": \"x\""), 400, null, "invalid_json"),
                new Bad("trailing garbage", client.post("/v1/completions", "{\"prompt\": \"x\"} x"), 400, null, "invalid_json"),
                new Bad("not an object", client.post("/v1/completions", "[1,2]"), 400, null, null),
                new Bad("unknown model", client.post("/v1/completions", "{\"model\":\"gpt-9\",\"prompt\":\"x\"}"), 404, "model", "model_not_found"),
                new Bad("prompt longer than the context", client.post("/v1/completions", prompt(lp.toString(), "\"max_tokens\":1")), 400, "prompt", "context_length_exceeded"),
                new Bad("prompt + max_tokens over the context", client.post("/v1/completions", prompt("\"x\"", "\"max_tokens\":512")), 400, "prompt", "context_length_exceeded"),
                new Bad("negative max_tokens", client.post("/v1/completions", prompt("\"x\"", "\"max_tokens\":-1")), 400, "max_tokens", null),
                new Bad("absurd max_tokens", client.post("/v1/completions", prompt("\"x\"", "\"max_tokens\":1000000000000")), 400, "max_tokens", "context_length_exceeded"),
                new Bad("fractional max_tokens", client.post("/v1/completions", prompt("\"x\"", "\"max_tokens\":2.5")), 400, "max_tokens", null),
                new Bad("logprobs over the maximum", client.post("/v1/completions", prompt("\"x\"", "\"logprobs\":21")), 400, "logprobs", null),
                new Bad("temperature out of range", client.post("/v1/completions", prompt("\"x\"", "\"temperature\":-1")), 400, "temperature", null),
                new Bad("token id outside the vocabulary", client.post("/v1/completions", prompt("[1, 99999]", "")), 400, "prompt", null),
                new Bad("empty prompt", client.post("/v1/completions", prompt("\"\"", "")), 400, "prompt", null),
                new Bad("missing prompt", client.post("/v1/completions", "{\"model\":\"teacher\"}"), 400, "prompt", null),
                new Bad("non-UTF-8 body", client.post("/v1/completions", notUtf8), 400, null, "invalid_encoding"),
                new Bad("oversized body", client.post("/v1/completions", huge), 413, null, "request_too_large"),
                new Bad("wrong method", client.get("/v1/completions"), 405, null, "method_not_allowed"),
                new Bad("unknown route", client.get("/v2/nothing"), 404, null, "not_found"));
        for (Bad b : cases) {
            assertEquals(b.status(), b.a().status(), b.what() + ": " + b.a().body());
            JsonObject e = b.a().error();
            assertNotNull(e, b.what());
            assertTrue(e.get("message").getAsString().length() > 10, b.what() + ": " + e);
            for (String key : List.of("message", "type", "param", "code")) {
                assertTrue(e.has(key), b.what() + " lacks " + key + ": " + e);
            }
            if (b.param() != null) {
                assertEquals(b.param(), e.get("param").getAsString(), b.what() + ": " + e);
            }
            if (b.code() != null) {
                assertEquals(b.code(), e.get("code").getAsString(), b.what() + ": " + e);
            }
            System.out.printf("%-40s %d %s%n", b.what(), b.a().status(), e.get("message").getAsString());
        }
        assertTrue(cases.get(14).a().error().get("message").getAsString().contains("byte offset 14"), cases.get(14).a().body());
        var ok = client.post("/v1/completions", prompt("\"Call me\"", "\"max_tokens\":2"));
        assertEquals(200, ok.status(), "the server still serves after bad input: " + ok.body());
    }

    @Test
    void tooManyConcurrentRequestsAre429AndTheRestComplete() throws Exception {
        int n = 3 * MAX_PENDING + 2;
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<ServeTestClient.Answer>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                fs.add(pool.submit(() -> client.post("/v1/completions", prompt("\"The whale\"", "\"max_tokens\":40,\"temperature\":0"))));
            }
            int ok = 0;
            int busy = 0;
            for (var f : fs) {
                var a = f.get();
                if (a.status() == 200) {
                    ok++;
                    assertEquals(40, a.json().getAsJsonObject("usage").get("completion_tokens").getAsInt(), a.body());
                } else {
                    assertEquals(429, a.status(), a.body());
                    assertEquals("too_many_requests", a.error().get("code").getAsString());
                    busy++;
                }
            }
            System.out.printf("%d concurrent requests, at most %d pending: %d answered, %d refused with 429%n", n,
                    MAX_PENDING, ok, busy);
            assertTrue(busy > 0, "more requests than slots at once must see 429");
            assertTrue(ok >= 1, "admitted requests complete");
        } finally {
            pool.shutdownNow();
        }
        assertEquals(200, client.post("/v1/completions", prompt("\"x\"", "\"max_tokens\":1")).status());
    }

    @Test
    void scoringRequestsThatArriveTogetherShareAForwardPass() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            // a long generation keeps the engine busy while the scoring requests queue up behind it
            long gens = server.engine().generations.get();
            Future<ServeTestClient.Answer> gen = pool.submit(() -> client.post("/v1/completions",
                    prompt("\"The whale\"", "\"max_tokens\":100,\"temperature\":0")));
            waitFor(() -> server.engine().generations.get() > gens, "the generation to start");
            List<Future<ServeTestClient.Answer>> fs = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                String p = "\"Call me Ishmael " + i + "\"";
                fs.add(pool.submit(() -> client.post("/v1/completions", prompt(p, "\"max_tokens\":0,\"echo\":true,\"logprobs\":1"))));
            }
            for (var f : fs) {
                assertEquals(200, f.get().status(), f.get().body());
            }
            assertEquals(200, gen.get().status());
        } finally {
            pool.shutdownNow();
        }
        assertTrue(server.engine().largestBatchRequests.get() >= 2, "scoring requests queued together are batched: "
                + server.engine().stats());
    }

    @Test
    void aClientThatGoesAwayCancelsItsWork() throws Exception {
        long cancelledBefore = server.engine().cancelled.get();
        long tokensBefore = server.engine().generatedTokens.get();
        // streamed: read two events, then hang up
        List<String> events = sse(prompt("\"The whale\"", "\"max_tokens\":400,\"temperature\":0,\"stream\":true"), 2);
        assertEquals(2, events.size());
        waitFor(() -> server.engine().cancelled.get() > cancelledBefore, "the hung-up stream to be cancelled");
        assertEquals(cancelledBefore + 1, server.engine().cancelled.get(), "the hung-up stream is cancelled");
        assertEquals(tokensBefore, server.engine().generatedTokens.get(), "a cancelled generation completes no tokens");
        // not streamed: the connection closes while the request is being generated
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            byte[] body = prompt("\"The whale\"", "\"max_tokens\":400,\"temperature\":0").getBytes(StandardCharsets.UTF_8);
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            long gens = server.engine().generations.get(); // read before the request can start
            out.write(body);
            out.flush();
            waitFor(() -> server.engine().generations.get() > gens, "the generation to start");
        }
        waitFor(() -> server.engine().cancelled.get() > cancelledBefore + 1, "the closed connection's request to be cancelled");
        assertEquals(cancelledBefore + 2, server.engine().cancelled.get(), "the closed connection's request is cancelled");
        assertEquals(200, client.post("/v1/completions", prompt("\"x\"", "\"max_tokens\":1")).status());
    }

    /** Waits until {@code done} holds; fails after 10 minutes of stalled work (never a timing assertion). */
    static void waitFor(java.util.function.BooleanSupplier done, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 600_000_000_000L;
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "stalled waiting for " + what + ": " + server.engine().stats());
            Thread.sleep(5);
        }
    }

    /** The data of the server-sent events of a streamed request; stops (and hangs up) after {@code limit} if >= 0. */
    static List<String> sse(String body, int limit) throws Exception {
        List<String> events = new ArrayList<>();
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
                    + "Content-Length: " + b.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(b);
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            String status = in.readLine();
            assertTrue(status.contains(" 200"), status);
            for (String line; (line = in.readLine()) != null; ) {
                if (line.startsWith("data: ")) {
                    events.add(line.substring(6));
                    if (events.size() == limit || line.equals("data: [DONE]")) {
                        break;
                    }
                }
            }
        }
        return events;
    }
}
