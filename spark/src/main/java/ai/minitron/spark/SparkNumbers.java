package ai.minitron.spark;

import ai.djl.ndarray.NDManager;
import ai.minitron.cluster.ModelRef;
import ai.minitron.data.CalibrationSet;
import ai.minitron.importance.ActivationPass;
import ai.minitron.importance.ImportanceEstimator;
import ai.minitron.model.LanguageModel;
import ai.minitron.model.Provenance;
import ai.minitron.tokenize.Tokenizer;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The numbers of README's "Past one machine" section, measured on {@code local[2]} (on a 2-core machine a cluster
 * cannot beat one process, so this measures what scales): the driver's merge cost against the number of
 * partitions, the per-task overhead of the importance job (wall time against partitions at a fixed calibration
 * set, with the model loads counted), and the bytes shipped per partition.
 *
 * <pre>
 *   java [spark/pom.xml's spark.jvm.flags] -cp "workbench-lib/target/classes:spark/target/classes:spark/target/lib/*" \
 *       ai.minitron.spark.SparkNumbers [MODEL_DIR] [SAMPLES]
 * </pre>
 */
public final class SparkNumbers {
    private SparkNumbers() {}

    public static void main(String[] args) {
        Path model = Path.of(args.length > 0 ? args[0] : "data/teacher");
        int samples = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int batch = 4;
        try (NDManager m = NDManager.newBaseManager(); LanguageModel lm = LanguageModel.load(model, m);
                Tokenizer tok = lm.openTokenizer(null)) {
            CalibrationSet cal = CalibrationSet.fromSplit(Path.of("data/corpus/validation.txt"), tok, samples, 64, 5,
                    lm.config().maxPositionEmbeddings());
            int[] bounds = ImportanceEstimator.stabilityBoundaries(samples, 2);
            ModelRef ref = ModelRef.of(model, Provenance.checkpointHash(model));
            new ActivationPass(lm.config(), lm.weights()).run(cal, batch, bounds, null); // warm-up
            double single = Double.MAX_VALUE;
            for (int r = 0; r < 3; r++) {
                long t0 = System.nanoTime();
                new ActivationPass(lm.config(), lm.weights()).run(cal, batch, bounds, null);
                single = Math.min(single, (System.nanoTime() - t0) / 1e9);
            }
            System.out.printf(Locale.ROOT, "model %s, %d samples x 64 tokens, batch %d (%d batches)%n", model, samples,
                    batch, (samples + batch - 1) / batch);
            System.out.printf(Locale.ROOT, "one process, activation pass: %.2f s (best of 3 after a warm-up)%n", single);
            double[] other = {Double.MAX_VALUE};
            Thread th = new Thread(() -> {
                for (int r = 0; r < 3; r++) {
                    long t0 = System.nanoTime();
                    new ActivationPass(lm.config(), lm.weights()).run(cal, batch, bounds, null);
                    other[0] = Math.min(other[0], (System.nanoTime() - t0) / 1e9);
                }
            });
            th.start();
            try {
                th.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            System.out.printf(Locale.ROOT, "one process, same pass on a second Java thread: %.2f s (best of 3)%n", other[0]);

            // driver merge cost: one partition's result (all shards) merged k times, as the driver's combOp does
            List<CalibrationSet.Batch> bs = cal.batches(batch);
            List<ImportanceJob.Work> first = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                CalibrationSet.Batch b = bs.get(i);
                first.add(new ImportanceJob.Work(i, b.inputs(), b.targets(), b.lengths(), b.sampleIds(),
                        ActivationPass.shardOf(i * batch, b.size(), bounds)));
            }
            ImportanceJob.Partial part = ImportanceJob.compute(ref, bounds.length + 1, first.iterator());
            long bytes = Tasks.serializedSize(part.shards);
            System.out.printf(Locale.ROOT, "one partition's accumulators: %,d bytes serialised%n", bytes);
            for (int warm = 0; warm < 3; warm++) {
                merge(part, 16, bounds.length + 1);
            }
            for (int k : new int[] {1, 2, 4, 8, 16, 32, 64}) {
                double s = merge(part, k, bounds.length + 1);
                System.out.printf(Locale.ROOT, "driver merge of %2d partitions: %7.2f ms (%.3f ms each)%n", k, s * 1e3,
                        s * 1e3 / k);
            }

            // per-task overhead: the same job in 1..16 partitions on local[2]
            try (SparkCluster spark = SparkCluster.open("local[2]", 0)) {
                spark.withPartitions(2).activationPass(ref).run(cal, batch, bounds, null); // warm-up: loads the model
                int loadsBefore = ModelCache.loads();
                for (int p : new int[] {1, 2, 4, 8, 16}) {
                    SparkCluster c = spark.withPartitions(p);
                    double wall = Double.MAX_VALUE;
                    for (int r = 0; r < 3; r++) {
                        long s0 = System.nanoTime();
                        c.activationPass(ref).run(cal, batch, bounds, null);
                        wall = Math.min(wall, (System.nanoTime() - s0) / 1e9);
                    }
                    JsonElement last = c.jobs().get(c.jobs().size() - 1);
                    long in = 0;
                    long out = 0;
                    int tasks = 0;
                    for (JsonElement e : last.getAsJsonObject().getAsJsonArray("partition_detail")) {
                        JsonObject o = e.getAsJsonObject();
                        in += o.get("bytes_in").getAsLong();
                        out += o.get("bytes_out").getAsLong();
                        tasks++;
                    }
                    System.out.printf(Locale.ROOT, "local[2], %2d partitions: %.2f s wall (best of 3); per partition %,d bytes in,"
                            + " %,d bytes out; model loads in this JVM so far %d%n", p, wall, in / tasks, out / tasks,
                            ModelCache.loads());
                }
                System.out.printf(Locale.ROOT, "model loads during the timed jobs: %d (%d before)%n",
                        ModelCache.loads() - loadsBefore, loadsBefore);
            }
        }
    }

    private static double merge(ImportanceJob.Partial part, int k, int shards) {
        long t0 = System.nanoTime();
        ImportanceJob.Partial acc = new ImportanceJob.Partial(shards);
        for (int i = 0; i < k; i++) {
            acc.merge(part);
        }
        return (System.nanoTime() - t0) / 1e9;
    }
}
