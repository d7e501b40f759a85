package ai.minitron.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.minitron.TestConfigs;
import ai.minitron.cli.CliRun;
import ai.minitron.config.ModelConfig;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.tokenize.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code minitron generate} end to end on two small saved checkpoints. */
class GenerateCommandTest {
    @TempDir
    static Path tmp;
    static Path teacher;
    static Path student;


    @BeforeAll
    static void saveCheckpoints() {
        ModelConfig c = TestConfigs.textLlama(64);
        teacher = tmp.resolve("teacher");
        student = tmp.resolve("student");
        try (NDManager m = NDManager.newBaseManager()) {
            new LanguageModel(c, TestModels.weights(c, m, 1), TestModels.TOKENIZER, TensorDType.F32).save(teacher,
                    TensorDType.F32);
            ModelConfig small = c.withShape(c.hiddenSize(), 32, 1, c.numAttentionHeads(), c.numKeyValueHeads());
            new LanguageModel(small, TestModels.weights(small, m, 2), TestModels.TOKENIZER, TensorDType.F16).save(student,
                    TensorDType.F16);
        }
    }


    @Test
    void streamsTheContinuationAfterThePromptAndStatesDeviceAndDtype() throws Exception {
        CliRun r = CliRun.of("generate", "--model", teacher.toString(), "--prompt", "Once upon a time", "--max-new-tokens", "6",
                "--ignore-eos");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("device cpu(), dtype float32") || r.err().contains("device gpu"), r.err());
        assertTrue(r.err().contains("6 new tokens") && r.err().contains("stop: max new tokens"), r.err());
        try (NDManager m = NDManager.newBaseManager(); LanguageModel lm = LanguageModel.load(teacher, m);
                Tokenizer tok = Tokenizer.load(TestModels.TOKENIZER)) {
            String expected = Generator.of(lm, tok).generate("Once upon a time",
                    GenerationConfig.defaults().withMaxNewTokens(6).withEosTokenIds()).text();
            assertEquals("Once upon a time" + expected + System.lineSeparator(), r.out());
        }
    }

    @Test
    void comparesTwoModelsOnAPromptsFile() throws Exception {
        Path prompts = tmp.resolve("prompts.txt");
        Files.writeString(prompts, "The king\n\nA small dog\n");
        CliRun r = CliRun.of("generate", "--model", teacher.toString(), "--compare", student.toString(), "--prompts",
                prompts.toString(), "--max-new-tokens", "3", "--temperature", "0.8", "--top-p", "0.9", "--seed", "3",
                "--batch-size", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("### prompt 2\nA small dog\n--- A ---"), r.out());
        assertTrue(r.out().contains("A tokens/s") && r.out().contains("B tokens"), r.out());
        assertTrue(r.err().contains("sample: temperature 0.8, top-p 0.9, seed 3"), r.err());
    }

    @Test
    void benchmarksWithAndWithoutTheCache() {
        CliRun r = CliRun.of("generate", "--model", teacher.toString(), "--benchmark", "--bench-batches", "2",
                "--bench-prompt-tokens", "4", "--bench-new-tokens", "3");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("decode tok/s (KV cache)") && r.out().contains("cache speed-up"), r.out());
        assertTrue(r.err().contains("batch 2: prefill") && r.err().contains("cache speed-up"), r.err());
        assertTrue(!r.out().contains("false"), "cached and recomputed greedy tokens agree: " + r.out());
    }

    @Test
    void badOptionsFailWithOneClearLine() {
        CliRun r = CliRun.of("generate", "--model", teacher.toString(), "--prompt", "x", "--temperature", "-1");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("error: temperature must be"), r.err());
        CliRun none = CliRun.of("generate", "--model", teacher.toString());
        assertEquals(1, none.code());
        assertTrue(none.err().contains("error: give --prompt TEXT or --prompts FILE"), none.err());
        CliRun bf = CliRun.of("generate", "--model", teacher.toString(), "--prompt", "x", "--dtype", "bf16");
        assertEquals(1, bf.code());
        assertTrue(bf.err().contains("error: dtype bfloat16 is never used"), bf.err());
    }
}
