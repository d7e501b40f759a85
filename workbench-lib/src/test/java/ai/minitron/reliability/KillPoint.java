package ai.minitron.reliability;

import ai.minitron.cli.Main;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Permission;

/**
 * The CLI in a child JVM that stops at a chosen moment: when the process first opens for writing a file
 * whose path contains {@code -Dkillpoint.name}, it creates {@code -Dkillpoint.signal} and blocks, so the
 * test can kill it (kill -9) exactly there. Needs {@code -Djava.security.manager=allow} (Java 17).
 */
public final class KillPoint {
    private KillPoint() {}

    @SuppressWarnings("removal")
    public static void main(String[] args) {
        String name = System.getProperty("killpoint.name");
        Path signal = Path.of(System.getProperty("killpoint.signal"));
        System.setSecurityManager(new SecurityManager() {
            private volatile boolean reached;

            @Override
            public void checkPermission(Permission perm) {}

            @Override
            public void checkPermission(Permission perm, Object context) {}

            @Override
            public void checkWrite(String file) {
                if (!reached && file.contains(name)) {
                    reached = true;
                    try {
                        Files.createFile(signal);
                        Thread.sleep(Long.MAX_VALUE);
                    } catch (IOException | InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
        });
        Main.main(args);
    }
}
