package ai.minitron.eval;

/** One item of an evaluation task file: {@link MultipleChoiceItem} or {@link LastWordItem}. */
public sealed interface TaskItem permits MultipleChoiceItem, LastWordItem {
    /** The item's id in its file (e.g. where it was built from), or the line number when it has none. */
    String id();

    String context();
}
