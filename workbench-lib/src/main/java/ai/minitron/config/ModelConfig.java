package ai.minitron.config;

import ai.minitron.io.Json;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Set;

/**
 * The shape of a decoder-only language model, read from and written to a Hugging Face
 * {@code config.json} (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, NemotronForCausalLM).
 *
 * <p>Field names follow the HF config keys. {@code headDim} is independent of
 * {@code hiddenSize / numAttentionHeads}: Minitron prunes hidden channels and attention heads but
 * never a head's width, so after pruning the two no longer agree. Keys we do not model are kept in
 * {@code extras} and written back unchanged, so a load/save round trip loses nothing.
 *
 * @param hiddenAct "silu" (SwiGLU: down(silu(gate(x)) * up(x))) or "relu2" (Nemotron: down(relu(up(x))^2))
 * @param attentionBias HF's {@code attention_bias}: biases on q/k/v/o (Llama, Nemotron); Qwen2 always
 *     has q/k/v biases and no o bias regardless of this flag
 */
public record ModelConfig(
        Architecture architecture,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        int maxPositionEmbeddings,
        double ropeTheta,
        double partialRotaryFactor,
        double normEps,
        String hiddenAct,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        boolean mlpBias,
        String torchDtype,
        JsonObject extras) {

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create();

    /** Keys this record owns; everything else in config.json is preserved in {@link #extras}. */
    private static final Set<String> OWNED = Set.of("architectures", "model_type", "vocab_size", "hidden_size",
            "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim",
            "max_position_embeddings", "rope_theta", "partial_rotary_factor", "rms_norm_eps", "norm_eps",
            "hidden_act", "tie_word_embeddings", "attention_bias", "mlp_bias", "torch_dtype", "dtype");

    public ModelConfig {
        String where = "config";
        requirePositive(vocabSize, "vocab_size", where);
        requirePositive(hiddenSize, "hidden_size", where);
        requirePositive(intermediateSize, "intermediate_size", where);
        requirePositive(numAttentionHeads, "num_attention_heads", where);
        requirePositive(numKeyValueHeads, "num_key_value_heads", where);
        requirePositive(headDim, "head_dim", where);
        if (numHiddenLayers < 0) {
            throw new ConfigException(where + ": num_hidden_layers must be >= 0, got " + numHiddenLayers);
        }
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new ConfigException(where + ": num_attention_heads (" + numAttentionHeads
                    + ") must be a multiple of num_key_value_heads (" + numKeyValueHeads + ")");
        }
        if (!(partialRotaryFactor > 0 && partialRotaryFactor <= 1)) {
            throw new ConfigException(where + ": partial_rotary_factor must be in (0, 1], got " + partialRotaryFactor);
        }
        if (rotaryDim(headDim, partialRotaryFactor) % 2 != 0) {
            throw new ConfigException(where + ": head_dim * partial_rotary_factor must be even, got "
                    + headDim + " * " + partialRotaryFactor);
        }
        if (!(ropeTheta > 0) || Double.isInfinite(ropeTheta)) {
            throw new ConfigException(where + ": rope_theta must be a finite number > 0, got " + ropeTheta);
        }
        if (!(normEps > 0) || Double.isInfinite(normEps)) {
            throw new ConfigException(where + ": " + (architecture.usesLayerNorm1p() ? "norm_eps" : "rms_norm_eps")
                    + " must be a finite number > 0, got " + normEps);
        }
        if (!hiddenAct.equals("silu") && !hiddenAct.equals("relu2")) {
            throw new ConfigException(where + ": unsupported hidden_act '" + hiddenAct + "' (supported: silu, relu2)");
        }
        extras = extras == null ? new JsonObject() : extras.deepCopy();
    }

    private static void requirePositive(int v, String field, String where) {
        if (v <= 0) {
            throw new ConfigException(where + ": " + field + " must be positive, got " + v);
        }
    }

    // ---- derived properties (the only places architecture differences live) ----

    /** Query heads that share one key/value head (GQA group size). */
    public int queriesPerKvHead() {
        return numAttentionHeads / numKeyValueHeads;
    }

    /** Channels of each head that RoPE rotates: head_dim * partial_rotary_factor (Nemotron: 0.5). */
    public int rotaryDim() {
        return rotaryDim(headDim, partialRotaryFactor);
    }

    private static int rotaryDim(int headDim, double factor) {
        return (int) (headDim * factor);
    }

    /** SwiGLU (gate_proj + up_proj) unless the MLP is Nemotron's non-gated squared ReLU. */
    public boolean gatedMlp() {
        return hiddenAct.equals("silu");
    }

    public boolean layerNorm1p() {
        return architecture.usesLayerNorm1p();
    }

    public boolean qkvBias() {
        return architecture == Architecture.QWEN2 || attentionBias;
    }

    public boolean oBias() {
        return architecture != Architecture.QWEN2 && attentionBias;
    }

    // ---- named construction ----

    /**
     * A builder with Hugging Face's defaults for {@code a} (the ones {@link #fromJson} applies to a missing
     * key); the shape (vocabulary, hidden, MLP, layers, heads, KV heads, head_dim) has no default.
     */
    public static Builder builder(Architecture a) {
        return new Builder(a);
    }

    /** A builder holding this configuration, to change some fields. */
    public Builder toBuilder() {
        return new Builder(architecture).vocabSize(vocabSize).hiddenSize(hiddenSize)
                .intermediateSize(intermediateSize).numHiddenLayers(numHiddenLayers)
                .numAttentionHeads(numAttentionHeads).numKeyValueHeads(numKeyValueHeads).headDim(headDim)
                .maxPositionEmbeddings(maxPositionEmbeddings).ropeTheta(ropeTheta)
                .partialRotaryFactor(partialRotaryFactor).normEps(normEps).hiddenAct(hiddenAct)
                .tieWordEmbeddings(tieWordEmbeddings).attentionBias(attentionBias).mlpBias(mlpBias)
                .torchDtype(torchDtype).extras(extras);
    }

    public ModelConfig withShape(int hidden, int intermediate, int layers, int heads, int kvHeads) {
        return toBuilder().hiddenSize(hidden).intermediateSize(intermediate).numHiddenLayers(layers)
                .numAttentionHeads(heads).numKeyValueHeads(kvHeads).build();
    }

    public ModelConfig withTorchDtype(String dtype) {
        return toBuilder().torchDtype(dtype).build();
    }

    /** Names each field of a {@link ModelConfig}; {@link #build} validates as the record does. */
    public static final class Builder {
        private final Architecture architecture;
        private int vocabSize;
        private int hiddenSize;
        private int intermediateSize;
        private int numHiddenLayers;
        private int numAttentionHeads;
        private int numKeyValueHeads;
        private int headDim;
        private int maxPositionEmbeddings = 2048;
        private double ropeTheta = 10000.0;
        private double partialRotaryFactor;
        private double normEps;
        private String hiddenAct;
        private boolean tieWordEmbeddings;
        private boolean attentionBias;
        private boolean mlpBias;
        private String torchDtype = "float32";
        private JsonObject extras;

        private Builder(Architecture a) {
            boolean nemotron = a == Architecture.NEMOTRON;
            this.architecture = a;
            this.partialRotaryFactor = nemotron ? 0.5 : 1.0;
            this.normEps = nemotron ? 1e-5 : 1e-6;
            this.hiddenAct = nemotron ? "relu2" : "silu";
        }

        public Builder vocabSize(int v) {
            this.vocabSize = v;
            return this;
        }

        public Builder hiddenSize(int v) {
            this.hiddenSize = v;
            return this;
        }

        public Builder intermediateSize(int v) {
            this.intermediateSize = v;
            return this;
        }

        public Builder numHiddenLayers(int v) {
            this.numHiddenLayers = v;
            return this;
        }

        public Builder numAttentionHeads(int v) {
            this.numAttentionHeads = v;
            return this;
        }

        public Builder numKeyValueHeads(int v) {
            this.numKeyValueHeads = v;
            return this;
        }

        public Builder headDim(int v) {
            this.headDim = v;
            return this;
        }

        public Builder maxPositionEmbeddings(int v) {
            this.maxPositionEmbeddings = v;
            return this;
        }

        public Builder ropeTheta(double v) {
            this.ropeTheta = v;
            return this;
        }

        public Builder partialRotaryFactor(double v) {
            this.partialRotaryFactor = v;
            return this;
        }

        public Builder normEps(double v) {
            this.normEps = v;
            return this;
        }

        public Builder hiddenAct(String v) {
            this.hiddenAct = v;
            return this;
        }

        public Builder tieWordEmbeddings(boolean v) {
            this.tieWordEmbeddings = v;
            return this;
        }

        public Builder attentionBias(boolean v) {
            this.attentionBias = v;
            return this;
        }

        public Builder mlpBias(boolean v) {
            this.mlpBias = v;
            return this;
        }

        public Builder torchDtype(String v) {
            this.torchDtype = v;
            return this;
        }

        /** config.json keys this record does not model, written back unchanged (copied). */
        public Builder extras(JsonObject v) {
            this.extras = v;
            return this;
        }

        public ModelConfig build() {
            return new ModelConfig(architecture, vocabSize, hiddenSize, intermediateSize, numHiddenLayers,
                    numAttentionHeads, numKeyValueHeads, headDim, maxPositionEmbeddings, ropeTheta, partialRotaryFactor,
                    normEps, hiddenAct, tieWordEmbeddings, attentionBias, mlpBias, torchDtype, extras);
        }
    }

    // ---- config.json I/O ----

    /** Reads {@code config.json} (or a directory holding one). Errors name the file and the field. */
    public static ModelConfig load(Path fileOrDir) {
        Path file = Files.isDirectory(fileOrDir) ? fileOrDir.resolve("config.json") : fileOrDir;
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such file (a checkpoint directory needs a config.json)");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
        }
        JsonElement json;
        try {
            json = Json.parse(text);
        } catch (JsonParseException e) {
            throw new ConfigException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        if (!json.isJsonObject()) {
            throw new ConfigException(file + ": expected a JSON object");
        }
        return fromJson(json.getAsJsonObject(), file.toString());
    }

    /** Parses a config.json object; {@code where} names the source in error messages. */
    public static ModelConfig fromJson(JsonObject o, String where) {
        Architecture arch;
        if (o.has("architectures") && o.get("architectures").isJsonArray()
                && o.getAsJsonArray("architectures").size() > 0) {
            arch = Architecture.fromHf(o.getAsJsonArray("architectures").get(0).getAsString(), where);
        } else if (o.has("model_type")) {
            arch = Architecture.fromHf(o.get("model_type").getAsString(), where);
        } else {
            throw new ConfigException(where + ": missing field 'architectures' (and no 'model_type')");
        }
        int hidden = reqInt(o, "hidden_size", where);
        int heads = reqInt(o, "num_attention_heads", where);
        int kvHeads = optInt(o, "num_key_value_heads", heads, where);
        int headDim = optInt(o, "head_dim", -1, where);
        if (headDim <= 0) {
            if (hidden % heads != 0) {
                throw new ConfigException(where + ": missing field 'head_dim' and hidden_size " + hidden
                        + " is not divisible by num_attention_heads " + heads);
            }
            headDim = hidden / heads;
        }
        if (o.has("rope_scaling") && !o.get("rope_scaling").isJsonNull()) {
            throw new ConfigException(where + ": field 'rope_scaling' = " + o.get("rope_scaling")
                    + " is not supported yet (only plain RoPE with rope_theta)");
        }
        boolean nemotron = arch == Architecture.NEMOTRON;
        Builder b = builder(arch);
        double eps = optDouble(o, nemotron ? "norm_eps" : "rms_norm_eps", b.normEps, where);
        String act = optString(o, "hidden_act", b.hiddenAct);
        if (nemotron && !act.equals("relu2")) {
            throw new ConfigException(where + ": NemotronForCausalLM with hidden_act '" + act
                    + "' is not supported (expected relu2)");
        }
        if (!nemotron && !act.equals("silu")) {
            throw new ConfigException(where + ": field 'hidden_act' = '" + act + "' is not supported for "
                    + arch.hfClass() + " (expected silu)");
        }
        String dtype = o.has("torch_dtype") && !o.get("torch_dtype").isJsonNull()
                ? o.get("torch_dtype").getAsString()
                : optString(o, "dtype", b.torchDtype);
        JsonObject extras = new JsonObject();
        for (var e : o.entrySet()) {
            if (!OWNED.contains(e.getKey())) {
                extras.add(e.getKey(), e.getValue().deepCopy());
            }
        }
        try {
            return b.vocabSize(reqInt(o, "vocab_size", where)).hiddenSize(hidden)
                    .intermediateSize(reqInt(o, "intermediate_size", where))
                    .numHiddenLayers(reqInt(o, "num_hidden_layers", where))
                    .numAttentionHeads(heads).numKeyValueHeads(kvHeads).headDim(headDim)
                    .maxPositionEmbeddings(optInt(o, "max_position_embeddings", b.maxPositionEmbeddings, where))
                    .ropeTheta(optDouble(o, "rope_theta", b.ropeTheta, where))
                    .partialRotaryFactor(optDouble(o, "partial_rotary_factor", b.partialRotaryFactor, where))
                    .normEps(eps).hiddenAct(act)
                    .tieWordEmbeddings(optBool(o, "tie_word_embeddings", false))
                    .attentionBias(optBool(o, "attention_bias", false))
                    .mlpBias(optBool(o, "mlp_bias", false))
                    .torchDtype(dtype).extras(extras).build();
        } catch (ConfigException e) {
            throw new ConfigException(e.getMessage().replaceFirst("^config", where), e);
        }
    }

    /** The Hugging Face config.json object for this configuration (extras first, then our keys). */
    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        JsonArray archs = new JsonArray();
        archs.add(architecture.hfClass());
        o.add("architectures", archs);
        o.addProperty("model_type", architecture.modelType());
        for (var e : extras.entrySet()) {
            o.add(e.getKey(), e.getValue().deepCopy());
        }
        o.addProperty("vocab_size", vocabSize);
        o.addProperty("hidden_size", hiddenSize);
        o.addProperty("intermediate_size", intermediateSize);
        o.addProperty("num_hidden_layers", numHiddenLayers);
        o.addProperty("num_attention_heads", numAttentionHeads);
        o.addProperty("num_key_value_heads", numKeyValueHeads);
        o.addProperty("head_dim", headDim);
        o.addProperty("max_position_embeddings", maxPositionEmbeddings);
        o.addProperty("rope_theta", ropeTheta);
        if (architecture == Architecture.NEMOTRON) {
            o.addProperty("norm_eps", normEps);
            o.addProperty("partial_rotary_factor", partialRotaryFactor);
        } else {
            o.addProperty("rms_norm_eps", normEps);
            if (partialRotaryFactor != 1.0) {
                o.addProperty("partial_rotary_factor", partialRotaryFactor);
            }
        }
        o.addProperty("hidden_act", hiddenAct);
        o.addProperty("tie_word_embeddings", tieWordEmbeddings);
        if (architecture != Architecture.QWEN2 && architecture != Architecture.MISTRAL) {
            o.addProperty("attention_bias", attentionBias);
            o.addProperty("mlp_bias", mlpBias);
        }
        o.addProperty("torch_dtype", torchDtype);
        return o;
    }

    public String toJsonString() {
        return GSON.toJson(toJson());
    }

    // ---- small JSON helpers with errors that name the field ----

    private static int reqInt(JsonObject o, String key, String where) {
        if (!o.has(key) || o.get(key).isJsonNull()) {
            throw new ConfigException(where + ": missing field '" + key + "'");
        }
        return asInt(o, key, where);
    }

    private static int optInt(JsonObject o, String key, int dflt, String where) {
        return o.has(key) && !o.get(key).isJsonNull() ? asInt(o, key, where) : dflt;
    }

    private static int asInt(JsonObject o, String key, String where) {
        try {
            double d = o.get(key).getAsDouble();
            if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
                throw new NumberFormatException();
            }
            return (int) d;
        } catch (RuntimeException e) {
            throw new ConfigException(where + ": field '" + key + "' must be an integer, got " + o.get(key));
        }
    }

    private static double optDouble(JsonObject o, String key, double dflt, String where) {
        if (!o.has(key) || o.get(key).isJsonNull()) {
            return dflt;
        }
        try {
            return o.get(key).getAsDouble();
        } catch (RuntimeException e) {
            throw new ConfigException(where + ": field '" + key + "' must be a number, got " + o.get(key));
        }
    }

    private static boolean optBool(JsonObject o, String key, boolean dflt) {
        return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsBoolean() : dflt;
    }

    private static String optString(JsonObject o, String key, String dflt) {
        return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsString() : dflt;
    }
}
