package ai.minitron.kernel;

import org.dflib.jjava.jupyter.channels.JupyterConnection;
import org.dflib.jjava.jupyter.kernel.KernelConnectionProperties;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * Entry point Jupyter starts (see kernel.json): {@code java ... ai.minitron.kernel.KernelMain CONNECTION_FILE}.
 */
public final class KernelMain {
    /** slf4j-simple's default level property (what workbench-lib's simplelogger.properties sets to warn). */
    static final String LOG_LEVEL_PROPERTY = "org.slf4j.simpleLogger.defaultLogLevel";
    private static final Set<String> LOG_LEVELS = Set.of("trace", "debug", "info", "warn", "error", "off");

    private KernelMain() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: java ai.minitron.kernel.KernelMain CONNECTION_FILE");
            System.exit(2);
        }
        configureLogging(System.getenv("MINITRON_LOG"));
        if (!NativeDTypeGuard.installed()) {
            System.err.println("[kernel] started without -javaagent:minitron-kernel.jar (reinstall with kernels/install.sh):"
                    + " a bfloat16 array in a cell will abort the kernel");
        }
        String contents = Files.readString(Path.of(args[0]), StandardCharsets.UTF_8);
        KernelConnectionProperties props = KernelConnectionProperties.parse(contents);
        JupyterConnection connection = new JupyterConnection(props);

        MinitronKernel kernel = MinitronKernel.create(KernelConfig.fromEnvironment());
        kernel.onStartup();
        kernel.becomeHandlerForConnection(connection);
        connection.connect();
        connection.waitUntilClose();
        // Native libraries and user threads may hold the JVM open; the connection is gone, so leave.
        System.exit(0);
    }

    /**
     * All logging (slf4j-simple: the protocol library, DJL, Arrow, workbench-lib) at WARN, or at the level the
     * environment variable MINITRON_LOG names (trace, debug, info, warn, error, off): INFO lines in a cell are
     * red stderr noise (Arrow's allocator, every socket loop of the protocol). Warnings still show. A
     * {@code -Dorg.slf4j.simpleLogger.defaultLogLevel} or {@code -Dorg.slf4j.simpleLogger.log.NAME} on the
     * kernel's command line wins. Must run before the first logger is made.
     */
    static void configureLogging(String minitronLog) {
        if (System.getProperty(LOG_LEVEL_PROPERTY) != null) return;
        String level = "warn";
        if (minitronLog != null && !minitronLog.isBlank()) {
            String wanted = minitronLog.trim().toLowerCase(Locale.ROOT);
            if (LOG_LEVELS.contains(wanted)) level = wanted;
            else System.err.println("MINITRON_LOG=" + minitronLog + " is not one of " + LOG_LEVELS + "; logging at warn");
        }
        System.setProperty(LOG_LEVEL_PROPERTY, level);
    }

    @SuppressWarnings("unchecked")
    static <T extends Throwable> T sneaky(Throwable t) throws T {
        throw (T) t;
    }
}
