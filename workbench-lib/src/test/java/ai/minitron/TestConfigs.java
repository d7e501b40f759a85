package ai.minitron;

import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;

/**
 * The small model configurations the tests share (random weights make them cheap). Together they switch
 * every feature on somewhere: GQA group sizes 1 to 4, head_dim unequal to hidden / heads, q/k/v/o and
 * MLP biases, Qwen2's q/k/v-only biases, Nemotron's LayerNorm1p, squared ReLU and partial rotary, tied
 * and untied embeddings. A test that needs one particular shape builds it inline with
 * {@link ModelConfig#builder}.
 */
public final class TestConfigs {
    private TestConfigs() {}

    /** Llama with GQA (2 queries per KV head), head_dim != hidden/heads, q/k/v/o and MLP biases, untied. */
    public static ModelConfig llamaBiased() {
        return ModelConfig.builder(Architecture.LLAMA).vocabSize(23).hiddenSize(12).intermediateSize(10)
                .numHiddenLayers(2).numAttentionHeads(4).numKeyValueHeads(2).headDim(4).maxPositionEmbeddings(64)
                .normEps(1e-5).attentionBias(true).mlpBias(true).build();
    }

    /** Nemotron: LayerNorm1p, squared ReLU, partial rotary, tied embeddings, one KV head. */
    public static ModelConfig nemotronTied() {
        return ModelConfig.builder(Architecture.NEMOTRON).vocabSize(19).hiddenSize(8).intermediateSize(12)
                .numHiddenLayers(2).numAttentionHeads(2).numKeyValueHeads(1).headDim(8).maxPositionEmbeddings(64)
                .tieWordEmbeddings(true).build();
    }

    /** Llama, GQA (2 queries per KV head), head_dim 8, SwiGLU, untied: 2 layers, hidden 16, vocab 64. */
    public static ModelConfig llama() {
        return ModelConfig.builder(Architecture.LLAMA).vocabSize(64).hiddenSize(16).intermediateSize(24)
                .numHiddenLayers(2).numAttentionHeads(4).numKeyValueHeads(2).headDim(8).maxPositionEmbeddings(64)
                .normEps(1e-5).build();
    }

    /** Nemotron: LayerNorm1p, squared ReLU, partial rotary, tied embeddings, 3 layers, one KV head, vocab 64. */
    public static ModelConfig nemotron() {
        return ModelConfig.builder(Architecture.NEMOTRON).vocabSize(64).hiddenSize(16).intermediateSize(20)
                .numHiddenLayers(3).numAttentionHeads(4).numKeyValueHeads(1).headDim(8).maxPositionEmbeddings(64)
                .tieWordEmbeddings(true).build();
    }

    /** A teacher-shaped Llama (8 layers, hidden 256, 8 heads over 2 KV heads, head_dim 32, MLP 704, vocab 8192). */
    public static ModelConfig teacherShape() {
        return ModelConfig.builder(Architecture.LLAMA).vocabSize(8192).hiddenSize(256).intermediateSize(704)
                .numHiddenLayers(8).numAttentionHeads(8).numKeyValueHeads(2).headDim(32).maxPositionEmbeddings(512)
                .normEps(1e-5).tieWordEmbeddings(true).build();
    }

    /** Llama, GQA with 3 query heads per KV head, head_dim != hidden/heads, q/k/v/o biases, untied. */
    public static ModelConfig llamaGqa3Biased() {
        return ModelConfig.builder(Architecture.LLAMA).vocabSize(61).hiddenSize(24).intermediateSize(40)
                .numHiddenLayers(2).numAttentionHeads(6).numKeyValueHeads(2).headDim(8).maxPositionEmbeddings(64)
                .normEps(1e-5).attentionBias(true).build();
    }

    /** Qwen2: q/k/v biases without an o bias, 4 query heads per KV head, tied. */
    public static ModelConfig qwen2() {
        return ModelConfig.builder(Architecture.QWEN2).vocabSize(61).hiddenSize(16).intermediateSize(32)
                .numHiddenLayers(2).numAttentionHeads(4).numKeyValueHeads(1).headDim(8).maxPositionEmbeddings(64)
                .ropeTheta(1000000.0).tieWordEmbeddings(true).build();
    }

    /** Nemotron: partial rotary (half of head_dim rotates), LayerNorm1p, squared ReLU, GQA, tied. */
    public static ModelConfig nemotronGqa() {
        return ModelConfig.builder(Architecture.NEMOTRON).vocabSize(61).hiddenSize(16).intermediateSize(24)
                .numHiddenLayers(2).numAttentionHeads(4).numKeyValueHeads(2).headDim(8).maxPositionEmbeddings(64)
                .tieWordEmbeddings(true).build();
    }

    /** A one-layer Llama over the project tokenizer's 8192 ids, for text-level tests. */
    public static ModelConfig textLlama(int maxPositions) {
        return ModelConfig.builder(Architecture.LLAMA).vocabSize(8192).hiddenSize(32).intermediateSize(64)
                .numHiddenLayers(1).numAttentionHeads(4).numKeyValueHeads(2).headDim(8)
                .maxPositionEmbeddings(maxPositions).normEps(1e-5).tieWordEmbeddings(true).build();
    }

    /** Llama over the project tokenizer's 8192 ids, 2 layers, hidden 16, head_dim 4, GQA, context 128 (eval tests). */
    public static ModelConfig evalLlama() {
        return ModelConfig.builder(Architecture.LLAMA).vocabSize(8192).hiddenSize(16).intermediateSize(24)
                .numHiddenLayers(2).numAttentionHeads(4).numKeyValueHeads(2).headDim(4).maxPositionEmbeddings(128)
                .normEps(1e-5).tieWordEmbeddings(true).build();
    }
}
