package ai.minitron.reproduce;

import ai.minitron.io.Json;
import ai.minitron.io.AtomicFiles;
import ai.minitron.model.Provenance;
import ai.minitron.stats.ArrowIo;
import ai.minitron.stats.Bootstrap;
import ai.minitron.stats.Interval;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import tech.tablesaw.api.BooleanColumn;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Runs the reproduction's {@link Experiment}s on one {@link Lab} and writes, under the output directory:
 *
 * <pre>
 *   findings.arrow            one row per measured number: experiment, finding, paper_claim, setting, metric, value
 *                             (the mean over seeds), holds, verdict, d_mean, d_lo, d_hi (the decided difference and
 *                             its 95 % interval, NaN without one), n_seeds
 *   findings.md               one table line per experiment: the claim, the rule, our measurement, d [95 % interval],
 *                             n, verdict
 *   run.json                  seed, the derived per-seed seeds, budget, wall time per experiment, git commit, command
 *   experiments/N-name/       rows.arrow, detail.arrow (curves, per-candidate numbers; a seed column), summary.json
 *   seeds/I/importance, runs/ seed I's importance pass and retraining runs (reused on re-run); the zero-shot budget
 *                             keeps its single importance pass in importance/
 * </pre>
 *
 * The full (retraining) budgets run every experiment once per seed and decide over the seeds
 * ({@link OverSeeds}); the zero-shot budget decides each finding on a paired bootstrap over validation windows.
 * An experiment whose summary.json exists is not run again: its stored results are reused, so an
 * interrupted run resumes at experiment granularity (and, inside an experiment, at each seed's finished
 * retraining runs).
 */
public final class Findings {
    public static final String TABLE_FILE = "findings.arrow";
    public static final String MARKDOWN_FILE = "findings.md";
    public static final String RUN_FILE = "run.json";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping()
            .serializeSpecialFloatingPointValues().create();

    /** Progress across experiments. */
    public interface Listener {
        void started(Experiment e);

        void finished(Experiment e, Summary s, boolean reused);
    }

    /**
     * The stored verdict of one experiment.
     *
     * @param seeds seeds the verdict rests on (1 for the zero-shot budget; null in summaries written before seeds)
     * @param unit the unit of the difference d ("nats", "(Kendall tau)")
     */
    public record Summary(int number, String name, String finding, String paperClaim, String rule, String measurement,
            boolean holds, double seconds, String verdict, Double diffMean, Double diffLo, Double diffHi, Integer seeds,
            String unit) {
        /** "holds", "fails", "inconclusive" for a verdict with an interval; "yes" / "no" for a single-run rule. */
        public String verdictLabel() {
            return verdict != null ? verdict : holds ? "yes" : "no";
        }
    }

    private Findings() {}

    /** The nine experiments, in the order. */
    public static List<Experiment> all() {
        return List.of(new AggregationExperiment(), new BaselinesExperiment(), new RetrainingLossExperiment(),
                new ScratchExperiment(), new WidthDepthExperiment(), new SearchExperiment(), new TwoStepExperiment(),
                new DepthBlockExperiment(), new IterativeImportanceExperiment());
    }

    /** The experiments with a zero-shot part ({@code minitron reproduce --zero-shot}). */
    public static Set<Integer> zeroShotNumbers() {
        Set<Integer> out = new TreeSet<>();
        for (Experiment e : all()) {
            if (e.zeroShot() != null) out.add(e.number());
        }
        return out;
    }

    /** {@link #parseOnly(String)} for the zero-shot findings: refuses experiments that need retraining. */
    public static Set<Integer> parseOnlyZeroShot(String only) {
        Set<Integer> valid = zeroShotNumbers();
        if (only == null || only.isBlank()) {
            return valid;
        }
        Set<Integer> chosen = parseOnly(only);
        for (int n : chosen) {
            if (!valid.contains(n)) {
                throw new IllegalArgumentException("--only: experiment " + n + " needs retraining and has no zero-shot"
                        + " part (zero-shot experiments: " + valid + ")");
            }
        }
        return chosen;
    }

    /** Parses "1,3,5" (or null = all) into experiment numbers; throws naming the bad entry. */
    public static Set<Integer> parseOnly(String only) {
        Set<Integer> out = new TreeSet<>();
        if (only == null || only.isBlank()) {
            for (Experiment e : all()) {
                out.add(e.number());
            }
            return out;
        }
        for (String part : only.split(",")) {
            String p = part.trim();
            int n;
            try {
                n = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--only: '" + p + "' is not an experiment number (1-9)");
            }
            if (n < 1 || n > all().size()) {
                throw new IllegalArgumentException("--only: there is no experiment " + n + " (valid: 1-" + all().size() + ")");
            }
            out.add(n);
        }
        return out;
    }

    /**
     * Runs the selected experiments (reusing finished ones) and rewrites the summary files from every
     * experiment with results in the output directory.
     *
     * @param command the command line, recorded in run.json and findings.md
     */
    public static List<Summary> run(Lab lab, Set<Integer> only, String command, Listener listener) {
        Path out = lab.out();
        checkBudget(out, lab);
        long t0 = System.nanoTime();
        List<Summary> ran = new ArrayList<>();
        for (Experiment e : all()) {
            if (!only.contains(e.number())) {
                continue;
            }
            Path dir = dir(out, e);
            Summary stored = readSummary(dir);
            if (stored != null) {
                ran.add(stored);
                if (listener != null) listener.finished(e, stored, true);
                continue;
            }
            if (listener != null) listener.started(e);
            long s0 = System.nanoTime();
            boolean zeroShot = lab.budget().zeroShot();
            if (zeroShot && e.zeroShot() == null) {
                throw new IllegalArgumentException("experiment " + e.number() + " needs retraining; the zero-shot budget"
                        + " runs only " + zeroShotNumbers());
            }
            Outcome o = zeroShot ? e.zeroShot().run(lab) : e.run(lab);
            Interval d = o.difference();
            Summary s = new Summary(e.number(), e.name(), e.finding(), zeroShot ? e.zeroShot().claim() : e.paperClaim(),
                    o.rule(), o.measurement(), o.holds(), (System.nanoTime() - s0) / 1e9,
                    o.verdict() == null ? null : o.verdict().label(), d == null ? null : d.mean(),
                    d == null ? null : d.lo(), d == null ? null : d.hi(), zeroShot ? 1 : lab.budget().seeds(),
                    zeroShot ? "nats" : e.unit());
            write(dir, e, o, s);
            ran.add(s);
            if (listener != null) listener.finished(e, s, false);
        }
        writeSummaries(lab, command, (System.nanoTime() - t0) / 1e9);
        return ran;
    }

    static Path dir(Path out, Experiment e) {
        return out.resolve("experiments").resolve(e.number() + "-" + e.name());
    }

    private static void write(Path dir, Experiment e, Outcome o, Summary s) {
        try {
            Files.createDirectories(dir);
            ArrowIo.write(rowsTable(e, o, s.seeds()), dir.resolve("rows.arrow"));
            ArrowIo.write(o.detail(), dir.resolve("detail.arrow"),
                    Map.of("experiment", String.valueOf(e.number()), "name", e.name()));
            AtomicFiles.writeString(dir.resolve("summary.json"), GSON.toJson(s) + "\n");
        } catch (IOException x) {
            throw new UncheckedIOException("cannot write results of experiment " + e.number() + " to " + dir + ": "
                    + x.getMessage(), x);
        }
    }

    /** The long findings rows of one experiment (values are means over {@code seeds} seeds). */
    static Table rowsTable(Experiment e, Outcome o, int seeds) {
        IntColumn exp = IntColumn.create("experiment");
        StringColumn finding = StringColumn.create("finding");
        StringColumn claim = StringColumn.create("paper_claim");
        StringColumn setting = StringColumn.create("setting");
        StringColumn metric = StringColumn.create("metric");
        DoubleColumn value = DoubleColumn.create("value");
        BooleanColumn holds = BooleanColumn.create("holds");
        StringColumn verdict = StringColumn.create("verdict");
        DoubleColumn dMean = DoubleColumn.create("d_mean");
        DoubleColumn dLo = DoubleColumn.create("d_lo");
        DoubleColumn dHi = DoubleColumn.create("d_hi");
        IntColumn nSeeds = IntColumn.create("n_seeds");
        Interval d = o.difference();
        for (Outcome.Row r : o.rows()) {
            dMean.append(d == null ? Double.NaN : d.mean());
            dLo.append(d == null ? Double.NaN : d.lo());
            dHi.append(d == null ? Double.NaN : d.hi());
            nSeeds.append(seeds);
            verdict.append(o.verdict() == null ? (o.holds() ? "yes" : "no") : o.verdict().label());
            exp.append(e.number());
            finding.append(e.finding());
            claim.append(e.paperClaim());
            setting.append(r.setting());
            metric.append(r.metric());
            value.append(r.value());
            holds.append(o.holds());
        }
        return Table.create("findings", exp, finding, claim, setting, metric, value, holds, verdict, dMean, dLo, dHi,
                nSeeds);
    }

    static Summary readSummary(Path dir) {
        Path f = dir.resolve("summary.json");
        if (!Files.isRegularFile(f) || !Files.isRegularFile(dir.resolve("rows.arrow"))) {
            return null;
        }
        try {
            return GSON.fromJson(Files.readString(f), Summary.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(f + ": not an experiment summary (" + e.getMessage()
                    + "); delete its directory to rerun the experiment", e);
        }
    }

    /** Refuses to mix results of different budgets or seeds in one output directory. */
    private static void checkBudget(Path out, Lab lab) {
        Path f = out.resolve(RUN_FILE);
        if (!Files.isRegularFile(f)) {
            return;
        }
        try {
            JsonObject run = Json.parse(Files.readString(f)).getAsJsonObject();
            String budget = run.getAsJsonObject("budget").get("name").getAsString();
            long seed = run.get("seed").getAsLong();
            JsonObject b = run.getAsJsonObject("budget");
            int seeds = b.has("seeds") ? b.get("seeds").getAsInt() : 1;
            if (!budget.equals(lab.budget().name()) || seed != lab.seed() || seeds != lab.budget().seeds()) {
                throw new IllegalArgumentException(out + " holds results of the '" + budget + "' budget with seed " + seed
                        + " and " + seeds + " seed(s) per arm, not '" + lab.budget().name() + "' with seed " + lab.seed()
                        + " and " + lab.budget().seeds() + ": use another --out or the same options");
            }
            // The same name with other sizes (the full budget before it was halved for 3 seeds) does not mix either.
            JsonObject stored = b.deepCopy();
            if (!stored.has("seeds")) {
                stored.addProperty("seeds", 1);
            }
            if (!stored.equals(lab.budget().toJson())) {
                throw new IllegalArgumentException(out + " holds results of another '" + budget + "' budget (" + stored
                        + ", not " + lab.budget().toJson() + "): use another --out");
            }
            String teacher = run.has("teacher_hash") ? run.get("teacher_hash").getAsString() : null;
            String now = Provenance.checkpointHash(lab.teacherDir());
            if (teacher != null && !teacher.equals(now)) {
                throw new IllegalArgumentException(out + " holds results of another teacher (" + run.get("teacher").getAsString()
                        + ", checkpoint hash " + teacher + "), not " + lab.teacherDir() + ": use another --out");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
        } catch (IllegalStateException | NullPointerException | com.google.gson.JsonParseException e) {
            throw new IllegalArgumentException(f + ": not a reproduction run.json (" + e.getMessage() + ")", e);
        }
    }

    /** Every stored experiment summary in {@code out}, in order. */
    public static List<Summary> summaries(Path out) {
        List<Summary> s = new ArrayList<>();
        for (Experiment e : all()) {
            Summary x = readSummary(dir(out, e));
            if (x != null) s.add(x);
        }
        return s;
    }

    /** findings.arrow of a finished run (what the notebook loads). */
    public static Table load(Path out) {
        Path f = out.resolve(TABLE_FILE);
        if (!Files.isRegularFile(f)) {
            throw new IllegalArgumentException("no " + TABLE_FILE + " in " + out + " (run `minitron reproduce --out "
                    + out + "` first)");
        }
        return ArrowIo.read(f);
    }

    /** The detail table of experiment {@code number} in {@code out}. */
    public static Table detail(Path out, int number) {
        for (Experiment e : all()) {
            if (e.number() == number) {
                Path f = dir(out, e).resolve("detail.arrow");
                if (!Files.isRegularFile(f)) {
                    throw new IllegalArgumentException("experiment " + number + " has no results in " + out);
                }
                return ArrowIo.read(f);
            }
        }
        throw new IllegalArgumentException("there is no experiment " + number);
    }

    private static void writeSummaries(Lab lab, String command, double seconds) {
        Path out = lab.out();
        List<Summary> all = summaries(out);
        Table rows = null;
        for (Experiment e : all()) {
            Path f = dir(out, e).resolve("rows.arrow");
            if (Files.isRegularFile(f)) {
                Table t = ArrowIo.read(f);
                rows = rows == null ? t : rows.append(t);
            }
        }
        JsonObject run = new JsonObject();
        run.addProperty("created", Instant.now().toString());
        run.addProperty("command", command);
        run.addProperty("seed", lab.seed());
        JsonArray seeds = new JsonArray();
        for (int i = 0; i < lab.budget().seeds(); i++) {
            seeds.add(Lab.seedOf(lab.seed(), i));
        }
        run.add("seeds", seeds);
        run.add("budget", lab.budget().toJson());
        run.addProperty("teacher", lab.teacherDir().toString());
        run.addProperty("teacher_hash", Provenance.checkpointHash(lab.teacherDir()));
        run.addProperty("teacher_params", Shapes.params(lab.teacherConfig()));
        run.addProperty("teacher_val_loss", lab.validationLoss(lab.teacherConfig(), lab.teacherWeights()));
        run.addProperty("threads", System.getProperty("ai.djl.pytorch.num_threads", "default"));
        run.addProperty("git_commit", gitCommit());
        run.addProperty("last_invocation_seconds", seconds);
        JsonObject walls = new JsonObject();
        double total = 0;
        for (Summary s : all) {
            walls.addProperty(s.number() + "-" + s.name(), s.seconds());
            total += s.seconds();
        }
        run.add("experiment_seconds", walls);
        run.addProperty("experiments_total_seconds", total);
        JsonArray done = new JsonArray();
        all.forEach(s -> done.add(s.number()));
        run.add("experiments", done);
        try {
            if (rows != null) {
                ArrowIo.write(rows, out.resolve(TABLE_FILE), Map.of("producer", "minitron reproduce",
                        "budget", lab.budget().name(), "seed", String.valueOf(lab.seed())));
            }
            AtomicFiles.writeString(out.resolve(MARKDOWN_FILE), markdown(all, lab.budget(), lab.seed(), command, total,
                    run.get("teacher_val_loss").getAsDouble()));
            AtomicFiles.writeString(out.resolve(RUN_FILE), GSON.toJson(run) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the findings to " + out + ": " + e.getMessage(), e);
        }
    }

    /** The Markdown table: one line per experiment. */
    static String markdown(List<Summary> all, ComputeBudget budget, long seed, String command, double seconds,
            double teacherLoss) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "Command: `%s` (budget %s, seed %d, %d seed(s) per arm, D = %,d distillation"
                + " tokens, experiments' wall time %.1f min; teacher validation loss %.3f on the same rows)%n%n", command,
                budget.name(), seed, budget.seeds(), budget.distillTokens(), seconds / 60, teacherLoss));
        b.append(String.format(Locale.ROOT, "In every rule, a validation loss is lower than (beats) another only by more"
                + " than %.3f nats (0.5%% perplexity); smaller differences are ties, and a claim that one setting beats"
                + " another does not hold on a tie.", Outcome.TIE_NATS));
        if (budget.zeroShot()) {
            b.append(String.format(Locale.ROOT, " Each verdict is computed from the 95%% paired bootstrap interval (%,d"
                    + " resamples) of the loss difference d over the %d validation windows: **holds** when the interval"
                    + " excludes a tie in the paper's direction, **fails** when it excludes a tie in the opposite direction,"
                    + " **inconclusive** when it reaches the tie band [-%.3f, +%.3f].", Bootstrap.DEFAULT_RESAMPLES,
                    budget.validationRows() / budget.batchSize(), Outcome.TIE_NATS, Outcome.TIE_NATS));
        } else {
            b.append(String.format(Locale.ROOT, " Every arm of every experiment runs with %d seeds (seed i changes the"
                    + " data order, the calibration sample and hence the importance ranking, the random baseline and the"
                    + " initialisation; the validation rows are the same for all). Each verdict is computed from the 95%%"
                    + " Student-t interval of the mean over the seeds of the per-seed difference d (for a claim with"
                    + " several comparisons, the least favourable one of each seed): **holds** when the interval excludes"
                    + " a tie in the paper's direction, **fails** when it excludes a tie in the opposite direction,"
                    + " **inconclusive** when it reaches the tie band [-%.3f, +%.3f] (experiment 6 compares Kendall tau,"
                    + " tie band [-%.1f, +%.1f]). One seed gives no interval and decides nothing.", budget.seeds(),
                    Outcome.TIE_NATS, Outcome.TIE_NATS, SearchExperiment.TIE_TAU, SearchExperiment.TIE_TAU));
        }
        b.append(String.format("%n%n"));
        b.append("| # | finding | paper's claim | rule applied | our measurement | d [95% interval] | n | verdict |\n");
        b.append("|---|---|---|---|---|---|---|---|\n");
        for (Summary s : all) {
            String v = s.verdictLabel();
            b.append("| ").append(s.number()).append(" | ").append(cell(s.finding())).append(" | ")
                    .append(cell(s.paperClaim())).append(" | ").append(cell(s.rule())).append(" | ")
                    .append(cell(s.measurement())).append(" | ").append(interval(s)).append(" | ")
                    .append(units(s, budget)).append(" | ")
                    .append(v.equals("yes") || v.equals("holds") ? v : "**" + v + "**").append(" |\n");
        }
        return b.toString();
    }

    /** "mean [lo, hi]" of the decided difference, "-" without one. */
    public static String interval(Summary s) {
        return s.diffMean() == null ? "-" : String.format(Locale.ROOT, "%.4f [%.4f, %.4f]", s.diffMean(), s.diffLo(),
                s.diffHi());
    }

    /** What the interval is over: "3 seeds", "32 windows" (zero-shot budget), "1 run" (summaries before seeds). */
    static String units(Summary s, ComputeBudget budget) {
        if (budget.zeroShot()) {
            return (budget.validationRows() / budget.batchSize()) + " windows";
        }
        return s.seeds() == null ? "1 run" : s.seeds() + (s.seeds() == 1 ? " seed" : " seeds");
    }

    private static String cell(String s) {
        return s.replace("|", "\\|").replace("\n", " ");
    }

    /** HEAD of the git checkout the process runs in, or null. */
    static String gitCommit() {
        try {
            Process p = new ProcessBuilder("git", "rev-parse", "HEAD").redirectErrorStream(true).start();
            String s = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 && s.matches("[0-9a-f]{40}") ? s : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
