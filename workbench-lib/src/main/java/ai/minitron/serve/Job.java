package ai.minitron.serve;

import com.google.gson.JsonObject;
import java.util.concurrent.CompletableFuture;

/**
 * One admitted completion request on its way through the {@link Engine}: the checked request, where a streamed
 * answer goes (or null), whether the client has gone away, and the answer once done.
 */
final class Job {
    final CompletionRequest request;
    final StreamSink stream;
    final CompletableFuture<JsonObject> result = new CompletableFuture<>();
    private volatile boolean cancelled;

    Job(CompletionRequest request, StreamSink stream) {
        this.request = request;
        this.stream = stream;
    }

    /** The client went away: work not yet done is skipped, generation stops at its next token. */
    void cancel() {
        cancelled = true;
    }

    boolean cancelled() {
        return cancelled;
    }

    /** Where server-sent events of a streamed answer are written. */
    interface StreamSink {
        /** Writes one event ({@code data: JSON}) and flushes; throws when the client is gone. */
        void event(String data) throws java.io.IOException;
    }

    /** Thrown inside generation to stop a job whose client went away. */
    static final class Cancelled extends RuntimeException {
        Cancelled() {
            super("the client closed the connection", null, false, false);
        }
    }
}
