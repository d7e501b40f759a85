package ai.minitron.kernel;

import ai.minitron.kernel.CellException.InterruptedCellException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** IJAVA_* environment variables, startup scripts and imports, the timeout. */
class KernelConfigTest {

    @Test
    void environmentVariablesParseAsIJavaDoes() {
        KernelConfig c = KernelConfig.fromMap(Map.of(
                "IJAVA_CLASSPATH", "a.jar" + File.pathSeparator + "lib/*.jar",
                "IJAVA_COMPILER_OPTS", "-parameters -Xlint:\"all\"",
                "IJAVA_STARTUP_SCRIPTS_PATH", "init/*.jsh",
                "IJAVA_STARTUP_SCRIPT", "int answer = 42;",
                "IJAVA_TIMEOUT", "1500"));
        assertEquals(List.of("a.jar", "lib/*.jar"), c.classpath());
        assertEquals(List.of("-parameters", "-Xlint:all"), c.compilerOptions());
        assertEquals(List.of("init/*.jsh"), c.startupScriptPaths());
        assertEquals("int answer = 42;", c.startupScript());
        assertEquals(1500, c.timeoutMillis());
        assertEquals(-1, KernelConfig.fromMap(Map.of()).timeoutMillis());
        assertThrows(IllegalArgumentException.class, () -> KernelConfig.fromMap(Map.of("IJAVA_TIMEOUT", "soon")));
    }

    @Test
    void timeoutInIJavasDocumentedFormWithATimeUnit() {
        assertEquals(30_000, KernelConfig.fromMap(Map.of("IJAVA_TIMEOUT", "30 SECONDS")).timeoutMillis());
        assertEquals(120_000, KernelConfig.fromMap(Map.of("IJAVA_TIMEOUT", "2 minutes")).timeoutMillis());
        assertEquals(1_000, KernelConfig.fromMap(Map.of("IJAVA_TIMEOUT", "1 SECOND")).timeoutMillis());
        assertEquals(250, KernelConfig.fromMap(Map.of("IJAVA_TIMEOUT", " 250 MILLISECONDS ")).timeoutMillis());
        assertEquals(-1, KernelConfig.fromMap(Map.of("IJAVA_TIMEOUT", "0 SECONDS")).timeoutMillis());
        assertEquals(-1, KernelConfig.fromMap(Map.of("IJAVA_TIMEOUT", "-1")).timeoutMillis());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KernelConfig.fromMap(Map.of("IJAVA_TIMEOUT", "30 FORTNIGHTS")));
        assertTrue(e.getMessage().contains("30 FORTNIGHTS"), e.getMessage());
    }

    @Test
    @Timeout(60)
    void startupScriptsImportsAndTimeout(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("init"));
        Files.writeString(dir.resolve("init/01.jsh"), "String greet(String n) { return \"hello \" + n; }\n");
        Files.writeString(dir.resolve("init/02.jsh"), "int base = 40;\nthis is not java;\nint after = 1;\n");
        KernelConfig c = KernelConfig.fromMap(Map.of(
                "IJAVA_STARTUP_SCRIPTS_PATH", "init/*.jsh",
                "IJAVA_STARTUP_SCRIPT", "int answer = base + 2;",
                "IJAVA_COMPILER_OPTS", "-parameters",
                "IJAVA_TIMEOUT", "700"));
        Session s = new Session(c, dir);
        try {
            // Every import in startup.jsh resolved (a stale package would be reported here).
            String warnings = s.warnings();
            assertTrue(!warnings.contains("startup imports"), warnings);
            // A broken line in a startup script is reported and skipped; the rest runs.
            assertTrue(warnings.contains("02.jsh"), warnings);
            assertEquals(1, s.eval("after"));
            assertEquals("hello you", s.eval("greet(\"you\")"));
            assertEquals(42, s.eval("answer"));
            // -parameters reached the compiler.
            assertEquals("n", s.eval("class P { void f(int n) {} }\nP.class.getDeclaredMethods()[0].getParameters()[0].getName()"));
            // IJAVA_TIMEOUT stops a runaway snippet.
            InterruptedCellException e = assertThrows(InterruptedCellException.class, () -> s.eval("while (true) {}"));
            assertTrue(e.getMessage().contains("timed out"), e.getMessage());
            assertEquals(2, s.eval("1 + 1"));
        } finally {
            s.evaluator.close();
            Display.setSink(null);
        }
    }
}
