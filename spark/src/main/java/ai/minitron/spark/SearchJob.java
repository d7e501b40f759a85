package ai.minitron.spark;

import ai.minitron.cluster.ModelRef;
import ai.minitron.distill.Distiller;
import ai.minitron.prune.KeepSet;
import ai.minitron.prune.PrunePlan;
import ai.minitron.search.ArchitectureSearch;
import ai.minitron.search.Candidate;
import ai.minitron.train.BatchSource;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.broadcast.Broadcast;

/**
 * Search's zero-shot scoring as a Spark job ({@link ArchitectureSearch.ZeroShotScorer}): the driver decides, for
 * each candidate, the plan and the kept units ({@link ArchitectureSearch#keepFor}, cheap); the candidates are
 * partitioned, and each task prunes its candidates from the parent (loaded once per executor JVM) and validates
 * them on the search's fixed validation rows (broadcast once) with {@link ArchitectureSearch#zeroShot}, the same
 * computation as in one process. The scores come back by candidate id; {@code SearchStore} writes
 * {@code candidates.arrow} on the driver.
 */
final class SearchJob implements ArchitectureSearch.ZeroShotScorer {
    private final SparkCluster cluster;
    private final ModelRef parent;

    SearchJob(SparkCluster cluster, ModelRef parent) {
        this.cluster = cluster;
        this.parent = parent;
    }

    record Work(int index, String id, PrunePlan plan, KeepSet keep) implements Serializable {}

    /** What the tasks share: validation rows and settings. */
    record Validation(long[][] rows, int batches, int batchSize, Distiller.Options distill) implements Serializable {}

    record Scored(List<String> ids, List<double[]> scores, Tasks.Info info) implements Serializable {}

    @Override
    public Map<String, double[]> score(ArchitectureSearch search, List<Candidate> candidates) {
        List<Work> work = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            Candidate c = candidates.get(i);
            work.add(new Work(i, c.id(), search.planFor(c), search.keepFor(c)));
        }
        Broadcast<Validation> val = cluster.context().broadcast(new Validation(search.validationRows(),
                search.validationBatches(), search.batchSize(), search.distillation()));
        int parts = cluster.partitionsFor(work.size());
        ModelRef ref = parent;
        long t0 = System.nanoTime();
        try {
            List<Scored> got = cluster.run("search", () -> cluster.context().parallelize(work, parts)
                    .mapPartitions(it -> List.of(score(ref, val.value(), it)).iterator()).collect());
            Map<String, double[]> out = new LinkedHashMap<>();
            List<Tasks.Info> infos = new ArrayList<>();
            for (Scored s : got) {
                for (int i = 0; i < s.ids().size(); i++) {
                    out.put(s.ids().get(i), s.scores().get(i));
                }
                infos.add(s.info());
            }
            cluster.record("search", work.size(), parts, (System.nanoTime() - t0) / 1e9, infos);
            return out;
        } finally {
            val.destroy();
        }
    }

    static Scored score(ModelRef ref, Validation v, Iterator<Work> it) {
        long t0 = System.nanoTime();
        List<Work> mine = new ArrayList<>();
        it.forEachRemaining(mine::add);
        List<String> ids = new ArrayList<>();
        List<double[]> scores = new ArrayList<>();
        if (!mine.isEmpty()) {
            ModelCache.Loaded m = ModelCache.get(ref);
            BatchSource rows = BatchSource.ofRows(v.rows());
            synchronized (m.lock()) {
                for (Work w : mine) {
                    scores.add(ArchitectureSearch.zeroShot(m.model().config(), m.model().weights(), w.plan(), w.keep(),
                            v.distill(), rows, v.batches(), v.batchSize()));
                    ids.add(w.id());
                }
            }
        }
        return new Scored(ids, scores, Tasks.info(mine.size(), mine.isEmpty() ? -1 : mine.get(0).index(),
                Tasks.serializedSize(new ArrayList<>(mine)), 16L * scores.size(), t0));
    }
}
