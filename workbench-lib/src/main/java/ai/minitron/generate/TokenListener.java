package ai.minitron.generate;

import java.util.function.Consumer;

/**
 * Streaming: called once per generated token, as soon as it is chosen. {@code textDelta} is the text
 * that token adds to the row's continuation: possibly empty while a multi-byte character is still
 * incomplete or while the text could be the start of a stop string (that text is never shown if the
 * stop string completes). Concatenating a row's deltas gives its final {@link Generation#text()}.
 *
 * <p>In a notebook: {@code var h = display(""); generator.generate(prompt, cfg, h::append);}
 */
@FunctionalInterface
public interface TokenListener {
    /** @param row index of the prompt in the list given to the generator */
    void onToken(int row, long token, String textDelta);

    /** Called once per row when it stops, with its finished result. */
    default void onFinish(int row, Generation result) {}

    /** A listener that passes every non-empty text delta of every row to {@code sink}. */
    static TokenListener text(Consumer<String> sink) {
        return (row, token, delta) -> {
            if (!delta.isEmpty()) {
                sink.accept(delta);
            }
        };
    }

    /** Ignores everything. */
    TokenListener NONE = (row, token, delta) -> {};
}
