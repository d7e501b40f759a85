package ai.minitron.prune;

import ai.minitron.io.Json;
import ai.minitron.config.ModelConfig;
import ai.minitron.config.ParamCount;
import ai.minitron.io.AtomicFiles;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code pruning.json} beside a pruned checkpoint: the plan, the importance run it was ranked by, the
 * parent's and child's shapes and parameter counts, and per axis the kept indices into the parent,
 * so every unit of a pruned model can be traced to its teacher.
 */
public final class PruningRecord {
    public static final String FILE = "pruning.json";

    private PruningRecord() {}

    public static void write(Path dir, ModelConfig parent, ModelConfig child, PrunePlan plan, KeepSet k, String runId,
            String parentPath) {
        JsonObject o = new JsonObject();
        o.addProperty("parent", parentPath);
        o.addProperty("importance_run_id", runId);
        o.add("plan", new GsonBuilder().serializeNulls().create().toJsonTree(plan));
        o.add("parent_shape", shape(parent));
        o.add("child_shape", shape(child));
        JsonObject kept = new JsonObject();
        kept.add("hidden", ints(k.hidden()));
        kept.add("layers", ints(k.layers()));
        kept.add("kv_groups", perLayer(k.kvGroupsPerLayer()));
        kept.add("heads", perLayer(k.heads()));
        kept.add("mlp", perLayer(k.mlp()));
        o.add("kept", kept);
        try {
            AtomicFiles.writeString(dir.resolve(FILE), new GsonBuilder().setPrettyPrinting().create().toJson(o) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(FILE) + ": " + e.getMessage(), e);
        }
    }

    /** The kept indices recorded in a pruned checkpoint directory. */
    public static KeepSet read(Path dir) {
        Path f = dir.resolve(FILE);
        try {
            JsonObject kept = Json.parse(Files.readString(f)).getAsJsonObject().getAsJsonObject("kept");
            List<int[]> kv = lists(kept.getAsJsonArray("kv_groups"));
            return new KeepSet(toInts(kept.getAsJsonArray("hidden")), toInts(kept.getAsJsonArray("layers")),
                    kv.isEmpty() ? new int[0] : kv.get(0), lists(kept.getAsJsonArray("heads")),
                    lists(kept.getAsJsonArray("mlp")), kv);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(f + ": not a valid pruning record: " + e.getMessage(), e);
        }
    }

    private static JsonObject shape(ModelConfig c) {
        JsonObject o = new JsonObject();
        o.addProperty("hidden_size", c.hiddenSize());
        o.addProperty("num_hidden_layers", c.numHiddenLayers());
        o.addProperty("num_attention_heads", c.numAttentionHeads());
        o.addProperty("num_key_value_heads", c.numKeyValueHeads());
        o.addProperty("intermediate_size", c.intermediateSize());
        o.addProperty("parameters", ParamCount.of(c).total());
        return o;
    }

    private static JsonArray ints(int[] v) {
        JsonArray a = new JsonArray();
        for (int x : v) {
            a.add(x);
        }
        return a;
    }

    private static JsonArray perLayer(List<int[]> v) {
        JsonArray a = new JsonArray();
        for (int[] x : v) {
            a.add(ints(x));
        }
        return a;
    }

    private static int[] toInts(JsonArray a) {
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = a.get(i).getAsInt();
        }
        return v;
    }

    private static List<int[]> lists(JsonArray a) {
        List<int[]> out = new ArrayList<>();
        for (var e : a) {
            out.add(toInts(e.getAsJsonArray()));
        }
        return out;
    }
}
