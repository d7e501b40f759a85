package ai.minitron.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.minitron.TestConfigs;
import ai.minitron.config.ModelConfig;
import ai.minitron.data.Corpus;
import ai.minitron.io.TensorDType;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Weights;
import ai.minitron.tokenize.Tokenizer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The notebook facade gives the numbers of the functions it wraps and keeps them as card rows. */
class EvaluatorTest {
    static final ModelConfig TINY = TestConfigs.evalLlama();

    @TempDir
    Path tmp;

    @Test
    void facadeEqualsTheUnderlyingProtocolsAndCollectsRecords() {
        Corpus text = Corpus.of(Path.of("toy.txt"), List.of("Call me Ishmael.", "Some years ago, never mind how long."));
        Path task = tmp.resolve("toy_mc.jsonl");
        TaskFile.write(task, List.of(new MultipleChoiceItem("1", "Call me", List.of("Ishmael.", "Ahab."), 0)));
        try (NDManager m = NDManager.newBaseManager(); Tokenizer tok = Tokenizer.load(EvalFixtures.tokenizer());
                LanguageModel lm = new LanguageModel(TINY, Weights.random(TINY, m, 2, DataType.FLOAT32),
                        null, TensorDType.F32)) {
            Evaluator ev = new Evaluator(lm, tok, m).batchSize(3);
            long[] stream = Evaluator.stream(text, tok);
            assertEquals(tok.encode("Call me Ishmael.").length + tok.encode("Some years ago, never mind how long.").length + 2,
                    stream.length);
            assertEquals(0, stream[stream.length - 1], "each document is followed by end-of-text");
            Perplexity.Result direct = Perplexity.windowed(lm.config(), lm.weights(), m, stream, 8, 1, null);
            assertEquals(direct.meanNll(), ev.tokenPerplexity(text, 8).meanNll(), 1e-5);
            assertEquals(direct.meanNll(), ev.slidingPerplexity(text, 8, 8).meanNll(), 1e-5);
            Perplexity.DocumentResult doc = ev.documentPerplexity(text, 8);
            assertEquals(Perplexity.documents(lm.config(), lm.weights(), m, text.documents(), tok, 8, 1, null).nll(), doc.nll(), 1e-4);
            assertEquals(2, ev.task(task, 0).size());
            List<EvalRecord> all = ev.records();
            assertEquals(1 + 1 + 4 + 2, all.size());
            assertEquals("toy.txt", all.get(0).task());
            assertEquals("acc_norm", all.get(all.size() - 1).metric());
        }
    }
}
