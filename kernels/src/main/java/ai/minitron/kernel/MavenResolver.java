package ai.minitron.kernel;

import ai.minitron.kernel.CellException.MagicException;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code %maven group:artifact:version ...}: resolves artifacts and their runtime dependencies with the real Maven
 * ({@code mvn} on PATH, or {@code $MAVEN_HOME/bin/mvn}) from {@code ~/.m2} and Maven Central, by running
 * {@code dependency:copy-dependencies} on a generated POM. Jars land in a cache directory
 * ({@code $MINITRON_KERNEL_CACHE} or {@code ~/.cache/minitron-kernel}) keyed by the coordinate list, so a
 * re-run notebook resolves instantly and offline.
 */
final class MavenResolver {
    static final String DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9_.\\-]+");

    /** {@code g:a:v}, {@code g:a:packaging:v} or {@code g:a:packaging:classifier:v}, as Maven writes them. */
    record Coordinate(String groupId, String artifactId, String version, String type, String classifier) {
        static Coordinate parse(String s) {
            String[] p = s.trim().split(":", -1);
            for (String part : p) {
                if (!PART.matcher(part).matches()) throw new IllegalArgumentException(usage(s));
            }
            return switch (p.length) {
                case 3 -> new Coordinate(p[0], p[1], p[2], "jar", null);
                case 4 -> new Coordinate(p[0], p[1], p[3], p[2], null);
                case 5 -> new Coordinate(p[0], p[1], p[4], p[2], p[3]);
                default -> throw new IllegalArgumentException(usage(s));
            };
        }

        private static String usage(String s) {
            return "Not a Maven coordinate: '" + s + "'. Use group:artifact:version "
                    + "(or group:artifact:packaging:version, group:artifact:packaging:classifier:version)";
        }

        boolean isSnapshot() {
            return version.endsWith("-SNAPSHOT");
        }

        String xml() {
            StringBuilder b = new StringBuilder("    <dependency><groupId>").append(groupId)
                    .append("</groupId><artifactId>").append(artifactId)
                    .append("</artifactId><version>").append(version).append("</version>");
            if (!"jar".equals(type)) b.append("<type>").append(type).append("</type>");
            if (classifier != null) b.append("<classifier>").append(classifier).append("</classifier>");
            return b.append("</dependency>\n").toString();
        }

        @Override
        public String toString() {
            return groupId + ":" + artifactId + ":" + (classifier == null ? "" : type + ":" + classifier + ":") + version;
        }
    }

    private final Path cacheRoot;

    MavenResolver(Path cacheRoot) {
        this.cacheRoot = cacheRoot;
    }

    static Path defaultCacheRoot() {
        String env = System.getenv("MINITRON_KERNEL_CACHE");
        if (env != null && !env.isBlank()) return Path.of(env);
        return Path.of(System.getProperty("user.home"), ".cache", "minitron-kernel");
    }

    static String pom(List<Coordinate> coords) {
        StringBuilder b = new StringBuilder();
        b.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
         .append("<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n")
         .append("  <modelVersion>4.0.0</modelVersion>\n")
         .append("  <groupId>ai.minitron.kernel.maven</groupId>\n")
         .append("  <artifactId>resolve</artifactId>\n")
         .append("  <version>1</version>\n")
         .append("  <packaging>pom</packaging>\n")
         .append("  <dependencies>\n");
        for (Coordinate c : coords) b.append(c.xml());
        return b.append("  </dependencies>\n</project>\n").toString();
    }

    /** The {@code mvn} command line that copies the artifacts and their runtime dependencies into {@code jarDir}. */
    static List<String> command(String mvn, Path pom, Path jarDir, boolean offline) {
        List<String> cmd = new ArrayList<>(List.of(mvn, "-q", "-B"));
        if (offline) cmd.add("-o");
        cmd.addAll(List.of("-f", pom.toString(), DEPENDENCY_PLUGIN + ":copy-dependencies",
                "-DoutputDirectory=" + jarDir, "-DincludeScope=runtime"));
        return cmd;
    }

    /**
     * Resolves {@code coords}; returns the jars (the artifacts and their runtime dependencies).
     *
     * @param onStart receives the Maven process, so an interrupt can end it
     */
    List<Path> resolve(List<Coordinate> coords, boolean offline, Consumer<Process> onStart)
            throws MagicException {
        if (coords.isEmpty()) throw new MagicException("%maven needs at least one group:artifact:version");
        Path dir = cacheRoot.resolve("maven").resolve(key(coords));
        Path jarDir = dir.resolve("jars");
        Path done = dir.resolve(".resolved");
        boolean snapshot = coords.stream().anyMatch(Coordinate::isSnapshot);
        if (!Files.exists(done) || snapshot) {
            runMaven(coords, offline, onStart, dir, jarDir);
            try {
                Files.writeString(done, String.join("\n", coords.stream().map(Coordinate::toString).toList()));
            } catch (IOException e) {
                throw new MagicException("Cannot write " + done + ": " + e.getMessage(), e);
            }
        }
        try (Stream<Path> files = Files.list(jarDir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
        } catch (IOException e) {
            throw new MagicException("Cannot list " + jarDir + ": " + e.getMessage(), e);
        }
    }

    private void runMaven(List<Coordinate> coords, boolean offline, Consumer<Process> onStart, Path dir, Path jarDir)
            throws MagicException {
        String mvn = findMaven();
        Path log = dir.resolve("mvn.log");
        try {
            Files.createDirectories(jarDir);
            Path pom = dir.resolve("pom.xml");
            Files.writeString(pom, pom(coords));
            ProcessBuilder pb = new ProcessBuilder(command(mvn, pom, jarDir, offline))
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile());
            Process p = pb.start();
            onStart.accept(p);
            int rc = p.waitFor();
            if (rc != 0) {
                throw new MagicException("Maven could not resolve " + coords + " (exit " + rc + "):\n" + tail(log, 25));
            }
        } catch (IOException e) {
            throw new MagicException("Running Maven failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MagicException("%maven interrupted");
        }
    }

    static String findMaven() throws MagicException {
        String exe = System.getProperty("os.name", "").toLowerCase().contains("win") ? "mvn.cmd" : "mvn";
        String home = System.getenv("MAVEN_HOME");
        if (home != null && Files.isExecutable(Path.of(home, "bin", exe))) return Path.of(home, "bin", exe).toString();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(File.pathSeparator)) {
                if (!d.isBlank() && Files.isExecutable(Path.of(d, exe))) return Path.of(d, exe).toString();
            }
        }
        throw new MagicException("%maven needs Maven: no 'mvn' on PATH and MAVEN_HOME is not set. "
                + "Install Maven, or add jars with %jars.");
    }

    private static String key(List<Coordinate> coords) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Coordinate c : coords) md.update((c + "\n").getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest(), 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String tail(Path log, int lines) {
        try (InputStream in = Files.newInputStream(log)) {
            List<String> all = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no Maven output: " + e.getMessage() + ")";
        }
    }
}
