package ai.minitron.kernel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Resolves a path that may contain glob characters ({@code * ? [ ] { } **}) to the existing files it names.
 * Relative patterns resolve against a base directory (the kernel's working directory, i.e. the notebook's
 * folder); a leading {@code ~/} means the user's home. Forward slashes work on every OS.
 */
final class Globs {
    private Globs() {}

    static boolean hasGlob(String s) {
        for (int i = 0; i < s.length(); i++) {
            if ("*?[{".indexOf(s.charAt(i)) >= 0) return true;
        }
        return false;
    }

    /** Paths matched by {@code pattern}, sorted; a pattern without glob characters must name an existing file. */
    static List<Path> resolve(String pattern, Path baseDir) {
        String p = pattern.trim();
        if (p.equals("~")) p = System.getProperty("user.home");
        else if (p.startsWith("~/")) p = System.getProperty("user.home") + p.substring(1);
        p = p.replace('\\', '/');

        if (!hasGlob(p)) {
            Path path = baseDir.resolve(p).toAbsolutePath().normalize();
            if (!Files.exists(path)) throw new IllegalArgumentException("No such file or directory: " + path);
            return List.of(path);
        }

        // Split into the literal directory prefix and the glob part.
        String[] segments = p.split("/", -1);
        int firstGlob = 0;
        while (firstGlob < segments.length && !hasGlob(segments[firstGlob])) firstGlob++;
        String prefix = String.join("/", java.util.Arrays.copyOfRange(segments, 0, firstGlob));
        if (p.startsWith("/") && prefix.isEmpty()) prefix = "/";
        Path base = baseDir.resolve(prefix.isEmpty() ? "." : prefix).toAbsolutePath().normalize();
        String globPart = String.join("/", java.util.Arrays.copyOfRange(segments, firstGlob, segments.length));
        boolean deep = globPart.contains("**");
        int depth = deep ? Integer.MAX_VALUE : segments.length - firstGlob;

        String full = base.toString().replace('\\', '/');
        if (!full.endsWith("/")) full += "/";
        PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + escapeLiteral(full) + globPart);

        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(base)) return out;
        try (Stream<Path> walk = Files.walk(base, depth)) {
            walk.filter(path -> !path.equals(base))
                .filter(path -> matcher.matches(Path.of(path.toString().replace('\\', '/'))) || matcher.matches(path))
                .sorted()
                .forEach(out::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** Escapes glob metacharacters in the literal (already resolved) directory part. */
    private static String escapeLiteral(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            if ("*?[]{}\\".indexOf(c) >= 0) b.append('\\');
            b.append(c);
        }
        return b.toString();
    }
}
