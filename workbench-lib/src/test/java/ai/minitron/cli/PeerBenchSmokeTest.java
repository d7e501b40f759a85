package ai.minitron.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.stats.ArrowIo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/**
 * {@code minitron bench --peer --smoke --ours-only}: the peer benchmark's seconds-long smoke (what CI runs; torch
 * stays out of CI) produces every workload row with a positive, finite throughput of ours, the PyTorch columns
 * empty, and the run's conditions in the Arrow metadata and the Markdown. No timing is asserted.
 */
class PeerBenchSmokeTest {
    @TempDir
    Path tmp;

    @Test
    void smokeProducesEveryRow() throws Exception {
        Path out = tmp.resolve("bench");
        CliRun r = CliRun.of("bench", "--peer", "--smoke", "--ours-only", "--out", out.toString(), "--teacher",
                ReproduceCommandTest.TEACHER.toString());
        assertEquals(0, r.code(), r.err());
        Table t = ArrowIo.read(out.resolve("peer.arrow"));
        List<String> expected = List.of(
                "decode (greedy, KV cache)|tiny random Llama|1", "decode (greedy, KV cache)|tiny random Llama|2",
                "decode (greedy, KV cache)|teacher|1", "decode (greedy, KV cache)|teacher|2",
                "forward (logits, no autograd)|tiny random Llama|2", "forward (logits, no autograd)|teacher|2",
                "training step (fwd+bwd+AdamW)|teacher|2", "distillation step (fwd KL)|teacher -> width-pruned|2",
                "distillation step (fwd KL)|tiny random Llama -> pruned|2",
                "importance pass (all metrics) vs our plain forward to hidden|teacher|2",
                "importance pass (paper's metric only) vs our plain forward to hidden|teacher|2");
        assertEquals(expected.size(), t.rowCount(), t.print());
        for (int i = 0; i < t.rowCount(); i++) {
            String key = t.stringColumn("workload").get(i) + "|" + t.stringColumn("model").get(i) + "|"
                    + t.intColumn("batch").get(i);
            assertEquals(expected.get(i), key);
            double ours = t.doubleColumn("ours_tokens_per_s").get(i);
            assertTrue(ours > 0 && Double.isFinite(ours), key + ": ours " + ours);
            var theirs = t.doubleColumn("pytorch_tokens_per_s");
            if (key.startsWith("importance")) {
                assertTrue(theirs.get(i) > 0, "the importance row compares with our own plain forward: " + theirs.get(i));
            } else {
                assertTrue(theirs.isMissing(i), key + ": no PyTorch side with --ours-only, got " + theirs.get(i));
            }
        }
        double fraction = t.doubleColumn("fraction_of_matmul").get(7);
        assertTrue(fraction > 0, "distillation row states its fraction of the matmul ceiling: " + fraction);
        Map<String, String> meta = ArrowIo.metadata(out.resolve("peer.arrow"));
        for (String k : List.of("cpu", "threads", "load_before", "load_after", "omp_wait_policy", "engine",
                "matmul_gflops_ours")) {
            assertTrue(meta.containsKey(k), "conditions lack " + k + ": " + meta);
        }
        String md = Files.readString(out.resolve("peer.md"));
        assertTrue(md.startsWith("Conditions: cpu = "), md);
        assertTrue(md.contains("| importance pass"), md);
    }
}
