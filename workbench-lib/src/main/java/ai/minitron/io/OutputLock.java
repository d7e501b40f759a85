package ai.minitron.io;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * One writer per output folder: a lock file {@code .NAME.lock} beside the folder {@code NAME} (outside it,
 * so a whole-folder swap leaves it alone) holding the owner's pid, host and start time. A second writer is
 * refused with a message naming the owner; a lock whose pid no longer runs on this host (the owner was
 * killed) is taken over, and {@link #note()} says so. Closing the lock deletes the file.
 */
public final class OutputLock implements AutoCloseable {
    private final Path file;
    private final String token;
    private final String note;

    private OutputLock(Path file, String token, String note) {
        this.file = file;
        this.token = token;
        this.note = note;
    }

    /** The lock file of {@code dir}: {@code .NAME.lock} in its parent. */
    public static Path fileOf(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        Path name = abs.getFileName();
        if (name == null || abs.getParent() == null) {
            throw new IllegalArgumentException("not an output folder: " + dir);
        }
        return abs.resolveSibling("." + name + ".lock");
    }

    /**
     * Takes the lock of {@code dir} (creating its parent folder), or refuses naming the running owner.
     *
     * @throws IllegalStateException when another live process holds it
     */
    public static OutputLock acquire(Path dir) {
        Path file = fileOf(dir);
        long pid = ProcessHandle.current().pid();
        String host = host();
        String token = pid + "@" + host + "@" + System.nanoTime();
        JsonObject o = new JsonObject();
        o.addProperty("pid", pid);
        o.addProperty("host", host);
        o.addProperty("started", Instant.now().toString());
        o.addProperty("token", token);
        String note = null;
        try {
            Files.createDirectories(file.getParent());
            for (int attempt = 0; attempt < 5; attempt++) {
                try {
                    create(file, o.toString() + "\n");
                    return new OutputLock(file, token, note);
                } catch (FileAlreadyExistsException e) {
                    JsonObject owner = readOwner(file);
                    if (owner == null) {
                        continue; // released meanwhile, or still being written: try again
                    }
                    long ownerPid = owner.has("pid") ? owner.get("pid").getAsLong() : -1;
                    String ownerHost = owner.has("host") ? owner.get("host").getAsString() : "?";
                    String since = owner.has("started") ? owner.get("started").getAsString() : "?";
                    if (ownerHost.equals(host) && ownerPid > 0 && !alive(ownerPid)) {
                        Files.deleteIfExists(file);
                        note = "took over the stale lock " + file + " of pid " + ownerPid + " (started " + since
                                + ", no longer running)";
                        continue;
                    }
                    throw new IllegalStateException(dir + " is being written by another minitron process: pid "
                            + ownerPid + " on " + ownerHost + " since " + since + " (lock " + file
                            + "); wait for it to finish or use another --out");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + dir + " (" + file + "): " + e.getMessage(), e);
        }
        throw new IllegalStateException("cannot lock " + dir + ": " + file + " keeps changing hands");
    }

    /** A message about a stale lock that was taken over, or null. */
    public String note() {
        return note;
    }

    /** Releases the lock (deletes the file if it is still ours). */
    @Override
    public void close() {
        JsonObject owner = readOwner(file);
        if (owner != null && owner.has("token") && owner.get("token").getAsString().equals(token)) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot release the lock " + file + ": " + e.getMessage(), e);
            }
        }
    }

    /** Creates {@code file} with {@code text} whole or not at all: a hard link of a finished temporary file. */
    private static void create(Path file, String text) throws IOException {
        Path tmp = AtomicFiles.tempSibling(file);
        Files.writeString(tmp, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            Files.createLink(file, tmp);
        } catch (UnsupportedOperationException e) {
            Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static JsonObject readOwner(Path file) {
        try {
            return Json.parse(Files.readString(file)).getAsJsonObject();
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("unreadable lock file " + file + " (" + e.getMessage()
                    + "); delete it if no minitron process is writing " + file.getParent(), e);
        }
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }
}
