package ai.minitron.config;

import java.util.Arrays;

/**
 * The decoder-only model families the workbench loads, keyed by the Hugging Face
 * {@code architectures[0]} class name and {@code model_type} of a {@code config.json}.
 *
 * <p>They differ only in small, explicit ways that {@link ModelConfig} exposes as derived
 * properties: the norm (RMSNorm vs Nemotron's LayerNorm1p), the MLP (SwiGLU vs squared-ReLU,
 * non-gated), which projections carry biases (Qwen2: q/k/v only) and partial rotary embeddings.
 */
public enum Architecture {
    LLAMA("LlamaForCausalLM", "llama"),
    MISTRAL("MistralForCausalLM", "mistral"),
    QWEN2("Qwen2ForCausalLM", "qwen2"),
    NEMOTRON("NemotronForCausalLM", "nemotron");

    private final String hfClass;
    private final String modelType;

    Architecture(String hfClass, String modelType) {
        this.hfClass = hfClass;
        this.modelType = modelType;
    }

    /** The Hugging Face model class, e.g. {@code LlamaForCausalLM}. */
    public String hfClass() {
        return hfClass;
    }

    /** The Hugging Face {@code model_type}, e.g. {@code llama}. */
    public String modelType() {
        return modelType;
    }

    /** Nemotron uses LayerNorm with a bias and a (1 + weight) scale; the others use RMSNorm. */
    public boolean usesLayerNorm1p() {
        return this == NEMOTRON;
    }

    /** Looks an architecture up by HF class name or model_type; throws naming the value if unknown. */
    public static Architecture fromHf(String classOrModelType, String where) {
        for (Architecture a : values()) {
            if (a.hfClass.equals(classOrModelType) || a.modelType.equals(classOrModelType)) {
                return a;
            }
        }
        throw new ConfigException(where + ": unsupported architecture '" + classOrModelType
                + "' (supported: " + Arrays.toString(Arrays.stream(values()).map(Architecture::hfClass).toArray())
                + ")");
    }
}
