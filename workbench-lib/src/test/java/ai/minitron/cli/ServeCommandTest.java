package ai.minitron.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.RepoData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code minitron serve}: refuses bad options with one line; serves the teacher until interrupted. */
class ServeCommandTest {
    static final String TEACHER = RepoData.dir().resolve("teacher").toString();

    @Test
    void badOptionsAreRefusedNamingTheOption() {
        CliRun r = CliRun.of("serve", "--model", "/nonexistent/model");
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("is not a checkpoint directory"), r.err());
        r = CliRun.of("serve", "--model", TEACHER, "--model", TEACHER);
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("'teacher' is already served"), r.err());
        r = CliRun.of("serve", "--model", TEACHER, "--port", "70000");
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("--port must be in 0..65535"), r.err());
        r = CliRun.of("serve", "--model", TEACHER, "--max-pending", "0");
        assertTrue(r.err().contains("--max-pending must be >= 1"), r.err());
    }

    @Test
    void servesTheNamedModelUntilInterrupted() throws Exception {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int[] code = {-1};
        Thread t;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            t = new Thread(() -> code[0] = Main.run("serve", "--model", "moby=" + TEACHER, "--model", "second=" + TEACHER,
                    "--port", "0"));
            t.start();
            Pattern listening = Pattern.compile("listening on (http://127\\.0\\.0\\.1:\\d+)/v1");
            Matcher m = null;
            for (int i = 0; i < 1200 && (m == null || !m.find()); i++) {
                Thread.sleep(100);
                m = listening.matcher(out.toString(StandardCharsets.UTF_8));
            }
            assertTrue(m != null && m.find(0), out.toString(StandardCharsets.UTF_8));
            String base = m.group(1);
            HttpResponse<String> models = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(base + "/v1/models")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, models.statusCode());
            assertTrue(models.body().contains("\"id\":\"moby\"") && models.body().contains("\"id\":\"second\""),
                    models.body());
            for (String name : new String[] {"moby", "second"}) {
                HttpResponse<String> c = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + name + "\",\"prompt\":\"Call me\",\"max_tokens\":2}"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, c.statusCode(), c.body());
                assertTrue(c.body().contains("\"model\":\"" + name + "\""), c.body());
            }
            t.interrupt();
            t.join(60_000);
        } finally {
            System.setOut(old);
        }
        assertEquals(0, code[0], out.toString(StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("serving moby"), out.toString(StandardCharsets.UTF_8));
    }
}
