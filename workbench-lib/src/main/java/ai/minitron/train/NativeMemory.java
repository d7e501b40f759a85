package ai.minitron.train;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Structure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's native memory, for leak checks in long runs. Two views:
 *
 * <ul>
 *   <li>{@link #mallocInUseBytes()}: bytes currently allocated through glibc's malloc family (mallinfo2:
 *       in-use chunks of every arena plus mmapped blocks). libtorch's CPU tensors and Java's direct
 *       buffers live there, the Java heap does not, and memory the allocator keeps cached after a free
 *       is not counted. A steady rise over steps of equal work is a leak; a flat line proves there is none.
 *   <li>{@link #rssKb()}: the resident set, which also counts Java heap pages as they are first touched
 *       and the allocator's cached pages: it rises during warm-up without any leak, so it only bounds.
 * </ul>
 */
public final class NativeMemory {
    private NativeMemory() {}

    /** glibc's struct mallinfo2 (glibc >= 2.33): all fields are size_t. */
    @Structure.FieldOrder({"arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
            "fordblks", "keepcost"})
    public static class MallInfo2 extends Structure implements Structure.ByValue {
        public long arena;
        public long ordblks;
        public long smblks;
        public long hblks;
        public long hblkhd;
        public long usmblks;
        public long fsmblks;
        public long uordblks;
        public long fordblks;
        public long keepcost;
    }

    private interface LibC extends Library {
        MallInfo2 mallinfo2();
    }

    private static final LibC LIBC = load();

    private static LibC load() {
        try {
            LibC c = Native.load("c", LibC.class);
            c.mallinfo2();
            return c;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return null; // not glibc >= 2.33 (macOS, musl, old Linux)
        }
    }

    /** Whether {@link #mallocInUseBytes()} can measure on this system (glibc >= 2.33). */
    public static boolean mallocStatsAvailable() {
        return LIBC != null;
    }

    /** Bytes in use through malloc (in-use arena chunks + mmapped blocks); -1 where unavailable. */
    public static long mallocInUseBytes() {
        if (LIBC == null) {
            return -1;
        }
        MallInfo2 m = LIBC.mallinfo2();
        return m.uordblks + m.hblkhd;
    }

    /** Resident set size in kB (Linux /proc/self/status); -1 elsewhere. */
    public static long rssKb() {
        return status("VmRSS:");
    }

    /** Peak resident set size in kB since start or the last {@link #resetPeakRss()} (VmHWM); -1 where unavailable. */
    public static long peakRssKb() {
        return status("VmHWM:");
    }

    /** Resets the peak resident set to the current one (Linux: "5" to /proc/self/clear_refs); false where it cannot. */
    public static boolean resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static long status(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
