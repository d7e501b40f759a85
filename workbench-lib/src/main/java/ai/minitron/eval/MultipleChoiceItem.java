package ai.minitron.eval;

import java.util.List;

/**
 * A multiple-choice item in (almost) lm-evaluation-harness's shape: the model is scored on
 * {@code context + targetDelimiter + choice} for each choice, and should rank {@code choices[gold]}
 * first. JSONL: {@code {"context": ..., "choices": [...], "gold": i}} plus optional
 * {@code "target_delimiter"} (default {@code " "}, lm-eval's default) and {@code "id"}.
 */
public record MultipleChoiceItem(String id, String context, List<String> choices, int gold, String targetDelimiter)
        implements TaskItem {
    public static final String DEFAULT_DELIMITER = " ";

    public MultipleChoiceItem {
        choices = List.copyOf(choices);
        if (choices.size() < 2) {
            throw new IllegalArgumentException("a multiple-choice item needs at least 2 choices, got " + choices.size());
        }
        if (gold < 0 || gold >= choices.size()) {
            throw new IllegalArgumentException("gold " + gold + " outside [0, " + choices.size() + ")");
        }
    }

    public MultipleChoiceItem(String id, String context, List<String> choices, int gold) {
        this(id, context, choices, gold, DEFAULT_DELIMITER);
    }
}
