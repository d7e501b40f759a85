package ai.minitron.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LineageTest {
    @TempDir
    Path tmp;

    @Test
    void aStepRecordsOnTopOfItsParentAndCoexistsWithEvalResults() throws Exception {
        Path pruned = tmp.resolve("pruned");
        Path distilled = tmp.resolve("distilled");
        Lineage.record(pruned, tmp.resolve("teacher"), new Lineage.Step("prune",
                Map.of("parent", "data/teacher"), Lineage.command("minitron", List.of("prune", "--model", "data/teacher"))));
        ModelCard.update(pruned, List.of(new EvalRecord("t", "acc", 0.5, 0.1, 10, "p", "s")));
        Lineage.record(pruned, tmp.resolve("teacher"), new Lineage.Step("prune",
                Map.of("parent", "data/teacher", "importance run", "abc"), "minitron prune --again"));
        List<Lineage.Step> steps = Lineage.record(distilled, pruned, new Lineage.Step("distill",
                Map.of("teacher", "data/teacher", "student tokens", "1,000"), Lineage.command("minitron", List.of("distill", "--note", "it's"))));

        assertEquals(List.of("prune", "distill"), steps.stream().map(Lineage.Step::name).toList());
        assertEquals(steps, Lineage.read(distilled));
        assertEquals("minitron distill --note 'it'\\''s'", steps.get(1).command());
        String card = Files.readString(pruned.resolve("README.md"));
        // re-recording replaced the lineage section in place; the eval section is untouched
        assertEquals(1, card.split(Lineage.BEGIN, -1).length - 1, card);
        assertTrue(card.contains("- importance run: abc") && card.contains(ModelCard.BEGIN) && card.contains("| t | acc |"), card);
        String d = Files.readString(distilled.resolve("README.md"));
        assertTrue(d.indexOf("### 1. prune") < d.indexOf("### 2. distill") && d.contains("- student tokens: 1,000"), d);

        Files.writeString(tmp.resolve("lineage.json"), "{\"steps\": 3}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Lineage.read(tmp));
        assertTrue(e.getMessage().startsWith(tmp.resolve("lineage.json") + ": not a minitron lineage file"), e.getMessage());
    }
}
