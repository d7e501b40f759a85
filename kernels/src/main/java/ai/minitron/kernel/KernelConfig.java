package ai.minitron.kernel;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

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
 *   <li>{@code IJAVA_TIMEOUT}: how long a single snippet may run before it is stopped, in milliseconds
 *       ({@code 1500}) or, as IJava documents it, a number and a {@link TimeUnit} name ({@code 30 SECONDS},
 *       case-insensitive); &lt; 1 = never.</li>
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

    /** {@code "1500"} (milliseconds) or IJava's {@code "30 SECONDS"} (a number and a TimeUnit name) to milliseconds. */
    static long parseTimeout(String value) {
        if (value == null || value.isBlank()) return -1;
        String[] parts = value.trim().split("\\s+");
        if (parts.length > 2) throw badTimeout(value, null);
        long amount;
        try {
            amount = Long.parseLong(parts[0]);
        } catch (NumberFormatException e) {
            throw badTimeout(value, e);
        }
        if (amount < 1) return -1;
        if (parts.length == 1) return amount;
        String unit = parts[1].toUpperCase(Locale.ROOT);
        if (!unit.endsWith("S")) unit += "S";                     // "1 SECOND" as well as "30 SECONDS"
        try {
            return TimeUnit.valueOf(unit).toMillis(amount);
        } catch (IllegalArgumentException e) {
            throw badTimeout(value, e);
        }
    }

    private static IllegalArgumentException badTimeout(String value, Exception cause) {
        return new IllegalArgumentException(TIMEOUT + " must be milliseconds (1500) or a number and a time unit"
                + " (30 SECONDS, 2 MINUTES), got '" + value + "'", cause);
    }
}
