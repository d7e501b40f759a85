package ai.minitron.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.config.Architecture;
import ai.minitron.config.ModelConfig;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line end to end: outputs on success, one clear line and a non-zero exit on bad input. */
class CliTest {
    static final Path FIXTURE = Path.of("src/test/resources/golden/llama_gqa_untied");
    static final Path TOKENIZER = Path.of("../data/tokenizer/tokenizer.json");

    @TempDir
    Path tmp;



    @Test
    void infoDescribesTheCheckpoint() {
        CliRun r = CliRun.of("info", "--model", FIXTURE.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("architecture LlamaForCausalLM"), r.out());
        assertTrue(r.out().contains("head_dim 16"), r.out());
        assertTrue(r.out().matches("(?s).*total\\s+54,000.*"), r.out());
    }

    @Test
    void forwardWritesLogitsAsNpy() throws Exception {
        Path npy = tmp.resolve("logits.npy");
        CliRun r = CliRun.of("forward", "--model", FIXTURE.toString(), "--tokens", "3,1,4,1,5", "--out", npy.toString());
        assertEquals(0, r.code(), r.err());
        byte[] b = Files.readAllBytes(npy);
        assertEquals((byte) 0x93, b[0]);
        int headerLen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
        String header = new String(b, 10, headerLen, StandardCharsets.US_ASCII);
        assertTrue(header.contains("'descr': '<f4'") && header.contains("'shape': (5, 128)"), header);
        assertEquals(0, (10 + headerLen) % 64, "npy data is 64-byte aligned");
        ByteBuffer data = ByteBuffer.wrap(b, 10 + headerLen, b.length - 10 - headerLen).order(ByteOrder.LITTLE_ENDIAN);
        try (NDManager m = NDManager.newBaseManager(); LanguageModel lm = LanguageModel.load(FIXTURE, m)) {
            float[] expected = lm.logits(m, new long[][] {{3, 1, 4, 1, 5}}).toFloatArray();
            assertEquals(expected.length * 4, data.remaining());
            for (float e : expected) {
                assertEquals(e, data.getFloat());
            }
        }
    }

    @Test
    void evalStatesTheProtocolAndBeatsNothingWhenUntrained() throws Exception {
        ModelConfig c = ModelConfig.builder(Architecture.LLAMA).vocabSize(8192).hiddenSize(16).intermediateSize(32)
                .numHiddenLayers(1).numAttentionHeads(2).numKeyValueHeads(1).headDim(8).maxPositionEmbeddings(128)
                .normEps(1e-5).tieWordEmbeddings(true).build();
        Path dir = tmp.resolve("random");
        try (NDManager m = NDManager.newBaseManager()) {
            new LanguageModel(c, Weights.random(c, m, 1, DataType.FLOAT32), TOKENIZER, TensorDType.F32)
                    .save(dir, TensorDType.F16);
        }
        Path text = tmp.resolve("text.txt");
        Files.writeString(text, "Call me Ishmael. Some years ago, never mind how long precisely.\n\n<|endoftext|>\n\nA second document.\n");
        CliRun r = CliRun.of("eval", "--model", dir.toString(), "--text", text.toString(), "--seq-len", "8",
                "--unigram-from", text.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("protocol    token-level, non-overlapping windows of 8"), r.out());
        assertTrue(r.out().contains("perplexity") && r.out().contains("unigram"), r.out());
    }

    @Test
    void badInputGivesOneClearLineAndNonZeroExit() throws Exception {
        CliRun missing = CliRun.of("info", "--model", tmp.resolve("nope").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().startsWith("error: ") && missing.err().contains("nope"), missing.err());
        assertEquals(1, missing.err().strip().lines().count(), missing.err());

        CliRun oov = CliRun.of("forward", "--model", FIXTURE.toString(), "--tokens", "1,999", "--out", tmp.resolve("x.npy").toString());
        assertEquals(1, oov.code());
        assertTrue(oov.err().contains("999") && oov.err().contains("vocabulary"), oov.err());

        Path text = tmp.resolve("t.txt");
        Files.writeString(text, "hello world");
        CliRun vocab = CliRun.of("eval", "--model", FIXTURE.toString(), "--text", text.toString(), "--tokenizer", TOKENIZER.toString());
        assertEquals(1, vocab.code());
        assertTrue(vocab.err().contains("vocab_size is 128"), vocab.err());

        Path bin = tmp.resolve("bin.txt");
        Files.write(bin, new byte[] {(byte) 0xff, (byte) 0xfe, 0x41});
        CliRun utf = CliRun.of("eval", "--model", FIXTURE.toString(), "--text", bin.toString());
        assertEquals(1, utf.code());
        assertTrue(utf.err().contains("bin.txt"), utf.err());

        CliRun usage = CliRun.of("info");
        assertEquals(2, usage.code(), "picocli usage errors exit 2");
    }
}
