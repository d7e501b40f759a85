package ai.minitron.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.Objects;

/**
 * Atomic file replacement: write to a temporary sibling in the same directory, fsync it, rename it
 * over the target, fsync the directory. A reader (or a crash) sees either the old file or the new
 * one, never half of one. Used for checkpoints, config.json, importance tables and run sidecars.
 *
 * <p>Temporary siblings are hidden files named {@code .<target>.<random>.tmp}; on failure they are
 * deleted before the exception propagates.
 */
public final class AtomicFiles {

  private static final SecureRandom RANDOM = new SecureRandom();

  private AtomicFiles() {}

  /** Writes a file's content to an open channel; the channel is positioned at 0 and empty. */
  @FunctionalInterface
  public interface ChannelWriter {
    void writeTo(FileChannel channel) throws IOException;
  }

  /**
   * A fresh, not-yet-existing path next to {@code target} (same directory, hence same file system,
   * so a rename onto the target can be atomic).
   */
  public static Path tempSibling(Path target) {
    Path abs = target.toAbsolutePath();
    Path name = abs.getFileName();
    if (name == null) {
      throw new IllegalArgumentException("not a file path: " + target);
    }
    for (int attempt = 0; ; attempt++) {
      String suffix = Long.toUnsignedString(RANDOM.nextLong(), 36);
      Path tmp = abs.resolveSibling("." + name + "." + suffix + ".tmp");
      if (!Files.exists(tmp) || attempt > 100) {
        return tmp;
      }
    }
  }

  /** Atomically replaces {@code target} with {@code bytes}, creating parent directories. */
  public static void writeBytes(Path target, byte[] bytes) throws IOException {
    Objects.requireNonNull(bytes, "bytes");
    write(target, ch -> writeFully(ch, ByteBuffer.wrap(bytes)));
  }

  /** Atomically replaces {@code target} with {@code text} encoded as UTF-8. */
  public static void writeString(Path target, String text) throws IOException {
    writeBytes(target, text.getBytes(StandardCharsets.UTF_8));
  }

  /** Atomically replaces {@code target} with a copy of the file {@code source}. */
  public static void copy(Path source, Path target) throws IOException {
    write(target, ch -> {
      try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ)) {
        long size = in.size();
        for (long at = 0; at < size; ) {
          at += in.transferTo(at, size - at, ch);
        }
      }
    });
  }

  /**
   * Atomically replaces {@code target} with whatever {@code body} writes, streaming: the content
   * never has to exist as one array.
   */
  public static void write(Path target, ChannelWriter body) throws IOException {
    Path abs = target.toAbsolutePath();
    Path dir = abs.getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    Path tmp = tempSibling(abs);
    boolean moved = false;
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        body.writeTo(ch);
        ch.force(true);
      }
      try {
        Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
      }
      moved = true;
      if (dir != null) {
        fsyncDirectory(dir);
      }
    } finally {
      if (!moved) {
        Files.deleteIfExists(tmp);
      }
    }
  }

  /** Writes all remaining bytes of {@code buf} (FileChannel.write may write fewer per call). */
  public static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
  }

  /** Makes the rename durable; best effort (not every OS lets a directory be opened). */
  private static void fsyncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // Windows and some file systems refuse; the data itself was already forced.
    }
  }
}
