package ai.minitron.eval;

/**
 * A last-word (LAMBADA-style) item: a passage without its final word, and that word. The passage
 * continues with {@code " " + target}. JSONL: {@code {"context": ..., "target": ...}} plus optional
 * {@code "id"}; the target is one word (no whitespace).
 */
public record LastWordItem(String id, String context, String target) implements TaskItem {
    public LastWordItem {
        if (context.isBlank()) {
            throw new IllegalArgumentException("a last-word item needs a context");
        }
        if (target.isEmpty() || target.codePoints().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("the target must be one word without whitespace, got \"" + target + "\"");
        }
    }
}
