package ai.minitron.reproduce;

import ai.minitron.io.AtomicFiles;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * One finished retraining run (distillation or training from scratch) of the reproduction: its
 * validation curve from the zero-shot point (tokens = 0) to the end, stored as OUT/runs/KEY/run.json so a
 * re-run or another experiment reuses it.
 *
 * @param tokens student tokens trained on
 * @param curve validation points, zero-shot first
 * @param seconds wall time
 */
public record Run(String key, long tokens, List<Point> curve, double seconds) {
    static final String FILE = "run.json";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();

    /** @param kl KL(teacher ‖ student) at τ = 1 (NaN when not measured) */
    public record Point(long tokens, double valLoss, double kl) {}

    public Run {
        if (curve.isEmpty()) {
            throw new IllegalArgumentException("run " + key + " has no validation point");
        }
        curve = List.copyOf(curve);
    }

    /** Validation loss before any retraining. */
    public double zeroShot() {
        return curve.get(0).valLoss();
    }

    /** Validation loss at the end. */
    public double finalLoss() {
        return curve.get(curve.size() - 1).valLoss();
    }

    /** KL to the teacher at the end (NaN for runs without a teacher). */
    public double finalKl() {
        return curve.get(curve.size() - 1).kl();
    }

    void write(Path dir) {
        try {
            Files.createDirectories(dir);
            AtomicFiles.writeString(dir.resolve(FILE), GSON.toJson(this) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(FILE) + ": " + e.getMessage(), e);
        }
    }

    /** The stored run in {@code dir}, or null if it has not finished. */
    static Run read(Path dir) {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) {
            return null;
        }
        try {
            return GSON.fromJson(Files.readString(f), Run.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(f + ": not a reproduction run record (" + e.getMessage()
                    + "); delete it to recompute the run", e);
        }
    }
}
