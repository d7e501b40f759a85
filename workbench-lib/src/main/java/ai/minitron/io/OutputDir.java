package ai.minitron.io;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The one rule for every folder a command writes. Each output folder carries a marker,
 * {@code .minitron-output.json}: its kind (the command that wrote it), what it was made of (e.g. the
 * parent model's checkpoint hash) and, once complete, the SHA-256 of every file it covers.
 *
 * <ul>
 *   <li>{@link #replace}: a folder written whole (convert, prune, importance, exports, reports) is written
 *       into a hidden temporary sibling, its marker last, then swapped in by renames: an interruption
 *       leaves the old folder or the new one, never new files beside old ones.
 *   <li>{@link #open}: a resumable folder (distill, train, search, teacher-cache, reproduce) gets its marker
 *       first and keeps resuming into itself.
 *   <li>{@link #check}: an existing folder of another kind or another model is refused unless
 *       {@code force}, and {@code force} replaces it whole. A folder without a marker is taken as this
 *       kind when it holds one of the kind's files (folders written before markers existed).
 *   <li>{@link #verify}: a reader refuses a folder whose files do not match their marker's hashes.
 * </ul>
 *
 * Writers hold the folder's {@link OutputLock}; this class does not take it.
 */
public final class OutputDir {
    public static final String MARKER = ".minitron-output.json";

    private OutputDir() {}

    /** Writes a folder's content into an empty directory. */
    @FunctionalInterface
    public interface Body {
        void writeTo(Path dir) throws IOException;
    }

    /**
     * Refuses {@code dir} unless it is absent, empty, or an output of {@code kind} made of {@code of}
     * (null: of anything); with {@code force} anything is accepted (the caller replaces it whole).
     *
     * @param kindFiles files that mark a folder without a marker as one of this kind
     */
    public static void check(Path dir, String kind, String of, boolean force, Set<String> kindFiles) {
        recover(dir);
        if (force || !Files.exists(dir)) {
            return;
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + " is a file, not an output folder; pass --force to replace it");
        }
        JsonObject m = readMarker(dir);
        if (m == null) {
            List<String> names = names(dir);
            if (names.isEmpty() || names.stream().anyMatch(kindFiles::contains)) {
                return;
            }
            throw new IllegalArgumentException(dir + " exists and is not a '" + kind + "' folder (it holds "
                    + String.join(", ", names.subList(0, Math.min(5, names.size())))
                    + (names.size() > 5 ? ", ..." : "") + "); pass --force to replace it whole, or choose another --out");
        }
        String theirKind = m.has("kind") ? m.get("kind").getAsString() : "?";
        if (!theirKind.equals(kind)) {
            throw new IllegalArgumentException(dir + " holds a '" + theirKind + "' folder, not a '" + kind
                    + "' one; pass --force to replace it whole, or choose another --out");
        }
        String theirOf = markedOf(m);
        if (of != null && theirOf != null && !of.equals(theirOf)) {
            throw new IllegalArgumentException(dir + " holds a '" + kind + "' folder of another model (" + abbrev(theirOf)
                    + ", this run is of " + abbrev(of) + "); pass --force to replace it whole, or choose another --out");
        }
    }

    /**
     * Writes the folder {@code dir} whole: {@code body} fills a hidden temporary sibling, the marker (kind,
     * of, hashes of every file) is written last, and the sibling is swapped in for {@code dir}.
     * Nothing of an old {@code dir} survives; on failure the old {@code dir} is untouched.
     */
    public static void replace(Path dir, String kind, String of, Body body) {
        Path abs = dir.toAbsolutePath().normalize();
        Path tmp = sibling(abs, "tmp");
        try {
            Files.createDirectories(tmp);
            body.writeTo(tmp);
            writeMarker(tmp, kind, of, true);
            swap(tmp, abs);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new UncheckedIOException("cannot write " + dir + ": " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            deleteQuietly(tmp);
            throw e;
        }
    }

    /**
     * Prepares a resumable folder: with {@code force} an existing {@code dir} is deleted first; the folder
     * is created and marked as {@code kind} of {@code of} (incomplete) unless it is already so marked; a folder
     * marked complete is marked incomplete again, since the run about to resume into it may change its files
     * ({@link #complete} marks it again at the end). Call {@link #check} first.
     */
    public static void open(Path dir, String kind, String of, boolean force) {
        try {
            if (force) {
                FileTrees.delete(dir);
            }
            Files.createDirectories(dir);
            JsonObject m = readMarker(dir);
            if (m == null || (m.has("complete") && m.get("complete").getAsBoolean())) {
                writeMarker(dir, kind, of != null ? of : markedOf(m), false);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Marks a resumable folder complete, with the hashes of the files it covers now. */
    public static void complete(Path dir, String kind, String of) {
        try {
            writeMarker(dir, kind, of, true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot mark " + dir + " complete: " + e.getMessage(), e);
        }
    }

    /**
     * Checks the files of a marked, complete folder against their hashes, refusing a missing or changed
     * file by name. Returns false when the folder has no marker (written before markers existed).
     */
    public static boolean verify(Path dir, String... names) {
        JsonObject m = readMarker(dir);
        if (m == null || !m.has("files")) {
            return false;
        }
        JsonObject files = m.getAsJsonObject("files");
        List<String> which = names.length > 0 ? List.of(names) : new ArrayList<>(files.keySet());
        for (String name : which) {
            Path f = dir.resolve(name);
            if (!files.has(name)) {
                if (Files.exists(f)) {
                    throw new IllegalArgumentException(f + " is not part of the output recorded in " + dir.resolve(MARKER)
                            + " (left over from another run?); rerun the command that writes " + dir);
                }
                continue;
            }
            if (!Files.isRegularFile(f)) {
                throw new IllegalArgumentException(f + " is missing (recorded in " + dir.resolve(MARKER)
                        + "); rerun the command that writes " + dir);
            }
            if (!hash(f).equals(files.get(name).getAsString())) {
                throw new IllegalArgumentException(f + " does not match the hash recorded in " + dir.resolve(MARKER)
                        + " (changed or mixed with another run); rerun the command that writes " + dir);
            }
        }
        return true;
    }

    /** What a marker says its folder was made of, or null (no marker, or of nothing in particular). */
    private static String markedOf(JsonObject m) {
        return m != null && m.has("of") && !m.get("of").isJsonNull() ? m.get("of").getAsString() : null;
    }

    /** The marker of {@code dir}, or null if it has none. */
    public static JsonObject readMarker(Path dir) {
        Path f = dir.resolve(MARKER);
        if (!Files.isRegularFile(f)) {
            return null;
        }
        try {
            return Json.parse(Files.readString(f)).getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(f + ": unreadable output marker (" + e.getMessage()
                    + "); pass --force to replace " + dir + " whole", e);
        }
    }

    /**
     * Finishes a swap a kill interrupted between its two renames: {@code dir} absent, its complete new
     * version in a temporary sibling or its old version set aside. Leftover temporary siblings are deleted.
     */
    static void recover(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            return;
        }
        String prefix = "." + abs.getFileName() + ".";
        List<Path> tmps = new ArrayList<>();
        List<Path> olds = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(parent, prefix + "*")) {
            for (Path p : s) {
                String n = p.getFileName().toString();
                if (n.endsWith(".swap-tmp")) {
                    tmps.add(p);
                } else if (n.endsWith(".swap-old")) {
                    olds.add(p);
                }
            }
            if (!Files.exists(abs)) {
                Path done = tmps.stream().filter(t -> isComplete(t)).findFirst().orElse(null);
                if (done != null) {
                    move(done, abs);
                } else if (!olds.isEmpty()) {
                    move(olds.get(0), abs);
                }
            }
            for (Path p : tmps) {
                deleteQuietly(p);
            }
            for (Path p : olds) {
                deleteQuietly(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot recover " + dir + " from an interrupted write: " + e.getMessage(), e);
        }
    }

    private static boolean isComplete(Path tmp) {
        JsonObject m = Files.exists(tmp) ? readMarker(tmp) : null;
        return m != null && m.has("complete") && m.get("complete").getAsBoolean();
    }

    private static void swap(Path tmp, Path dir) throws IOException {
        if (Files.exists(dir)) {
            Path old = sibling(dir, "old");
            move(dir, old);
            move(tmp, dir);
            FileTrees.delete(old);
        } else {
            move(tmp, dir);
        }
    }

    private static Path sibling(Path dir, String what) {
        Path abs = dir.toAbsolutePath().normalize();
        Path s = AtomicFiles.tempSibling(abs);
        String n = s.getFileName().toString();
        return s.resolveSibling(n.substring(0, n.length() - ".tmp".length()) + ".swap-" + what);
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    private static void writeMarker(Path dir, String kind, String of, boolean complete) throws IOException {
        JsonObject m = new JsonObject();
        m.addProperty("kind", kind);
        m.addProperty("of", of);
        m.addProperty("complete", complete);
        if (complete) {
            JsonObject files = new JsonObject();
            for (Map.Entry<String, String> e : hashes(dir).entrySet()) {
                files.addProperty(e.getKey(), e.getValue());
            }
            m.add("files", files);
        }
        AtomicFiles.writeString(dir.resolve(MARKER),
                new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(m) + "\n");
    }

    /** SHA-256 of every regular file under {@code dir} but the marker, by relative path ('/'-separated). */
    private static Map<String, String> hashes(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                String rel = dir.relativize(f).toString().replace('\\', '/');
                if (!rel.equals(MARKER)) {
                    out.put(rel, hash(f));
                }
            }
        }
        return out;
    }

    private static String hash(Path f) {
        MessageDigest md = Sha256.digest();
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(f)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot hash " + f + ": " + e.getMessage(), e);
        }
        return Sha256.hex(md);
    }

    private static List<String> names(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static String abbrev(String of) {
        return of.length() > 24 ? of.substring(0, 24) + "…" : of;
    }

    private static void deleteQuietly(Path p) {
        try {
            FileTrees.delete(p);
        } catch (IOException e) {
            // best effort: a leftover hidden sibling is deleted by the next recover()
        }
    }
}
