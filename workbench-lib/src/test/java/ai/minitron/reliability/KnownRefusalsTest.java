package ai.minitron.reliability;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.cli.CliRun;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Classes of bad input issue 18 found already refused with a clear one-line message; these keep them
 * refused: a broken safetensors header, a truncated GGUF, an unknown architecture, a missing tokenizer.
 */
@Tag("reliability")
class KnownRefusalsTest {
    @TempDir
    Path tmp;

    private static void assertRefusedNaming(CliRun r, String what) {
        assertNotEquals(0, r.code(), r.out());
        assertTrue(r.err().contains(what), "names " + what + ": " + r.err());
        assertTrue(r.err().strip().lines().count() == 1 && !r.err().contains("\tat "), "one line: " + r.err());
    }

    @Test
    void brokenSafetensorsHeaderIsRefusedNamingTheFile() throws Exception {
        Path model = InputFixtures.model(tmp.resolve("m"));
        Path st = model.resolve("model.safetensors");
        byte[] b = Files.readAllBytes(st);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, b.length * 10L); // header length past the end
        Files.write(st, b);
        assertRefusedNaming(CliRun.of("info", "--model", model.toString()), "model.safetensors");
    }

    @Test
    void truncatedGgufIsRefusedNamingTheFile() throws Exception {
        Path gguf = tmp.resolve("cut.gguf");
        ByteBuffer b = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
        b.put("GGUF".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(3).putLong(291); // tensor count, then EOF
        Files.write(gguf, b.array());
        Path out = tmp.resolve("out");
        assertRefusedNaming(CliRun.of("convert", "--in", gguf.toString(), "--out", out.toString()), gguf.toString());
    }

    @Test
    void unknownArchitectureIsRefusedNamingIt() throws Exception {
        Path model = InputFixtures.model(tmp.resolve("m"));
        Path cfg = model.resolve("config.json");
        JsonObject o = JsonParser.parseString(Files.readString(cfg)).getAsJsonObject();
        JsonArray a = new JsonArray();
        a.add("GPT2LMHeadModel");
        o.add("architectures", a);
        Files.writeString(cfg, o.toString());
        assertRefusedNaming(CliRun.of("info", "--model", model.toString()), "GPT2LMHeadModel");
    }

    @Test
    void missingTokenizerIsRefusedNamingTheCheckpoint() throws Exception {
        Path model = InputFixtures.model(tmp.resolve("m"));
        Files.delete(model.resolve("tokenizer.json"));
        Path text = InputFixtures.text(tmp.resolve("t.txt"), 2000);
        assertRefusedNaming(CliRun.of("eval", "--model", model.toString(), "--text", text.toString(), "--seq-len", "16"),
                "tokenizer.json");
    }
}
