package ai.minitron.cli;

import ai.minitron.io.OutputDir;
import ai.minitron.io.OutputLock;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --force} and the output-folder rule every writing command follows ({@link OutputDir}): take the
 * folder's lock (printing a note when a dead owner's lock is taken over), refuse a folder of another kind
 * or model unless {@code --force}, then write it whole ({@link OutputDir#replace}) or resume into it
 * ({@link OutputDir#open}).
 */
final class OutputOptions {
    @Option(names = "--force", description = "Replace an existing --out of another kind or another model whole"
            + " (a resumable run starts over).")
    boolean force;

    /** The lock of {@code out}; refuses a folder another live process writes. */
    static OutputLock lock(Path out) {
        OutputLock lock = OutputLock.acquire(out);
        if (lock.note() != null) {
            System.err.println("note: " + lock.note());
        }
        return lock;
    }

    /** Refuses {@code out} if it is of another kind or made of another {@code of}, unless --force. */
    void check(Path out, OutputKind kind, String of) {
        OutputDir.check(out, kind.key, of, force, kind.files);
    }

    /** Locks {@code out} and prepares it for a resumable run ({@link #open}); the lock is held until closed. */
    OutputLock lockAndOpen(Path out, OutputKind kind, String of) {
        OutputLock lock = lock(out);
        try {
            open(out, kind, of);
            return lock;
        } catch (RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    /** Checks {@code out} and prepares it for a resumable run (--force: starts over). */
    void open(Path out, OutputKind kind, String of) {
        check(out, kind, of);
        OutputDir.open(out, kind.key, of, force);
    }
}
