package ai.minitron.io;

import org.junit.jupiter.api.Test;

import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IJava 1.3 puts its own gson 2.8.5 (unrelocated) ahead of ours: every library source that uses gson must compile
 * against gson 2.8.5's API ({@code JsonParser.parseString} and {@code Strictness} do not; {@link Json} is the way).
 * Compiles those sources with gson 2.8.5 in place of the library's gson (the rest of the library from
 * target/classes); target/gson-2.8.5 is filled by maven-dependency-plugin.
 */
class Gson285CompatibilityTest {

    @Test
    void everyGsonCallOfTheLibraryExistsInGson285() throws IOException {
        Path gson285 = Path.of("target/gson-2.8.5/gson-2.8.5.jar");
        assertTrue(Files.isRegularFile(gson285), "missing " + gson285.toAbsolutePath() + " (mvn generate-test-resources)");
        List<File> sources;
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            sources = files.filter(f -> f.toString().endsWith(".java")).filter(Gson285CompatibilityTest::usesGson)
                    .map(Path::toFile).collect(Collectors.toList());
        }
        assertFalse(sources.isEmpty(), "no library source uses gson?");
        List<String> classpath = new ArrayList<>();
        classpath.add(gson285.toString());
        classpath.add("target/classes");
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.contains("gson")) classpath.add(entry);
        }
        Path out = Files.createTempDirectory("gson285");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, null, null)) {
            List<String> options = List.of("-proc:none", "-implicit:none", "-nowarn", "-d", out.toString(),
                    "-classpath", String.join(File.pathSeparator, classpath));
            boolean ok = javac.getTask(null, files, diagnostics, options, null,
                    files.getJavaFileObjectsFromFiles(sources)).call();
            String errors = diagnostics.getDiagnostics().stream()
                    .filter(d -> d.getKind() == javax.tools.Diagnostic.Kind.ERROR)
                    .map(d -> d.getSource().getName() + ":" + d.getLineNumber() + ": " + d.getMessage(null))
                    .collect(Collectors.joining("\n"));
            assertTrue(ok, sources.size() + " gson-using sources against gson 2.8.5:\n" + errors);
        } finally {
            try (Stream<Path> w = Files.walk(out)) {
                w.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static boolean usesGson(Path source) {
        try {
            return Files.readString(source).contains("com.google.gson");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + source, e);
        }
    }
}
