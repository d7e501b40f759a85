package ai.minitron.spark;

import ai.minitron.cluster.ModelRef;
import ai.minitron.eval.LastWord;
import ai.minitron.eval.Perplexity;
import ai.minitron.eval.TokenScorer;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * Evaluation's forward passes as Spark jobs. {@link #scorer}: the requests (documents' rolling windows, sliding
 * windows, multiple-choice sequences) are put in {@link TokenScorer#order} and cut into its batches; each
 * partition scores a contiguous run of batches with {@link TokenScorer#score} (one batch per call, so the same
 * forward pass as one process) and the per-request log-likelihoods come back in request order, for the
 * library's protocols to reduce ({@code Perplexity}, {@code MultipleChoice}). {@link #windowNll}: the token
 * protocol's batches, each batch's NLL sum returned, summed by the library in batch order.
 */
final class ScoringJob {
    private ScoringJob() {}

    /** Batch {@code index} of the scoring order: its requests and their positions in the request list. */
    record Batch(int index, ArrayList<TokenScorer.Request> requests, int[] positions) implements Serializable {}

    /** What a partition returns: scores by batch, and its task facts. */
    record Scored(List<Integer> batches, List<TokenScorer.Score[]> scores, Tasks.Info info) implements Serializable {}

    record Window(int index, Perplexity.WindowBatch batch) implements Serializable {}

    record WindowSums(List<Integer> batches, double[] nll, Tasks.Info info) implements Serializable {}

    static TokenScorer.Scorer scorer(SparkCluster cluster, ModelRef ref, int batchSize) {
        return requests -> {
            int[] order = TokenScorer.order(requests);
            List<Batch> work = new ArrayList<>();
            for (int start = 0, k = 0; start < order.length; start += batchSize, k++) {
                int n = Math.min(batchSize, order.length - start);
                ArrayList<TokenScorer.Request> rs = new ArrayList<>(n);
                int[] pos = Arrays.copyOfRange(order, start, start + n);
                for (int p : pos) {
                    rs.add(requests.get(p));
                }
                work.add(new Batch(k, rs, pos));
            }
            int parts = cluster.partitionsFor(work.size());
            long t0 = System.nanoTime();
            List<Scored> got = cluster.run("eval", () -> cluster.context().parallelize(work, parts)
                    .mapPartitions(it -> List.of(score(ref, batchSize, it)).iterator()).collect());
            TokenScorer.Score[] out = new TokenScorer.Score[requests.size()];
            List<Tasks.Info> infos = new ArrayList<>();
            for (Scored s : got) {
                for (int i = 0; i < s.batches().size(); i++) {
                    Batch b = work.get(s.batches().get(i));
                    TokenScorer.Score[] sc = s.scores().get(i);
                    for (int j = 0; j < sc.length; j++) {
                        out[b.positions()[j]] = sc[j];
                    }
                }
                infos.add(s.info());
            }
            cluster.record("eval", work.size(), parts, (System.nanoTime() - t0) / 1e9, infos);
            return Arrays.asList(out);
        };
    }

    static Scored score(ModelRef ref, int batchSize, Iterator<Batch> it) {
        long t0 = System.nanoTime();
        List<Batch> mine = new ArrayList<>();
        it.forEachRemaining(mine::add);
        List<Integer> ids = new ArrayList<>();
        List<TokenScorer.Score[]> scores = new ArrayList<>();
        if (!mine.isEmpty()) {
            ModelCache.Loaded m = ModelCache.get(ref);
            synchronized (m.lock()) {
                for (Batch b : mine) {
                    // one batch per call: TokenScorer keeps the (already sorted) order and runs it as one forward pass
                    List<TokenScorer.Score> s = TokenScorer.score(m.model().config(), m.model().weights(), m.manager(),
                            b.requests(), batchSize, null);
                    ids.add(b.index());
                    scores.add(s.toArray(new TokenScorer.Score[0]));
                }
            }
        }
        long out = Tasks.serializedSize(new ArrayList<>(scores));
        return new Scored(ids, scores, Tasks.info(mine.size(), mine.isEmpty() ? -1 : mine.get(0).index(),
                Tasks.serializedSize(new ArrayList<>(mine)), out, t0));
    }

    /** Batch {@code index} of last-word items: their encoded contexts. */
    record Contexts(int index, ArrayList<long[]> contexts) implements Serializable {}

    record Generated(List<Integer> batches, List<List<String>> texts, Tasks.Info info) implements Serializable {}

    /**
     * Last-word greedy decoding: each partition decodes a contiguous run of the item batches with
     * {@link LastWord#greedyGenerate} (one batch per call, as in one process); texts come back in item order.
     */
    static LastWord.Generator generator(SparkCluster cluster, ModelRef ref, String tokenizerJson, int batchSize) {
        return batches -> {
            List<Contexts> work = new ArrayList<>();
            for (int i = 0; i < batches.size(); i++) {
                work.add(new Contexts(i, new ArrayList<>(batches.get(i))));
            }
            int parts = cluster.partitionsFor(work.size());
            long t0 = System.nanoTime();
            List<Generated> got = cluster.run("eval", () -> cluster.context().parallelize(work, parts)
                    .mapPartitions(it -> List.of(generate(ref, tokenizerJson, batchSize, it)).iterator()).collect());
            List<List<String>> byBatch = new ArrayList<>(java.util.Collections.nCopies(batches.size(), null));
            List<Tasks.Info> infos = new ArrayList<>();
            for (Generated g : got) {
                for (int i = 0; i < g.batches().size(); i++) {
                    byBatch.set(g.batches().get(i), g.texts().get(i));
                }
                infos.add(g.info());
            }
            cluster.record("eval", work.size(), parts, (System.nanoTime() - t0) / 1e9, infos);
            List<String> out = new ArrayList<>();
            byBatch.forEach(out::addAll);
            return out;
        };
    }

    static Generated generate(ModelRef ref, String tokenizerJson, int batchSize, Iterator<Contexts> it) {
        long t0 = System.nanoTime();
        List<Contexts> mine = new ArrayList<>();
        it.forEachRemaining(mine::add);
        List<Integer> ids = new ArrayList<>();
        List<List<String>> texts = new ArrayList<>();
        if (!mine.isEmpty()) {
            ModelCache.Loaded m = ModelCache.get(ref);
            synchronized (m.lock()) {
                var tok = ModelCache.tokenizer(tokenizerJson);
                for (Contexts c : mine) {
                    texts.add(new ArrayList<>(LastWord.greedyGenerate(m.model().config(), m.model().weights(),
                            m.manager(), tok, c.contexts(), batchSize)));
                    ids.add(c.index());
                }
            }
        }
        return new Generated(ids, texts, Tasks.info(mine.size(), mine.isEmpty() ? -1 : mine.get(0).index(),
                Tasks.serializedSize(new ArrayList<>(mine)), Tasks.serializedSize(new ArrayList<>(texts)), t0));
    }

    static Perplexity.BatchNll windowNll(SparkCluster cluster, ModelRef ref) {
        return batches -> {
            List<Window> work = new ArrayList<>();
            for (int i = 0; i < batches.size(); i++) {
                work.add(new Window(i, batches.get(i)));
            }
            int parts = cluster.partitionsFor(work.size());
            long t0 = System.nanoTime();
            List<WindowSums> got = cluster.run("eval", () -> cluster.context().parallelize(work, parts)
                    .mapPartitions(it -> List.of(windows(ref, it)).iterator()).collect());
            double[] out = new double[batches.size()];
            List<Tasks.Info> infos = new ArrayList<>();
            for (WindowSums s : got) {
                for (int i = 0; i < s.batches().size(); i++) {
                    out[s.batches().get(i)] = s.nll()[i];
                }
                infos.add(s.info());
            }
            cluster.record("eval", work.size(), parts, (System.nanoTime() - t0) / 1e9, infos);
            return out;
        };
    }

    static WindowSums windows(ModelRef ref, Iterator<Window> it) {
        long t0 = System.nanoTime();
        List<Window> mine = new ArrayList<>();
        it.forEachRemaining(mine::add);
        List<Integer> ids = new ArrayList<>();
        double[] nll = new double[mine.size()];
        if (!mine.isEmpty()) {
            ModelCache.Loaded m = ModelCache.get(ref);
            synchronized (m.lock()) {
                for (int i = 0; i < mine.size(); i++) {
                    nll[i] = Perplexity.batchNll(m.model().config(), m.model().weights(), m.manager(), mine.get(i).batch());
                    ids.add(mine.get(i).index());
                }
            }
        }
        return new WindowSums(ids, nll, Tasks.info(mine.size(), mine.isEmpty() ? -1 : mine.get(0).index(),
                Tasks.serializedSize(new ArrayList<>(mine)), 8L * nll.length, t0));
    }
}
