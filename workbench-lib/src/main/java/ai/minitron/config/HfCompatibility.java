package ai.minitron.config;

/**
 * Shapes Hugging Face transformers refuses to load, so the workbench never exports them. transformers
 * 5.x {@code LlamaConfig.validate_architecture} raises "The hidden size (H) is not a multiple of the
 * number of attention heads (A)" whenever {@code hidden_size % num_attention_heads != 0}, even with an
 * explicit {@code head_dim} (4.x Llama and Mistral attention required {@code head_dim * heads ==
 * hidden_size} when head_dim was absent; our config.json always states head_dim). The rule is applied
 * to the Llama family (LlamaForCausalLM, MistralForCausalLM); Qwen2 and Nemotron configs carry no such
 * check (their head_dim stands on its own).
 */
public final class HfCompatibility {
    private HfCompatibility() {}

    /** The rule, for space descriptions and messages. */
    public static final String RULE = "hidden_size a multiple of num_attention_heads (transformers refuses other"
            + " Llama/Mistral shapes)";

    /** True when transformers loads a config of {@code arch} with this hidden size and head count. */
    public static boolean loadable(Architecture arch, int hiddenSize, int numAttentionHeads) {
        return !appliesTo(arch) || hiddenSize % numAttentionHeads == 0;
    }

    /** True when the rule constrains {@code arch}. */
    public static boolean appliesTo(Architecture arch) {
        return arch == Architecture.LLAMA || arch == Architecture.MISTRAL;
    }

    /** Throws, naming the shape and the rule, when transformers would refuse {@code c}; {@code what} starts the message. */
    public static void check(ModelConfig c, String what) {
        if (!loadable(c.architecture(), c.hiddenSize(), c.numAttentionHeads())) {
            throw new IllegalArgumentException(what + ": hidden size " + c.hiddenSize() + " is not a multiple of the "
                    + c.numAttentionHeads() + " attention heads; Hugging Face transformers refuses to load such a "
                    + c.architecture().hfClass() + " (rule: " + RULE + ")");
        }
    }
}
