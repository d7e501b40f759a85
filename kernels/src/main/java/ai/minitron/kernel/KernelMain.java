package ai.minitron.kernel;

import org.dflib.jjava.jupyter.channels.JupyterConnection;
import org.dflib.jjava.jupyter.kernel.KernelConnectionProperties;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Entry point Jupyter starts (see kernel.json): {@code java ... ai.minitron.kernel.KernelMain CONNECTION_FILE}.
 */
public final class KernelMain {
    private static final String[] QUIET_LOGGERS =
            {"org.dflib.jjava", "Loop-Heartbeat-0", "Loop-Shell-0", "Loop-Shell-1", "Loop-Stdin-0", "ai.djl"};

    private KernelMain() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: java ai.minitron.kernel.KernelMain CONNECTION_FILE");
            System.exit(2);
        }
        // The protocol library logs every socket loop start/stop at INFO, DJL its engine setup: in a notebook
        // (stderr of the cell) that is noise. Warnings still show; -D...=info on the kernel's argv overrides.
        for (String logger : QUIET_LOGGERS) {
            String key = "org.slf4j.simpleLogger.log." + logger;
            if (System.getProperty(key) == null) System.setProperty(key, "warn");
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

    @SuppressWarnings("unchecked")
    static <T extends Throwable> T sneaky(Throwable t) throws T {
        throw (T) t;
    }
}
