package ai.minitron.serve;

import ai.minitron.io.Json;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A plain HTTP client for the server tests: status and JSON body of one request. */
final class ServeTestClient {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final String base;

    ServeTestClient(int port) {
        this.base = "http://127.0.0.1:" + port;
    }

    record Answer(int status, String body) {
        JsonObject json() {
            return Json.parse(body).getAsJsonObject();
        }

        JsonObject error() {
            return json().getAsJsonObject("error");
        }
    }

    Answer post(String path, String body) {
        return post(path, HttpRequest.BodyPublishers.ofString(body));
    }

    Answer post(String path, byte[] body) {
        return post(path, HttpRequest.BodyPublishers.ofByteArray(body));
    }

    private Answer post(String path, HttpRequest.BodyPublisher body) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofMinutes(5))
                .header("Content-Type", "application/json").POST(body).build());
    }

    Answer get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofMinutes(5)).GET().build());
    }

    private Answer send(HttpRequest r) {
        try {
            HttpResponse<String> res = http.send(r, HttpResponse.BodyHandlers.ofString());
            return new Answer(res.statusCode(), res.body());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
