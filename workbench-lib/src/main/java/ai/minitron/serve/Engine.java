package ai.minitron.serve;

import ai.minitron.eval.TokenScorer;
import ai.minitron.generate.Generation;
import ai.minitron.generate.GenerationConfig;
import ai.minitron.generate.SamplingParams;
import ai.minitron.generate.StopReason;
import ai.minitron.generate.TokenListener;
import ai.minitron.tokenize.Tokenizer;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one thread that runs the models, fed by a bounded queue of admitted {@link Job}s.
 *
 * <p>Admission: at most {@code maxPending} jobs are queued or running at once; {@link #tryAdmit} refuses the
 * next one (the server answers 429), so a flood of clients cannot grow memory or latency without bound.
 *
 * <p>Each turn the worker takes every job waiting in the queue. The scoring jobs among them (an echoed prompt
 * with nothing or one greedy token generated: what lm-evaluation-harness sends for {@code loglikelihood}) are
 * batched together, across requests: their prompts are sorted by length and scored {@code batchRows} rows per
 * forward pass by {@link TokenScorer#tokenDetails}, which also gives the top alternatives and the greedy next
 * token. The other jobs generate, one request at a time (its prompts batched together), with the library's
 * KV-cached {@link ai.minitron.generate.Generator}; the per-token log-probabilities they ask for come from one
 * scoring pass over prompt and completion afterwards.
 *
 * <p>Cancellation: a job whose client went away is skipped if it has not started, and a running generation
 * stops at its next token (the generator's listener throws {@link Job.Cancelled}; its arrays are freed by its
 * own scope).
 */
public final class Engine implements AutoCloseable {
    private final BlockingQueue<Job> queue = new LinkedBlockingQueue<>();
    private final Semaphore slots;
    private final int maxPending;
    private final int batchRows;
    private final Thread worker;
    private volatile boolean running = true;
    private long nextId = 1;

    final AtomicLong scoringPasses = new AtomicLong();
    final AtomicLong scoredRows = new AtomicLong();
    final AtomicLong largestBatchRequests = new AtomicLong();
    final AtomicLong generations = new AtomicLong();
    final AtomicLong generatedTokens = new AtomicLong();
    final AtomicLong cancelled = new AtomicLong();
    final AtomicLong completed = new AtomicLong();

    public Engine(int maxPending, int batchRows) {
        if (maxPending < 1 || batchRows < 1) {
            throw new IllegalArgumentException("max pending requests and batch rows must be >= 1, got " + maxPending
                    + " and " + batchRows);
        }
        this.maxPending = maxPending;
        this.slots = new Semaphore(maxPending);
        this.batchRows = batchRows;
        this.worker = new Thread(this::loop, "minitron-serve-engine");
        worker.setDaemon(true);
        worker.start();
    }

    public int maxPending() {
        return maxPending;
    }

    /** Takes a slot for a new job, or false when {@code maxPending} jobs are already queued or running. */
    boolean tryAdmit() {
        return slots.tryAcquire();
    }

    /** Gives back a slot taken by {@link #tryAdmit} (after the job's answer was sent, or it failed). */
    void release() {
        slots.release();
    }

    /** Queues an admitted job. */
    void submit(Job job) {
        queue.add(job);
    }

    /** Counters for tests and the log: scoring passes, rows, the largest number of requests in one pass, ... */
    public Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("scoring_passes", scoringPasses.get());
        m.put("scored_rows", scoredRows.get());
        m.put("largest_batch_requests", largestBatchRequests.get());
        m.put("generations", generations.get());
        m.put("generated_tokens", generatedTokens.get());
        m.put("cancelled", cancelled.get());
        m.put("completed", completed.get());
        return m;
    }

    private void loop() {
        while (running) {
            Job first;
            try {
                first = queue.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (first == null) {
                continue;
            }
            List<Job> jobs = new ArrayList<>();
            jobs.add(first);
            queue.drainTo(jobs);
            List<Job> scoring = new ArrayList<>();
            List<Job> generating = new ArrayList<>();
            for (Job j : jobs) {
                if (j.cancelled()) {
                    cancelled.incrementAndGet();
                    j.result.completeExceptionally(new Job.Cancelled());
                } else if (j.request.scoringOnly() && j.stream == null) {
                    scoring.add(j);
                } else {
                    generating.add(j);
                }
            }
            if (!scoring.isEmpty()) {
                runScoring(scoring);
            }
            for (Job j : generating) {
                if (j.cancelled()) {
                    cancelled.incrementAndGet();
                    j.result.completeExceptionally(new Job.Cancelled());
                    continue;
                }
                try {
                    j.result.complete(generate(j));
                    completed.incrementAndGet();
                } catch (Job.Cancelled c) {
                    cancelled.incrementAndGet();
                    j.result.completeExceptionally(c);
                } catch (RuntimeException e) {
                    j.result.completeExceptionally(e);
                }
            }
        }
    }

    /** One prompt of a scoring job. */
    private record Row(Job job, int prompt, long[] tokens) {}

    private void runScoring(List<Job> jobs) {
        Map<ServedModel, List<Row>> byModel = new LinkedHashMap<>();
        for (Job j : jobs) {
            for (int i = 0; i < j.request.prompts().size(); i++) {
                byModel.computeIfAbsent(j.request.model(), k -> new ArrayList<>()).add(new Row(j, i, j.request.prompts().get(i)));
            }
        }
        Map<Job, TokenScorer.TokenDetail[]> details = new LinkedHashMap<>();
        for (Job j : jobs) {
            details.put(j, new TokenScorer.TokenDetail[j.request.prompts().size()]);
        }
        List<Job> failed = new ArrayList<>();
        for (Map.Entry<ServedModel, List<Row>> e : byModel.entrySet()) {
            ServedModel model = e.getKey();
            List<Row> rows = e.getValue();
            rows.sort(Comparator.comparingInt((Row r) -> -r.tokens().length)); // longest first: little padding
            for (int start = 0; start < rows.size(); start += batchRows) {
                List<Row> batch = rows.subList(start, Math.min(rows.size(), start + batchRows));
                int k = 1; // top-1 gives the greedy next token
                List<long[]> seqs = new ArrayList<>(batch.size());
                for (Row r : batch) {
                    Integer lp = r.job().request.logprobs();
                    k = Math.max(k, lp == null ? 0 : lp);
                    seqs.add(r.tokens());
                }
                try {
                    List<TokenScorer.TokenDetail> d = TokenScorer.tokenDetails(model.lm().config(), model.lm().weights(),
                            model.manager(), seqs, k);
                    for (int i = 0; i < batch.size(); i++) {
                        details.get(batch.get(i).job())[batch.get(i).prompt()] = d.get(i);
                    }
                } catch (RuntimeException ex) {
                    for (Row r : batch) {
                        failed.add(r.job());
                        r.job().result.completeExceptionally(ex);
                    }
                }
                scoringPasses.incrementAndGet();
                scoredRows.addAndGet(batch.size());
            }
        }
        largestBatchRequests.accumulateAndGet(jobs.size(), Math::max);
        for (Job j : jobs) {
            if (failed.contains(j)) {
                continue;
            }
            try {
                j.result.complete(scoredAnswer(j, details.get(j)));
                completed.incrementAndGet();
            } catch (RuntimeException ex) {
                j.result.completeExceptionally(ex);
            }
        }
    }

    /** The answer of a scoring job: the prompt's details, plus the greedy next token when max_tokens is 1. */
    private JsonObject scoredAnswer(Job j, TokenScorer.TokenDetail[] details) {
        CompletionRequest r = j.request;
        Tokenizer tok = r.model().tokenizer();
        Integer eos = tok.eosTokenId();
        JsonArray choices = new JsonArray();
        int completionTokens = 0;
        for (int i = 0; i < r.prompts().size(); i++) {
            long[] prompt = r.prompts().get(i);
            TokenScorer.TokenDetail d = details[i];
            long[] gen = new long[0];
            String text = "";
            String finish = "length";
            if (r.maxTokens() == 1) {
                long next = d.topIds()[prompt.length - 1][0];
                gen = new long[] {next};
                if (eos != null && next == eos) {
                    finish = "stop";
                } else {
                    text = tok.decode(gen);
                    for (String s : r.stop()) {
                        int at = text.indexOf(s);
                        if (at >= 0) {
                            text = text.substring(0, at);
                            finish = "stop";
                        }
                    }
                }
            }
            completionTokens += gen.length;
            long[] all = concat(prompt, gen);
            // position p's distribution is row p - 1 of the prompt's details (row prompt.length - 1 for the new token)
            float[] tl = Arrays.copyOf(d.tokenLogprobs(), all.length - 1);
            if (gen.length == 1) {
                tl[prompt.length - 1] = d.topLogprobs()[prompt.length - 1][0];
            }
            choices.add(Completions.choice(i, r, tok, all, prompt.length, text, finish, tl, d.topIds(), d.topLogprobs()));
        }
        return Completions.answer(nextId(), r, choices, promptTokens(r), completionTokens);
    }

    private JsonObject generate(Job j) {
        CompletionRequest r = j.request;
        ServedModel model = r.model();
        Tokenizer tok = model.tokenizer();
        SamplingParams sampling = new SamplingParams(r.temperature(), 0, r.topP(), 1.0, r.seed());
        GenerationConfig cfg = new GenerationConfig(r.maxTokens(), sampling, null, r.stop(),
                Math.min(r.prompts().size(), batchRows));
        String id = nextId();
        TokenListener listener = new TokenListener() {
            @Override
            public void onToken(int row, long token, String delta) {
                if (j.cancelled()) {
                    throw new Job.Cancelled();
                }
                if (j.stream != null && !delta.isEmpty()) {
                    send(j, Completions.chunk(id, r, row, delta, null));
                }
            }

            @Override
            public void onFinish(int row, Generation g) {
                if (j.stream != null) {
                    send(j, Completions.chunk(id, r, row, "", finishReason(g.stopReason())));
                }
            }
        };
        if (j.stream != null && r.echo()) {
            for (int i = 0; i < r.prompts().size(); i++) {
                send(j, Completions.chunk(id, r, i, r.promptTexts().get(i), null));
            }
        }
        generations.incrementAndGet();
        List<Generation> gens = model.generator().generateTokens(r.prompts(), cfg, listener);
        int completionTokens = 0;
        List<long[]> full = new ArrayList<>();
        for (int i = 0; i < gens.size(); i++) {
            completionTokens += gens.get(i).tokens().length;
            full.add(concat(r.prompts().get(i), gens.get(i).tokens()));
        }
        generatedTokens.addAndGet(completionTokens);
        if (j.stream != null) {
            send(j, "[DONE]");
            return null;
        }
        List<TokenScorer.TokenDetail> details = null;
        if (r.logprobs() != null) {
            if (j.cancelled()) {
                throw new Job.Cancelled();
            }
            details = TokenScorer.tokenDetails(model.lm().config(), model.lm().weights(), model.manager(), full,
                    r.logprobs());
        }
        JsonArray choices = new JsonArray();
        for (int i = 0; i < gens.size(); i++) {
            Generation g = gens.get(i);
            TokenScorer.TokenDetail d = details == null ? null : details.get(i);
            choices.add(Completions.choice(i, r, tok, full.get(i), r.prompts().get(i).length, g.text(),
                    finishReason(g.stopReason()), d == null ? null : d.tokenLogprobs(), d == null ? null : d.topIds(),
                    d == null ? null : d.topLogprobs()));
        }
        return Completions.answer(id, r, choices, promptTokens(r), completionTokens);
    }

    private static void send(Job j, String data) {
        try {
            j.stream.event(data);
        } catch (IOException e) {
            j.cancel();
            throw new Job.Cancelled();
        }
    }

    static String finishReason(StopReason why) {
        return why == StopReason.EOS || why == StopReason.STOP_STRING ? "stop" : "length";
    }

    private static int promptTokens(CompletionRequest r) {
        return r.prompts().stream().mapToInt(p -> p.length).sum();
    }

    private static long[] concat(long[] a, long[] b) {
        long[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private synchronized String nextId() {
        return "cmpl-" + (nextId++);
    }

    /** Stops the worker (jobs still queued fail) and waits for it. */
    @Override
    public void close() {
        running = false;
        worker.interrupt();
        try {
            worker.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Job j; (j = queue.poll()) != null; ) {
            j.result.completeExceptionally(new IllegalStateException("the server is shutting down"));
        }
    }
}
