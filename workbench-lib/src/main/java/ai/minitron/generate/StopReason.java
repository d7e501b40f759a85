package ai.minitron.generate;

/** Why a sequence stopped growing. */
public enum StopReason {
    /** It produced an end-of-sequence token id (kept as the last token; not part of the text). */
    EOS,
    /** Its text came to contain a stop string (the text ends before it). */
    STOP_STRING,
    /** Its text so far met the caller's stop condition (e.g. a completed word); the text is kept whole. */
    STOP_CONDITION,
    /** It reached the maximum number of new tokens. */
    MAX_NEW_TOKENS,
    /** It reached the model's context length (max_position_embeddings). */
    CONTEXT_FULL
}
