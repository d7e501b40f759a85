package ai.minitron.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.cli.CliRun;
import ai.minitron.config.Architecture;
import ai.minitron.config.HfCompatibility;
import ai.minitron.config.ModelConfig;
import ai.minitron.io.TensorDType;
import ai.minitron.search.Candidate;
import ai.minitron.search.SearchSpace;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18, "silently accepted" and "unhelpful messages": each bad option or input is refused through
 * the command line with a non-zero exit and one line naming the option, file or rule at fault.
 */
@Tag("reliability")
class InputValidationTest {
    @TempDir
    Path tmp;

    private static void assertRefused(CliRun r, String... named) {
        assertNotEquals(0, r.code(), "exit code; out: " + r.out());
        for (String n : named) {
            assertTrue(r.err().contains(n), "message names '" + n + "': " + r.err());
        }
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    // ---- case 2: prune without a shape, prune --plan with unknown keys

    @Test
    void case02PruneWithoutAShapeIsRefusedNamingTheShapeOptions() {
        Path model = InputFixtures.model(tmp.resolve("model"));
        Path out = tmp.resolve("pruned");
        CliRun r = CliRun.of("prune", "--model", model.toString(), "--importance", tmp.resolve("imp").toString(),
                "--out", out.toString());
        assertRefused(r, "no target shape", "--hidden", "--mlp", "--layers", "--params");
        assertFalse(Files.exists(out), "nothing written");
    }

    @Test
    void case02PrunePlanWithUnknownKeysIsRefusedNamingThemAndTheValidKeys() throws Exception {
        Path model = InputFixtures.model(tmp.resolve("model"));
        Path plan = tmp.resolve("plan.json");
        Files.writeString(plan, "{\"hidden_size\": 12, \"mlp_size\": 16}");
        Path out = tmp.resolve("pruned");
        CliRun r = CliRun.of("prune", "--model", model.toString(), "--importance", tmp.resolve("imp").toString(),
                "--plan", plan.toString(), "--out", out.toString());
        assertRefused(r, plan.toString(), "unknown keys hidden_size, mlp_size", "valid keys: hiddenSize", "mlpSize");
        assertFalse(Files.exists(out), "nothing written");
        Files.writeString(plan, "{\"depth\": \"LOWEST\"}");
        assertRefused(CliRun.of("prune", "--model", model.toString(), "--importance", tmp.resolve("imp").toString(),
                "--plan", plan.toString(), "--out", out.toString()), plan.toString(), "sets no target shape");
    }

    // ---- case 3: distill --tokens 0 or negative

    @Test
    void case03DistillWithoutPositiveTokensIsRefused() {
        Path model = InputFixtures.model(tmp.resolve("model"));
        Path text = InputFixtures.text(tmp.resolve("train.txt"), 3000);
        for (String tokens : new String[] {"0", "-64"}) {
            Path out = tmp.resolve("out" + tokens);
            CliRun r = CliRun.of("distill", "--teacher", model.toString(), "--student", model.toString(), "--data",
                    text.toString(), "--val", text.toString(), "--tokens", tokens, "--seq-len", "16", "--out", out.toString());
            assertRefused(r, "--tokens", tokens);
            assertFalse(Files.exists(out), "nothing trained or written for --tokens " + tokens);
        }
    }

    // ---- case 4: --align-vocab with unrelated tokenizers

    @Test
    void case04AlignVocabRefusesTokenizersThatDisagreeOnTheSharedIds() throws Exception {
        JsonObject tok = JsonParser.parseString(Files.readString(InputFixtures.TOKENIZER)).getAsJsonObject();
        JsonObject vocab = tok.getAsJsonObject("model").getAsJsonObject("vocab");
        int n = vocab.size();
        for (String key : vocab.keySet()) { // same strings and size, every id moved by one
            vocab.addProperty(key, (vocab.get(key).getAsInt() + 1) % n);
        }
        JsonArray added = tok.getAsJsonArray("added_tokens");
        for (JsonElement a : added) {
            a.getAsJsonObject().addProperty("id", (a.getAsJsonObject().get("id").getAsInt() + 1) % n);
        }
        Path rotated = tmp.resolve("rotated/tokenizer.json");
        Files.createDirectories(rotated.getParent());
        Files.writeString(rotated, tok.toString());
        Path teacher = InputFixtures.model(tmp.resolve("teacher"));
        Path student = InputFixtures.model(tmp.resolve("student"), 4, rotated, TensorDType.F32);
        Path text = InputFixtures.text(tmp.resolve("train.txt"), 3000);
        Path out = tmp.resolve("out");
        CliRun r = CliRun.of("distill", "--teacher", teacher.toString(), "--student", student.toString(), "--data",
                text.toString(), "--val", text.toString(), "--tokens", "64", "--batch-size", "2", "--seq-len", "16",
                "--align-vocab", "--out", out.toString());
        assertRefused(r, "--align-vocab", "only 0 of the " + n + " shared ids");
        assertFalse(Files.exists(out.resolve("model")), "no model written");
    }

    // ---- case 5: forward past the context

    @Test
    void case05ForwardRefusesMoreTokensThanTheContext() {
        Path model = InputFixtures.model(tmp.resolve("model"));
        String ids = String.join(",", java.util.Collections.nCopies(65, "1"));
        Path npy = tmp.resolve("logits.npy");
        CliRun r = CliRun.of("forward", "--model", model.toString(), "--tokens", ids, "--out", npy.toString());
        assertRefused(r, "--tokens", "65", "max_position_embeddings");
        assertFalse(Files.exists(npy));
    }

    // ---- case 7: importance --block-k outside 1..layers

    @Test
    void case07ImportanceBlockKOutsideTheLayerRangeIsRefused() {
        Path model = InputFixtures.model(tmp.resolve("model"));
        for (String k : new String[] {"0", "4"}) {
            Path out = tmp.resolve("imp" + k);
            CliRun r = CliRun.of("importance", "--model", model.toString(), "--data", "validation", "--samples", "2",
                    "--seq-len", "16", "--metrics", "block_drop", "--block-k", k, "--out", out.toString(), "--no-charts");
            assertRefused(r, "--block-k " + k, "1..3");
            assertFalse(Files.exists(out.resolve("run.json")), "no run written for --block-k " + k);
        }
    }

    // ---- case 11: shapes transformers refuses to load

    @Test
    void case11PruneRefusesAShapeTransformersCannotLoad() {
        Path model = InputFixtures.model(tmp.resolve("model"));
        Path imp = InputFixtures.importance(model, tmp.resolve("imp"));
        Path out = tmp.resolve("pruned");
        CliRun r = CliRun.of("prune", "--model", model.toString(), "--importance", imp.toString(), "--hidden", "14",
                "--out", out.toString());
        assertRefused(r, "hidden size 14", "4 attention heads", "multiple of num_attention_heads");
        assertFalse(Files.exists(out.resolve("config.json")), "nothing exported");
    }

    @Test
    void case11SearchSpaceHoldsOnlyShapesTransformersLoadsAndSaysSo() {
        // The teacher's shape: hidden 256, 8 heads of 32 over 2 KV groups (224 with 6 heads was exported before).
        ModelConfig teacher = ModelConfig.builder(Architecture.LLAMA).vocabSize(8192).hiddenSize(256)
                .intermediateSize(704).numHiddenLayers(8).numAttentionHeads(8).numKeyValueHeads(2).headDim(32)
                .maxPositionEmbeddings(256).normEps(1e-5).tieWordEmbeddings(true).build();
        SearchSpace space = SearchSpace.of(teacher);
        for (Candidate c : space.all()) {
            assertEquals(0, c.hiddenSize() % c.numAttentionHeads(), c.id());
        }
        assertTrue(space.all().stream().anyMatch(c -> c.numAttentionHeads() == 6), "192 with 6 heads stays");
        assertTrue(space.describe().contains(HfCompatibility.RULE), space.describe());
        // through the command line: --list states the rule and lists no such shape
        Path model = InputFixtures.model(tmp.resolve("model"));
        CliRun r = CliRun.of("search", "--model", model.toString(), "--importance", tmp.resolve("imp").toString(),
                "--params", "70%", "--tolerance", "0.3", "--out", tmp.resolve("search").toString(), "--list");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("multiple of num_attention_heads"), r.err());
        for (String line : r.out().strip().split("\n")) {
            int h = Integer.parseInt(line.replaceAll("^h(\\d+)-a(\\d+).*", "$1").trim());
            int a = Integer.parseInt(line.replaceAll("^h(\\d+)-a(\\d+).*", "$2").trim());
            assertEquals(0, h % a, line);
        }
    }

    // ---- case 12: every --data takes a split name or a file

    @Test
    void case12DistillAndTeacherCacheTakeASplitName() {
        Path model = InputFixtures.model(tmp.resolve("model"));
        // --data train resolves (no "corpus file not found"); the bad --val is the one named
        CliRun r = CliRun.of("distill", "--teacher", model.toString(), "--student", model.toString(), "--data", "train",
                "--val", "no-such-split", "--tokens", "64", "--seq-len", "16", "--out", tmp.resolve("out").toString());
        assertRefused(r, "--val no-such-split", "split names: train, validation, test");
        assertFalse(r.err().contains("--data"), r.err());
        CliRun c = CliRun.of("teacher-cache", "--teacher", model.toString(), "--data", "no-such-split", "--tokens", "64",
                "--seq-len", "16", "--out", tmp.resolve("cache").toString());
        assertRefused(c, "--data no-such-split", "split names");
        Path cache = tmp.resolve("cache2");
        CliRun ok = CliRun.of("teacher-cache", "--teacher", model.toString(), "--data", "validation", "--tokens", "64",
                "--seq-len", "16", "--top-k", "4", "--out", cache.toString());
        assertEquals(0, ok.code(), ok.err());
        assertTrue(Files.isRegularFile(cache.resolve("manifest.json")));
    }

    // ---- case 14: clear messages

    @Test
    void case14EvalSeqLenZeroNamesTheOption() {
        Path model = InputFixtures.model(tmp.resolve("model"));
        Path text = InputFixtures.text(tmp.resolve("t.txt"), 2000);
        CliRun r = CliRun.of("eval", "--model", model.toString(), "--text", text.toString(), "--seq-len", "0");
        assertRefused(r, "--seq-len", "0");
        assertFalse(r.err().contains("by zero"), r.err());
    }

    @Test
    void case14ConvertOfAMissingFileSaysFileNotFound() {
        Path missing = tmp.resolve("missing.gguf");
        Path out = tmp.resolve("out");
        CliRun r = CliRun.of("convert", "--in", missing.toString(), "--out", out.toString());
        assertRefused(r, "file not found: " + missing);
        assertFalse(Files.exists(out));
    }

    @Test
    void case14PrunePlanEmptyOrInvalidNamesTheFile() throws Exception {
        Path model = InputFixtures.model(tmp.resolve("model"));
        Path plan = tmp.resolve("plan.json");
        for (String content : new String[] {"", "   \n", "[1, 2]", "{\"hiddenSize\": ", "null"}) {
            Files.writeString(plan, content);
            CliRun r = CliRun.of("prune", "--model", model.toString(), "--importance", tmp.resolve("imp").toString(),
                    "--plan", plan.toString(), "--out", tmp.resolve("p").toString());
            assertRefused(r, "--plan " + plan);
            assertFalse(r.err().contains("Not a JSON Object"), r.err());
        }
    }

    @Test
    void case14GeneratePromptsNotUtf8NamesTheFileAndOffset() throws Exception {
        Path model = InputFixtures.model(tmp.resolve("model"));
        Path prompts = tmp.resolve("prompts.txt");
        Files.write(prompts, new byte[] {'a', 'b', 'c', (byte) 0xff, 'd', '\n'});
        CliRun r = CliRun.of("generate", "--model", model.toString(), "--prompts", prompts.toString(),
                "--max-new-tokens", "2");
        assertRefused(r, prompts.toString(), "not valid UTF-8", "byte offset 3");
        assertFalse(r.err().contains("Input length"), r.err());
    }

    @Test
    void case14TeacherCacheCoveringPartOfTheSplitSaysSo() {
        Path model = InputFixtures.model(tmp.resolve("model"));
        Path text = InputFixtures.text(tmp.resolve("train.txt"), 3000);
        Path cache = tmp.resolve("cache");
        CliRun c = CliRun.of("teacher-cache", "--teacher", model.toString(), "--data", text.toString(), "--tokens", "32",
                "--seq-len", "16", "--top-k", "4", "--out", cache.toString());
        assertEquals(0, c.code(), c.err());
        Path out = tmp.resolve("out");
        CliRun r = CliRun.of("distill", "--teacher", model.toString(), "--student", model.toString(), "--data",
                text.toString(), "--val", text.toString(), "--tokens", "64", "--batch-size", "2", "--seq-len", "16",
                "--loss", "TOP_K_KL", "--top-k", "4", "--teacher-cache", cache.toString(), "--out", out.toString());
        assertRefused(r, "--teacher-cache " + cache, "covers only 2 of the", "rebuild it over the whole split");
        assertFalse(Files.exists(out.resolve("checkpoint")), "no training step ran");
    }

    @Test
    void case14CorruptCacheShardIsRefusedByChecksumBeforeAnyStep() throws Exception {
        Path model = InputFixtures.model(tmp.resolve("model"));
        Path text = InputFixtures.text(tmp.resolve("train.txt"), 3000);
        Path cache = tmp.resolve("cache");
        CliRun c = CliRun.of("teacher-cache", "--teacher", model.toString(), "--data", text.toString(), "--tokens",
                "100000", "--seq-len", "16", "--top-k", "4", "--out", cache.toString());
        assertEquals(0, c.code(), c.err());
        Path shard = cache.resolve("shard-00000.safetensors");
        byte[] b = Files.readAllBytes(shard);
        for (int i = b.length - 40; i < b.length - 8; i++) {
            b[i] = (byte) ~b[i];
        }
        Files.write(shard, b);
        Path out = tmp.resolve("out");
        CliRun r = CliRun.of("distill", "--teacher", model.toString(), "--student", model.toString(), "--data",
                text.toString(), "--val", text.toString(), "--tokens", "64", "--batch-size", "2", "--seq-len", "16",
                "--loss", "TOP_K_KL", "--top-k", "4", "--teacher-cache", cache.toString(), "--out", out.toString());
        assertRefused(r, shard.toString(), "corrupt", "SHA-256");
        assertFalse(Files.exists(out.resolve("checkpoint")), "no training step ran on it");
        // a cache written before checksums: refused with the way out
        Path mf = cache.resolve("manifest.json");
        JsonObject manifest = JsonParser.parseString(Files.readString(mf)).getAsJsonObject();
        manifest.getAsJsonArray("shards").forEach(sh -> sh.getAsJsonObject().remove("sha256"));
        Files.writeString(mf, manifest.toString());
        CliRun old = CliRun.of("distill", "--teacher", model.toString(), "--student", model.toString(), "--data",
                text.toString(), "--val", text.toString(), "--tokens", "64", "--batch-size", "2", "--seq-len", "16",
                "--loss", "TOP_K_KL", "--top-k", "4", "--teacher-cache", cache.toString(), "--out", out.toString());
        assertRefused(old, "no checksum", "rebuild");
    }
}
