package ai.minitron.kernel;

import ai.minitron.kernel.CellException.CompilationException;
import ai.minitron.kernel.CellException.EvaluationException;
import ai.minitron.kernel.CellException.InterruptedCellException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tech.tablesaw.api.Table;

import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The evaluator without Jupyter: values, state, errors, interrupt, completion, display. */
class JavaEvaluatorTest {
    static Session session;

    @BeforeAll
    static void start() {
        session = new Session();
    }

    @AfterAll
    static void stop() {
        session.evaluator.close();
        Display.setSink(null);
    }

    @Test
    void lastExpressionIsTheLiveObject() throws Exception {
        Object v = session.eval("var sb = new StringBuilder(\"abc\");\nsb");
        assertInstanceOf(StringBuilder.class, v);
        ((StringBuilder) v).append("def"); // mutate the live object from the test...
        assertEquals("abcdef", session.eval("sb.toString()")); // ...and the cell sees it: same JVM, same object
        assertSame(v, session.eval("sb"));
    }

    @Test
    void expressionWithoutSemicolonAndStatementsBeforeIt() throws Exception {
        assertEquals(42, session.eval("int a = 40;\nint b = 2;\na + b"));
        assertNull(session.eval("int c = 1;"), "a declaration shows nothing");
        assertNull(session.eval("System.out.println(\"hi\")"), "a void call shows nothing");
    }

    @Test
    void statePersistsAcrossCells() throws Exception {
        session.eval("int counter = 0;");
        session.eval("counter += 5;");
        session.eval("int twice(int x) { return 2 * x; }");
        session.eval("record Point(int x, int y) {}");
        assertEquals(10, session.eval("twice(counter)"));
        assertEquals("Point[x=1, y=2]", session.eval("new Point(1, 2)").toString());
    }

    @Test
    void startupImportsAreThere() throws Exception {
        assertEquals(List.of(1, 2), session.eval("List.of(1, 2)"));
        assertEquals("ai.djl.ndarray.NDManager", session.eval("NDManager.class.getName()"));
        assertEquals("tech.tablesaw.api.Table", session.eval("Table.class.getName()"));
        assertEquals("ai.minitron.config.ModelConfig", session.eval("ModelConfig.class.getName()"));
    }

    @Test
    void compileErrorIsAClearMessageNotAStack() {
        CompilationException e = assertThrows(CompilationException.class, () -> session.eval("int x = \"text\";"));
        String msg = e.getMessage();
        assertTrue(msg.contains("int x = \"text\";"), msg);
        assertTrue(msg.contains("^"), msg);
        assertTrue(msg.contains("incompatible types"), msg);
        assertFalse(msg.contains("at jdk."), msg);
        assertEquals(List.of(msg.split("\n")), e.traceback());

        CompilationException unknown = assertThrows(CompilationException.class, () -> session.eval("undefinedThing.foo()"));
        assertTrue(unknown.getMessage().contains("cannot find symbol"), unknown.getMessage());

        assertThrows(CompilationException.class, () -> session.eval("for (int i = 0; i < 3; i++) {"));
    }

    @Test
    void userExceptionKeepsItsTypeAndPointsAtTheSnippet() {
        EvaluationException e = assertThrows(EvaluationException.class,
                () -> session.eval("int boom() { throw new IllegalStateException(\"boom\"); }\nboom()"));
        assertInstanceOf(IllegalStateException.class, e.getCause(), "the live exception");
        assertEquals("java.lang.IllegalStateException: boom", e.traceback().get(0));
        assertTrue(e.traceback().stream().anyMatch(l -> l.contains("snippet")), e.traceback().toString());
        assertTrue(e.traceback().stream().noneMatch(l -> l.contains("InProcessExecutionControl")), e.traceback().toString());
    }

    @Test
    void laterSnippetsOfAFailedCellDoNotRun() {
        assertThrows(EvaluationException.class, () -> session.eval("int ran = 0;\nInteger.parseInt(\"x\");\nran = 1;"));
        assertDoesNotThrow(() -> assertEquals(0, session.eval("ran")));
    }

    @Test
    @Timeout(30)
    void interruptStopsAnInfiniteLoop() throws Exception {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try {
            timer.schedule(session.evaluator::interrupt, 500, TimeUnit.MILLISECONDS);
            long t0 = System.nanoTime();
            InterruptedCellException e = assertThrows(InterruptedCellException.class,
                    () -> session.eval("int before = 1;\nlong spins = 0;\nwhile (true) { spins++; }\nint after = 1;"));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 10_000, "stopped after " + ms + " ms");
            assertTrue(e.getMessage().contains("Interrupted"), e.getMessage());
            // The session is still usable and kept its state; the rest of the cell did not run.
            assertEquals(1, session.eval("before"));
            assertThrows(CompilationException.class, () -> session.eval("after"));
            assertEquals(3, session.eval("1 + 2"));
        } finally {
            timer.shutdownNow();
        }
    }

    @Test
    @Timeout(30)
    void interruptEndsASleepingCellPolitely() throws Exception {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try {
            timer.schedule(session.evaluator::interrupt, 300, TimeUnit.MILLISECONDS);
            assertThrows(InterruptedCellException.class, () -> session.eval("Thread.sleep(60_000);"));
            assertEquals(7, session.eval("7"));
        } finally {
            timer.shutdownNow();
        }
    }

    @Test
    void completionSuggestsMembersAndNames() throws Exception {
        session.eval("String s = \"x\";"); // completion knows what earlier cells declared
        String code = "int unrelated = 1;\ns.toUpp";
        JavaEvaluator.Completion c = session.evaluator.complete(code, code.length());
        assertTrue(c.options().contains("toUpperCase("), c.options().toString());
        assertEquals(code.length() - "toUpp".length(), c.start());
        assertEquals(code.length(), c.end());

        String code2 = "Math.ma";
        assertTrue(session.evaluator.complete(code2, code2.length()).options().contains("max("));

        String magic = "%mav";
        JavaEvaluator.Completion m = session.evaluator.complete(magic, magic.length());
        assertEquals(List.of("maven"), m.options());
        assertEquals(1, m.start());
    }

    @Test
    void inspectionShowsSignatures() throws Exception {
        String code = "Math.max(";
        String doc = session.evaluator.inspect(code, code.length(), false);
        assertNotNull(doc);
        assertTrue(doc.contains("max("), doc);

        session.eval("String inspected = \"hello\";");
        assertEquals("String inspected = \"hello\"", session.evaluator.inspect("inspected", 3, false));
    }

    @Test
    void isCompleteFollowsJShell() {
        assertEquals("complete", session.evaluator.isComplete("int x = 1;"));
        assertEquals("complete", session.evaluator.isComplete("%maven a:b:1\nint y = 1;"));
        assertEquals("    ", session.evaluator.isComplete("for (int i = 0; i < 3; i++) {"));
    }

    @Test
    void tableRendersAsHtmlFromACell() throws Exception {
        Object t = session.eval("""
                Table.create("scores",
                    StringColumn.create("name", "a<b", "c"),
                    DoubleColumn.create("score", 1.5, 2.0))
                """);
        assertInstanceOf(Table.class, t);
        MimeBundle b = Renderer.render(t);
        assertTrue(b.html().contains("<table"), b.html());
        assertTrue(b.html().contains("<th title=\"STRING\">name</th>"), b.html());
        assertTrue(b.html().contains("a&lt;b"), "cells are escaped: " + b.html());
        assertTrue(b.html().contains("2 rows × 2 columns"), b.html());
        assertTrue(b.text().contains("score"), b.text());
    }

    @Test
    void displayAndUpdateFromACell() throws Exception {
        session.displays.events.clear();
        Object v = session.eval("""
                LiveOutput h = display("Generating");
                for (String tok : List.of(",", " one", " two")) h.append(tok);
                h
                """);
        assertNull(Renderer.render(v), "a handle is not shown again as the cell value");
        List<Session.Recorder.Event> ev = session.displays.events;
        assertEquals(4, ev.size(), ev.toString());
        assertEquals("display", ev.get(0).kind());
        assertEquals("Generating", ev.get(0).bundle().text());
        String id = ev.get(0).id();
        assertTrue(ev.stream().allMatch(e -> e.id().equals(id)));
        assertEquals("Generating, one two", ev.get(3).bundle().text());
        assertEquals("update", ev.get(3).kind());
    }

    @Test
    void theWorkbenchsKernelNeutralLiveOutputIsThisKernelsDisplay() throws Exception {
        session.displays.events.clear();
        Object v = session.eval("""
                var out = live("step 0");
                out.update("step 1");
                out.append(" done");
                out
                """);
        assertNull(Renderer.render(v), "a live output is not shown again as the cell value");
        List<Session.Recorder.Event> ev = session.displays.events;
        assertEquals(List.of("display", "update", "update"), ev.stream().map(Session.Recorder.Event::kind).toList());
        assertEquals("step 0", ev.get(0).bundle().text());
        assertEquals("step 1 done", ev.get(2).bundle().text());
        String id = ev.get(0).id();
        assertTrue(ev.stream().allMatch(e -> e.id().equals(id)));
    }

    @Test
    void displayableAndDuckTypedObjectsRender() throws Exception {
        Object d = session.eval("""
                class Badge implements Displayable {
                    public String toHtml() { return "<b>badge</b>"; }
                    public String toString() { return "badge"; }
                }
                new Badge()
                """);
        assertEquals("<b>badge</b>", Renderer.render(d).html());
        assertEquals("badge", Renderer.render(d).text());

        Object duck = session.eval("""
                public class Chart { public String toSvg() { return "<svg/>"; } }
                new Chart()
                """);
        assertEquals("<svg/>", Renderer.render(duck).get(MimeBundle.SVG));

        Object img = session.eval("new java.awt.image.BufferedImage(4, 3, java.awt.image.BufferedImage.TYPE_INT_RGB)");
        assertTrue(Renderer.render(img).has(MimeBundle.PNG));
        assertEquals("<i>x</i>", Renderer.render(session.eval("html(\"<i>x</i>\")")).html());
    }

    private static void assertDoesNotThrow(org.junit.jupiter.api.function.Executable e) {
        org.junit.jupiter.api.Assertions.assertDoesNotThrow(e);
    }
}
