package ai.minitron.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.cli.Main;
import ai.minitron.io.Json;
import ai.minitron.stats.ArrowIo;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/**
 * {@code minitron importance|eval|search --spark local[2]} write the same files as without {@code --spark}
 * (the library's own writers; only where the forward passes ran differs), and run.json records the partitioning.
 */
class SparkCliTest {
    @TempDir
    Path tmp;

    static void run(String... args) {
        assertEquals(0, Main.run(args), "minitron " + String.join(" ", args));
    }

    static String[] with(String[] base, String... more) {
        List<String> a = new ArrayList<>(List.of(base));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    @Test
    void importanceEvalAndSearchWriteTheSameFilesAsOneProcess() throws Exception {
        String[] imp = {"importance", "--model", "data/teacher", "--data", "validation", "--samples", "10", "--seq-len",
            "32", "--batch-size", "4", "--metrics", "activation,activation_channel,block_importance,magnitude,wanda",
            "--no-depth", "--no-charts"};
        Path one = tmp.resolve("imp-one");
        Path dist = tmp.resolve("imp-spark");
        run(with(imp, "--out", one.toString()));
        run(with(imp, "--out", dist.toString(), "--spark", "local[2]", "--partitions", "3"));
        for (String f : List.of("importance.arrow", "accumulators.arrow", "agreement.arrow", "stability.arrow")) {
            SparkExactnessTest.assertSameTable(ArrowIo.read(one.resolve(f)), ArrowIo.read(dist.resolve(f)), f, 3);
        }
        JsonObject runJson = Json.parse(Files.readString(dist.resolve("run.json"))).getAsJsonObject();
        JsonObject cluster = runJson.getAsJsonObject("cluster");
        assertEquals("local[2]", cluster.get("master").getAsString());
        JsonObject job = cluster.getAsJsonArray("jobs").get(0).getAsJsonObject();
        assertEquals(3, job.get("partitions").getAsInt(), "run.json records the partitioning: " + job);
        assertEquals(3, job.getAsJsonArray("partition_detail").size());

        String[] ev = {"eval", "--model", "data/teacher", "--tasks", "ppl,continuation,lastword", "--text", "data/corpus/test.txt",
            "--protocol", "document", "--seq-len", "128", "--limit", "6", "--batch-size", "4"};
        Path small = tmp.resolve("small.txt");
        ai.minitron.data.Corpus.write(small, ai.minitron.data.Corpus.read(Path.of("data/corpus/test.txt")).documents()
                .subList(0, 3).stream().map(d -> d.substring(0, Math.min(800, d.length()))).toList());
        ev[6] = small.toString();
        Path evOne = tmp.resolve("eval-one");
        Path evDist = tmp.resolve("eval-spark");
        run(with(ev, "--out", evOne.toString()));
        run(with(ev, "--out", evDist.toString(), "--spark", "local[2]", "--partitions", "2"));
        Table a = ArrowIo.read(evOne.resolve("report.arrow"));
        Table b = ArrowIo.read(evDist.resolve("report.arrow"));
        assertTrue(a.rowCount() >= 6, a.print());
        SparkExactnessTest.assertSameTable(a, b, "report.arrow", 2);

        String[] search = {"search", "--model", "data/teacher", "--importance", one.toString(), "--params", "80%",
            "--tolerance", "0.3", "--hidden", "192,256", "--mlp", "352,704", "--layers", "8", "--validation-tokens", "128",
            "--seq-len", "32", "--batch-size", "4"};
        Path sOne = tmp.resolve("search-one");
        Path sDist = tmp.resolve("search-spark");
        run(with(search, "--out", sOne.toString()));
        run(with(search, "--out", sDist.toString(), "--spark", "local[2]", "--partitions", "2"));
        SparkExactnessTest.assertSameTable(ArrowIo.read(sOne.resolve("candidates.arrow")),
                ArrowIo.read(sDist.resolve("candidates.arrow")), "candidates.arrow", 2);
    }
}
