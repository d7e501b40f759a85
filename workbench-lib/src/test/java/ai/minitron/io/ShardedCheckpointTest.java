package ai.minitron.io;

import static ai.minitron.io.SafeTensorsValidationTest.assertFails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedCheckpointTest {

  @TempDir Path dir;

  /** 2 layers of a toy LM: every tensor 64 floats = 256 bytes except the small norms. */
  private static List<HostTensor> toyModel() {
    List<HostTensor> ts = new ArrayList<>();
    int seed = 1;
    for (String name : List.of("model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
        "model.layers.0.mlp.down_proj.weight", "model.layers.1.self_attn.q_proj.weight",
        "model.layers.1.mlp.down_proj.weight", "lm_head.weight")) {
      float[] v = new float[64];
      for (int i = 0; i < v.length; i++) {
        v[i] = (seed * 31 + i) * 0.01f;
      }
      seed++;
      ts.add(HostTensor.ofFloats(name, new long[] {8, 8}, v));
    }
    ts.add(HostTensor.ofFloats("model.norm.weight", new long[] {8}, new float[8]).convertTo(TensorDType.BF16));
    ts.add(HostTensor.ofFloats("model.layers.0.input_layernorm.weight", new long[] {8}, new float[8]));
    return ts;
  }

  private static Set<String> listNames(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
    }
  }

  @Test
  void smallShardLimitGivesSeveralShardsAndHuggingFaceIndex() throws Exception {
    List<HostTensor> model = toyModel();
    long total = model.stream().mapToLong(HostTensor::byteSize).sum();
    SafeTensors.writeSharded(dir, model, 600, Map.of("format", "pt"));

    String indexText = Files.readString(dir.resolve(SafeTensors.INDEX_FILE));
    assertTrue(indexText.startsWith("{\n  \"metadata\": {\n    \"total_size\": " + total + "\n  },\n  \"weight_map\": {\n"),
        indexText);
    assertTrue(indexText.endsWith("}\n"));
    JsonObject index = JsonParser.parseString(indexText).getAsJsonObject();
    assertEquals(total, index.getAsJsonObject("metadata").get("total_size").getAsLong());
    JsonObject weightMap = index.getAsJsonObject("weight_map");
    List<String> keys = new ArrayList<>(weightMap.keySet());
    assertEquals(keys.stream().sorted().toList(), keys, "weight_map sorted like json.dumps(sort_keys=True)");
    assertEquals(model.size(), keys.size());

    Set<String> shardFiles = new TreeSet<>();
    weightMap.entrySet().forEach(e -> shardFiles.add(e.getValue().getAsString()));
    int n = shardFiles.size();
    assertTrue(n > 1, "expected several shards, got " + shardFiles);
    for (int i = 1; i <= n; i++) {
      String shard = String.format("model-%05d-of-%05d.safetensors", i, n);
      assertTrue(shardFiles.contains(shard), shard);
      Map<String, HostTensor> inShard = SafeTensors.read(dir.resolve(shard));
      long bytes = inShard.values().stream().mapToLong(HostTensor::byteSize).sum();
      assertTrue(bytes <= 600, shard + " holds " + bytes + " bytes");
      assertEquals(Map.of("format", "pt"), SafeTensors.metadata(dir.resolve(shard)));
      for (String t : inShard.keySet()) {
        assertEquals(shard, weightMap.get(t).getAsString(), "index agrees with shard content: " + t);
      }
    }
    Set<String> expectedFiles = new TreeSet<>(shardFiles);
    expectedFiles.add(SafeTensors.INDEX_FILE);
    assertEquals(expectedFiles, listNames(dir), "no single file, no temp files");

    Map<String, HostTensor> back = SafeTensors.readCheckpoint(dir);
    assertEquals(keys, new ArrayList<>(back.keySet()));
    for (HostTensor t : model) {
      assertTrue(t.contentEquals(back.get(t.name())), t.name());
    }
  }

  @Test
  void tensorLargerThanTheLimitGetsItsOwnShard() {
    List<HostTensor> ts = List.of(
        HostTensor.ofFloats("a", new long[] {1}, new float[1]),
        HostTensor.ofFloats("b", new long[] {100}, new float[100]),
        HostTensor.ofFloats("c", new long[] {1}, new float[1]),
        HostTensor.ofFloats("d", new long[] {1}, new float[1]));
    List<List<HostTensor>> shards = SafeTensors.split(ts, 8);
    assertEquals(List.of(List.of("a"), List.of("b"), List.of("c", "d")),
        shards.stream().map(s -> s.stream().map(HostTensor::name).toList()).toList());
  }

  @Test
  void everythingFittingInOneShardWritesModelSafetensorsAndCleansStaleShards() throws Exception {
    List<HostTensor> model = toyModel();
    SafeTensors.writeSharded(dir, model, 600, Map.of());
    assertTrue(listNames(dir).size() > 2);
    Files.writeString(dir.resolve("config.json"), "{}"); // not ours: must survive

    SafeTensors.writeSharded(dir, model, 1L << 30, Map.of());
    assertEquals(Set.of("config.json", SafeTensors.SINGLE_FILE), listNames(dir));
    Map<String, HostTensor> back = SafeTensors.readCheckpoint(dir);
    assertEquals(model.size(), back.size());

    // And back to sharded: the single file must go, or it would shadow the index.
    SafeTensors.writeSharded(dir, model, 600, Map.of());
    assertFalse(Files.exists(dir.resolve(SafeTensors.SINGLE_FILE)));
    assertTrue(Files.exists(dir.resolve(SafeTensors.INDEX_FILE)));
    assertEquals(model.size(), SafeTensors.readCheckpoint(dir).size());
  }

  @Test
  void readCheckpointAcceptsTheOnlySafetensorsFileOrAFilePath() throws Exception {
    Path file = dir.resolve("consolidated.safetensors");
    SafeTensors.write(file, List.of(HostTensor.ofFloats("w", new long[] {1}, new float[] {3})));
    assertEquals(3f, SafeTensors.readCheckpoint(dir).get("w").toFloats()[0]);
    assertEquals(3f, SafeTensors.readCheckpoint(file).get("w").toFloats()[0]);

    SafeTensors.write(dir.resolve("other.safetensors"), List.of());
    CheckpointFormatException e = org.junit.jupiter.api.Assertions.assertThrows(
        CheckpointFormatException.class, () -> SafeTensors.readCheckpoint(dir));
    assertTrue(e.getMessage().contains("consolidated.safetensors") && e.getMessage().contains("other.safetensors"));
  }

  @Test
  void emptyDirectoryIsReported() {
    CheckpointFormatException e = org.junit.jupiter.api.Assertions.assertThrows(
        CheckpointFormatException.class, () -> SafeTensors.readCheckpoint(dir));
    assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
  }

  @Test
  void indexNamingATensorItsShardLacksIsReported() throws Exception {
    SafeTensors.writeSharded(dir, toyModel(), 600, Map.of());
    Path index = dir.resolve(SafeTensors.INDEX_FILE);
    String text = Files.readString(index);
    String bogus = text.replace("\"weight_map\": {", "\"weight_map\": {\n    \"ghost.weight\": \"model-00001-of-00003.safetensors\",");
    assertTrue(text.contains("model-00001-of-00003.safetensors"), "fixture assumes 3 shards: " + text);
    Files.writeString(index, bogus);
    assertFails(() -> SafeTensors.readCheckpoint(dir), index,
        List.of("'ghost.weight'", "model-00001-of-00003.safetensors"));
  }

  @Test
  void indexNamingAMissingOrEscapingShardIsReported() throws Exception {
    SafeTensors.writeSharded(dir, toyModel(), 600, Map.of());
    Path index = dir.resolve(SafeTensors.INDEX_FILE);
    String text = Files.readString(index);
    Files.delete(dir.resolve("model-00002-of-00003.safetensors"));
    assertFails(() -> SafeTensors.readCheckpoint(dir), index, List.of("model-00002-of-00003.safetensors"));

    Files.writeString(index, text.replace("model-00002-of-00003", "../model-00002-of-00003"));
    assertFails(() -> SafeTensors.readCheckpoint(dir), index, List.of("not a plain file name"));

    Files.writeString(index, "{\"metadata\": {}, \"weight_map\": [1]}");
    assertFails(() -> SafeTensors.readCheckpoint(dir), index, List.of("weight_map"));
    Files.writeString(index, "{\"weight_map\": {\"a\": ");
    assertFails(() -> SafeTensors.readCheckpoint(dir), index, List.of("not valid JSON"));
  }
}
