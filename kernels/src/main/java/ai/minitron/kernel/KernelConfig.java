package ai.minitron.kernel;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Kernel settings, read from the same environment variables IJava honours.
 *
 * <ul>
 *   <li>{@code IJAVA_CLASSPATH}: extra classpath entries, separated by {@link File#pathSeparator};
 *       each may be a glob ({@code lib/*.jar}, {@code libs/**.jar}).</li>
 *   <li>{@code IJAVA_COMPILER_OPTS}: options given to the snippet compiler (e.g. {@code -parameters}),
 *       whitespace separated; quotes group.</li>
 *   <li>{@code IJAVA_STARTUP_SCRIPTS_PATH}: {@code .jsh}/{@code .jshell} files run at start, separated by
 *       {@link File#pathSeparator}; globs allowed.</li>
 *   <li>{@code IJAVA_STARTUP_SCRIPT}: a block of Java run at start, after the scripts.</li>
 *   <li>{@code IJAVA_TIMEOUT}: milliseconds a single snippet may run before it is stopped; &lt; 0 = never.</li>
 * </ul>
 */
public record KernelConfig(
        List<String> classpath,
        List<String> compilerOptions,
        List<String> startupScriptPaths,
        String startupScript,
        long timeoutMillis) {

    public static final String CLASSPATH = "IJAVA_CLASSPATH";
    public static final String COMPILER_OPTS = "IJAVA_COMPILER_OPTS";
    public static final String STARTUP_SCRIPTS_PATH = "IJAVA_STARTUP_SCRIPTS_PATH";
    public static final String STARTUP_SCRIPT = "IJAVA_STARTUP_SCRIPT";
    public static final String TIMEOUT = "IJAVA_TIMEOUT";

    public KernelConfig {
        classpath = List.copyOf(classpath);
        compilerOptions = List.copyOf(compilerOptions);
        startupScriptPaths = List.copyOf(startupScriptPaths);
        startupScript = startupScript == null ? "" : startupScript;
    }

    /** No extras, no timeout: what the tests start from. */
    public static KernelConfig defaults() {
        return new KernelConfig(List.of(), List.of(), List.of(), "", -1);
    }

    public static KernelConfig fromEnvironment() {
        return fromMap(System.getenv());
    }

    public static KernelConfig fromMap(Map<String, String> env) {
        return new KernelConfig(
                splitPaths(env.get(CLASSPATH)),
                Args.split(env.getOrDefault(COMPILER_OPTS, "")),
                splitPaths(env.get(STARTUP_SCRIPTS_PATH)),
                env.getOrDefault(STARTUP_SCRIPT, ""),
                parseTimeout(env.get(TIMEOUT)));
    }

    public KernelConfig withTimeout(long millis) {
        return new KernelConfig(classpath, compilerOptions, startupScriptPaths, startupScript, millis);
    }

    static List<String> splitPaths(String value) {
        List<String> out = new ArrayList<>();
        if (value == null) return out;
        for (String p : value.split(File.pathSeparator)) {
            if (!p.isBlank()) out.add(p.trim());
        }
        return out;
    }

    static long parseTimeout(String value) {
        if (value == null || value.isBlank()) return -1;
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(TIMEOUT + " must be a number of milliseconds, got '" + value + "'", e);
        }
    }
}
