package ai.minitron.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.RepoData;
import ai.minitron.eval.TokenScorer;
import ai.minitron.generate.GenerationConfig;
import ai.minitron.train.NativeMemory;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Bounded load on loopback: 8 clients for 20 s, each alternating a scoring request (echo + logprobs, what lm-eval
 * sends) and a short greedy generation. Every answer must be complete and equal the library's own numbers; native
 * memory in use (malloc) must stay flat between the middle and the end of the run; latencies are printed, never
 * asserted (a busy machine is not an error).
 */
class ServeLoadTest {
    static final int CLIENTS = 8;
    static final long SECONDS = 20;

    @Test
    void eightClientsGetCompleteCorrectAnswersAndNothingLeaks() throws Exception {
        assertTrue(NativeMemory.mallocStatsAvailable(), "glibc mallinfo2 is needed for this check");
        try (ServedModel teacher = ServedModel.load("teacher", RepoData.dir().resolve("teacher"));
                CompletionServer server = new CompletionServer(Map.of("teacher", teacher), "127.0.0.1", 0, 2 * CLIENTS, 8,
                        CompletionServer.DEFAULT_MAX_BODY_BYTES).start()) {
            ServeTestClient client = new ServeTestClient(server.port());
            String[] prompts = new String[CLIENTS];
            double[] expectedLl = new double[CLIENTS];
            String[] expectedText = new String[CLIENTS];
            for (int i = 0; i < CLIENTS; i++) {
                prompts[i] = "Call me Ishmael. Some years ago, never mind how long precisely, having little money " + i;
                long[] t = teacher.tokenizer().encode(prompts[i]);
                expectedLl[i] = TokenScorer.score(teacher.lm().config(), teacher.lm().weights(), teacher.manager(),
                        List.of(new TokenScorer.Request(t, 1)), 1, null).get(0).logLikelihood();
                expectedText[i] = teacher.generator().generate(prompts[i], GenerationConfig.defaults().withMaxNewTokens(8)).text();
            }
            List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
            List<long[]> memory = Collections.synchronizedList(new ArrayList<>()); // {ms since start, malloc bytes}
            long start = System.nanoTime();
            long end = start + SECONDS * 1_000_000_000L;
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            List<Future<Integer>> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int i = c;
                clients.add(pool.submit(() -> {
                    int done = 0;
                    for (int k = 0; System.nanoTime() < end; k++) {
                        long t0 = System.nanoTime();
                        String body = k % 2 == 0
                                ? "{\"model\":\"teacher\",\"prompt\":\"" + prompts[i] + "\",\"max_tokens\":0,\"echo\":true,\"logprobs\":1}"
                                : "{\"model\":\"teacher\",\"prompt\":\"" + prompts[i] + "\",\"max_tokens\":8,\"temperature\":0}";
                        ServeTestClient.Answer a = client.post("/v1/completions", body);
                        latencies.add(System.nanoTime() - t0);
                        assertEquals(200, a.status(), a.body());
                        JsonObject choice = a.json().getAsJsonArray("choices").get(0).getAsJsonObject();
                        if (k % 2 == 0) {
                            JsonArray tl = choice.getAsJsonObject("logprobs").getAsJsonArray("token_logprobs");
                            double sum = 0;
                            for (int j = 1; j < tl.size(); j++) {
                                sum += tl.get(j).getAsDouble();
                            }
                            assertEquals(expectedLl[i], sum, 1e-4, "client " + i + " scoring");
                            assertEquals(prompts[i], choice.get("text").getAsString());
                        } else {
                            assertEquals(expectedText[i], choice.get("text").getAsString(), "client " + i + " generation");
                            assertEquals("length", choice.get("finish_reason").getAsString());
                        }
                        done++;
                    }
                    return done;
                }));
            }
            while (System.nanoTime() < end) {
                memory.add(new long[] {(System.nanoTime() - start) / 1_000_000, NativeMemory.mallocInUseBytes()});
                Thread.sleep(500);
            }
            int total = 0;
            for (Future<Integer> f : clients) {
                total += f.get();
            }
            pool.shutdown();
            List<Long> sorted = new ArrayList<>(latencies);
            Collections.sort(sorted);
            System.out.printf("load: %d clients x %d s: %d answers, all complete and correct; latency p50 %.0f ms, p95 %.0f ms,"
                    + " max %.0f ms; engine %s%n", CLIENTS, SECONDS, total, sorted.get(sorted.size() / 2) / 1e6,
                    sorted.get(sorted.size() * 95 / 100) / 1e6, sorted.get(sorted.size() - 1) / 1e6, server.engine().stats());
            int n = memory.size();
            long mid = memory.get(n / 2)[1];
            long last = memory.get(n - 1)[1];
            System.out.printf("native memory in use (malloc): %d MB at %d ms, %d MB at %d ms, %d MB at %d ms%n",
                    memory.get(0)[1] >> 20, memory.get(0)[0], mid >> 20, memory.get(n / 2)[0], last >> 20, memory.get(n - 1)[0]);
            assertTrue(total >= CLIENTS, "every client got answers");
            // hundreds of requests each allocate well over 1 MB of native temporaries: a leak would add far more
            assertTrue(last - mid < 48L << 20, "native memory grew by " + ((last - mid) >> 20) + " MB over the second half");
        }
    }
}
