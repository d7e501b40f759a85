package ai.minitron.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {

  @TempDir Path dir;

  private Set<String> names() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
    }
  }

  @Test
  void replacesExistingFileAndLeavesNoTempFiles() throws Exception {
    Path target = dir.resolve("config.json");
    AtomicFiles.writeString(target, "{\"old\": true}");
    AtomicFiles.writeString(target, "{\"new\": true}");
    assertEquals("{\"new\": true}", Files.readString(target));
    assertEquals(Set.of("config.json"), names());
  }

  @Test
  void failingWriterKeepsOldContentAndRemovesTemp() throws Exception {
    Path target = dir.resolve("model.safetensors");
    AtomicFiles.writeString(target, "old");
    IOException boom = assertThrows(IOException.class, () -> AtomicFiles.write(target, ch -> {
      ch.write(ByteBuffer.wrap("half of the new cont".getBytes()));
      throw new IOException("disk full");
    }));
    assertEquals("disk full", boom.getMessage());
    assertEquals("old", Files.readString(target));
    assertEquals(Set.of("model.safetensors"), names());

    assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, ch -> {
      throw new IllegalStateException("bug in the writer");
    }));
    assertEquals("old", Files.readString(target));
    assertEquals(Set.of("model.safetensors"), names());
  }

  @Test
  void concurrentReaderSeesOnlyWholeOldOrWholeNewContent() throws Exception {
    Path target = dir.resolve("run.json");
    byte[] a = new byte[64 * 1024];
    byte[] b = new byte[160 * 1024];
    Arrays.fill(a, (byte) 'a');
    Arrays.fill(b, (byte) 'b');
    AtomicFiles.writeBytes(target, a);

    AtomicBoolean done = new AtomicBoolean();
    AtomicReference<String> failure = new AtomicReference<>();
    AtomicInteger reads = new AtomicInteger();
    Thread reader = new Thread(() -> {
      while (!done.get()) {
        try {
          byte[] seen = Files.readAllBytes(target);
          reads.incrementAndGet();
          if (!Arrays.equals(seen, a) && !Arrays.equals(seen, b)) {
            failure.compareAndSet(null, "torn read of " + seen.length + " bytes");
          }
        } catch (NoSuchFileException e) {
          failure.compareAndSet(null, "target missing during replace");
        } catch (IOException e) {
          failure.compareAndSet(null, e.toString());
        }
      }
    });
    reader.start();
    for (int i = 0; i < 40; i++) {
      AtomicFiles.writeBytes(target, i % 2 == 0 ? b : a);
    }
    done.set(true);
    reader.join();
    assertEquals(null, failure.get());
    assertTrue(reads.get() > 0);
    assertArrayEquals(a, Files.readAllBytes(target));
    assertEquals(Set.of("run.json"), names());
  }

  @Test
  void safeTensorsWriteOverExistingFileIsAtomic() throws Exception {
    Path file = dir.resolve("model.safetensors");
    SafeTensors.write(file, List.of(HostTensor.ofFloats("w", new long[] {2}, new float[] {1, 2})), Map.of("v", "1"));
    SafeTensors.write(file, List.of(HostTensor.ofFloats("w", new long[] {3}, new float[] {4, 5, 6})), Map.of("v", "2"));
    assertArrayEquals(new float[] {4, 5, 6}, SafeTensors.read(file).get("w").toFloats());
    assertEquals(Map.of("v", "2"), SafeTensors.metadata(file));
    assertEquals(Set.of("model.safetensors"), names());
  }

  @Test
  void tempSiblingIsAFreshHiddenFileInTheSameDirectory() throws Exception {
    Path target = dir.resolve("model.safetensors");
    Path t1 = AtomicFiles.tempSibling(target);
    Path t2 = AtomicFiles.tempSibling(target);
    assertEquals(target.toAbsolutePath().getParent(), t1.getParent());
    assertTrue(t1.getFileName().toString().startsWith(".model.safetensors."));
    assertTrue(t1.getFileName().toString().endsWith(".tmp"));
    assertFalse(Files.exists(t1));
    assertNotEquals(t1, t2);
  }

  @Test
  void createsMissingParentDirectories() throws Exception {
    Path target = dir.resolve("a/b/c.txt");
    AtomicFiles.writeString(target, "hi \u00e9");
    assertEquals("hi \u00e9", Files.readString(target));
  }

  @Test
  void copyReplacesTheTargetAndTreesDelete() throws IOException {
    byte[] data = new byte[3 * 65536 + 7];
    for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 31);
    Path src = dir.resolve("a/src.bin");
    AtomicFiles.writeBytes(src, data);
    Path dst = dir.resolve("b/c/dst.bin");
    AtomicFiles.writeString(dst, "old");
    AtomicFiles.copy(src, dst);
    assertArrayEquals(data, Files.readAllBytes(dst));
    FileTrees.delete(dir.resolve("b"));
    assertFalse(Files.exists(dir.resolve("b")));
    FileTrees.delete(dir.resolve("b")); // absent: nothing to do
    assertTrue(Files.exists(src));
  }
}
