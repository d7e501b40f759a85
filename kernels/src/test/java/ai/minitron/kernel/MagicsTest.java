package ai.minitron.kernel;

import ai.minitron.kernel.CellException.MagicException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Magic parsing, %classpath / %jars / %load, and the Maven command %maven runs. */
class MagicsTest {
    @TempDir
    static Path dir;
    static Session session;

    @BeforeAll
    static void start() throws IOException {
        // A class directory and a jar, compiled here.
        Path src = Files.createDirectories(dir.resolve("src/demo"));
        Files.writeString(src.resolve("Greeter.java"),
                "package demo; public class Greeter { public static String hi(String n) { return \"hi \" + n; } }");
        Files.writeString(src.resolve("Task.java"),
                "package demo; public class Task implements Runnable { public void run() {} "
                        + "public String toString() { return \"demo.Task\"; } }");
        Path classes = Files.createDirectories(dir.resolve("classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int rc = javac.run(null, null, null, "-d", classes.toString(),
                src.resolve("Greeter.java").toString(), src.resolve("Task.java").toString());
        assertEquals(0, rc);
        Path libs = Files.createDirectories(dir.resolve("libs"));
        try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(libs.resolve("task.jar")))) {
            jar.putNextEntry(new JarEntry("demo/Task.class"));
            jar.write(Files.readAllBytes(classes.resolve("demo/Task.class")));
            jar.putNextEntry(new JarEntry("META-INF/services/java.lang.Runnable"));
            jar.write("demo.Task\n".getBytes(StandardCharsets.UTF_8));
        }
        Files.delete(classes.resolve("demo/Task.class"));
        Files.writeString(dir.resolve("helpers.jsh"), """
                // a file of snippets
                int triple(int x) { return 3 * x; }
                String loaded = "yes";
                """);
        session = new Session(KernelConfig.defaults(), dir);
    }

    @AfterAll
    static void stop() {
        session.evaluator.close();
        Display.setSink(null);
    }

    @Test
    void magicLinesParse() {
        CellParser.Magic m = CellParser.parseMagicLine("  %maven  org.foo:bar:1.0 'a b'  ", 0);
        assertEquals("maven", m.name());
        assertEquals(List.of("org.foo:bar:1.0", "a b"), m.args());
        assertNull(CellParser.parseMagicLine("x % y", 0));
        assertNull(CellParser.parseMagicLine("%%cell", 0));
        assertEquals(List.of("a\"b", "c d", "e f"), Args.split("a\\\"b \"c d\" e\\ f"));
    }

    @Test
    void cellsSplitIntoCodeAndMagicsInOrder() {
        String cell = "int a = 1;\n%classpath lib/*.jar\nString t = \"\"\"\n%s is not a magic\n\"\"\";\n%load x.jsh\na";
        List<CellParser.Segment> parts = CellParser.split(cell, session.evaluator::isCompleteCode);
        assertEquals(5, parts.size(), parts.toString());
        assertInstanceOf(CellParser.Code.class, parts.get(0));
        assertEquals("classpath", ((CellParser.Magic) parts.get(1)).name());
        assertTrue(((CellParser.Code) parts.get(2)).source().contains("%s is not a magic"));
        assertEquals("load", ((CellParser.Magic) parts.get(3)).name());
        assertEquals("a", ((CellParser.Code) parts.get(4)).source());
        assertEquals(cell.length() - 1, ((CellParser.Code) parts.get(4)).offset());
        assertEquals(cell.indexOf("%load"), ((CellParser.Magic) parts.get(3)).offset());
    }

    @Test
    void textBlockLineStartingWithPercentStaysJava() throws Exception {
        assertEquals("%s done\n", session.eval("String fmt = \"\"\"\n%s done\n\"\"\";\nfmt"));
    }

    @Test
    void mavenCoordinatesAndCommand() {
        MavenResolver.Coordinate c = MavenResolver.Coordinate.parse("org.foo:bar:1.2.3");
        assertEquals(new MavenResolver.Coordinate("org.foo", "bar", "1.2.3", "jar", null), c);
        MavenResolver.Coordinate cl = MavenResolver.Coordinate.parse("ai.djl.pytorch:pytorch-native-cpu:jar:linux-x86_64:2.7.1");
        assertEquals("linux-x86_64", cl.classifier());
        assertEquals("2.7.1", cl.version());
        assertThrows(IllegalArgumentException.class, () -> MavenResolver.Coordinate.parse("just-a-name"));
        assertThrows(IllegalArgumentException.class, () -> MavenResolver.Coordinate.parse("a:b:<script>"));
        String pom = MavenResolver.pom(List.of(c, cl));
        assertTrue(pom.contains("<artifactId>bar</artifactId><version>1.2.3</version>"), pom);
        assertTrue(pom.contains("<classifier>linux-x86_64</classifier>"), pom);
        List<String> cmd = MavenResolver.command("mvn", Path.of("/t/pom.xml"), Path.of("/t/jars"), true);
        assertTrue(cmd.contains("-o"));
        assertTrue(cmd.contains(MavenResolver.DEPENDENCY_PLUGIN + ":copy-dependencies"));
        assertTrue(cmd.contains("-DoutputDirectory=/t/jars"));
    }

    @Test
    @Timeout(300)
    void mavenMagicResolvesWithDependencies() throws Exception {
        try {
            MavenResolver.findMaven();
        } catch (MagicException e) {
            Assumptions.abort("no mvn on PATH");
        }
        session.evaluator.setMavenResolver(new MavenResolver(dir.resolve("maven-cache")));
        // commons-text brings commons-lang3 along: a transitive dependency.
        Object v = session.eval("""
                %maven org.apache.commons:commons-text:1.12.0
                org.apache.commons.text.WordUtils.capitalize("hello world") + " " +
                    org.apache.commons.lang3.StringUtils.reverse("abc")
                """);
        assertEquals("Hello World cba", v);
        assertTrue(session.evaluator.addedClasspath().stream().anyMatch(p -> p.toString().contains("commons-lang3")));
        // A second time is served from the cache (no Maven run): fast.
        long t0 = System.nanoTime();
        session.eval("%maven org.apache.commons:commons-text:1.12.0");
        assertTrue(System.nanoTime() - t0 < 2_000_000_000L);
    }

    @Test
    void badMagicsGiveClearErrors() {
        MagicException unknown = assertThrows(MagicException.class, () -> session.eval("%nosuch x"));
        assertTrue(unknown.getMessage().contains("Unknown magic %nosuch"), unknown.getMessage());
        assertTrue(unknown.getMessage().contains("%maven"), unknown.getMessage());
        MagicException bad = assertThrows(MagicException.class, () -> session.eval("%maven not-a-coordinate"));
        assertTrue(bad.getMessage().contains("group:artifact:version"), bad.getMessage());
        MagicException missing = assertThrows(MagicException.class, () -> session.eval("%classpath no/such/dir"));
        assertTrue(missing.getMessage().contains("No such file"), missing.getMessage());
    }

    @Test
    void classpathMagicAddsAClassDirectory() throws Exception {
        assertEquals("hi there", session.eval("%classpath classes\ndemo.Greeter.hi(\"there\")"));
    }

    @Test
    void jarsMagicWithGlobAndServiceLoaderThroughContextClassLoader() throws Exception {
        session.eval("%jars libs/*.jar");
        assertEquals("demo.Task", session.eval("new demo.Task().toString()"));
        // What DJL's engine discovery relies on: ServiceLoader via the thread's context class loader sees
        // jars added in the notebook.
        assertEquals("demo.Task", session.eval("ServiceLoader.load(Runnable.class).findFirst().get().toString()"));
        assertEquals(Boolean.TRUE, session.eval("Thread.currentThread().getContextClassLoader() == new Object(){}.getClass().getClassLoader()"));
    }

    @Test
    void loadMagicRunsAFileOfSnippets() throws Exception {
        assertEquals(21, session.eval("%load helpers.jsh\ntriple(7)"));
        assertEquals("yes", session.eval("loaded"));
        assertTrue(session.eval("%lsmagic").toString().contains("%maven"));
    }
}
