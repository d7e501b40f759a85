package ai.minitron.kernel;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a cell's outputs look like: whole lines on the streams, no object identities as values. */
class CellOutputTest {

    /** Records each write the buffer makes: one write is one Jupyter stream message. */
    static final class Messages extends OutputStream {
        final List<String> sent = new ArrayList<>();

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            sent.add(new String(b, off, len, StandardCharsets.UTF_8));
        }
    }

    @Test
    void aPrintfIsOneMessageOfWholeLines() {
        Messages target = new Messages();
        LineBufferedStream buffer = new LineBufferedStream(target, 60_000);
        PrintStream out = new PrintStream(buffer, false, StandardCharsets.UTF_8);
        out.printf("%s has %,d params, loss %.3f (%s, %s)%n", "student", 1234567, 2.5, "ppl", "é€");
        out.print("no newline yet: ");
        assertTrue(target.sent.isEmpty(), "nothing before a flush: " + target.sent);

        buffer.flushLines();
        assertEquals(List.of("student has 1,234,567 params, loss 2.500 (ppl, é€)\n"), target.sent);
        buffer.flushLines();
        assertEquals(1, target.sent.size(), "the unfinished line waits for its newline");

        out.println("done");
        out.print("tail");
        buffer.flushLines();
        assertEquals("no newline yet: done\n", target.sent.get(1));
        buffer.flushAll();
        assertEquals(List.of("student has 1,234,567 params, loss 2.500 (ppl, é€)\n", "no newline yet: done\n", "tail"),
                target.sent);
        buffer.flushAll();
        assertEquals(3, target.sent.size(), "an empty buffer sends nothing");
    }

    @Test
    void anUnfinishedLineGoesOutAfterItsWait() {
        Messages target = new Messages();
        LineBufferedStream buffer = new LineBufferedStream(target, 0);
        PrintStream out = new PrintStream(buffer, false, StandardCharsets.UTF_8);
        out.print("loading ...");
        buffer.flushLines();
        assertEquals(List.of("loading ..."), target.sent);
    }

    @Test
    void manyLinesBetweenTwoFlushesAreOneMessage() {
        Messages target = new Messages();
        LineBufferedStream buffer = new LineBufferedStream(target, 60_000);
        PrintStream out = new PrintStream(buffer, false, StandardCharsets.UTF_8);
        for (int i = 0; i < 100; i++) out.println("step " + i);
        buffer.flushLines();
        assertEquals(1, target.sent.size());
        assertTrue(target.sent.get(0).startsWith("step 0\nstep 1\n") && target.sent.get(0).endsWith("step 99\n"));
    }

    static final class Opaque {}

    @Test
    void noValueRendersAsAnObjectIdentity() {
        PrintStream ps = new PrintStream(new ByteArrayOutputStream());
        assertNull(Renderer.render(ps.printf("x %d%n", 1)), "a cell ending in printf shows nothing");
        assertNull(Renderer.render(System.out), "nor a bare stream");

        StringWriter sw = new StringWriter();
        sw.append("written");
        assertEquals("written", Renderer.render(sw).text(), "a writer with a toString() of its own shows it");

        String opaque = Renderer.render(new Opaque()).text();
        assertTrue(opaque.startsWith("<" + Opaque.class.getName() + "> (no toString()"), opaque);
        assertFalse(opaque.contains("@"), opaque);

        String list = Renderer.render(List.of(new Opaque(), 7)).text();
        assertTrue(list.matches("\\[<CellOutputTest\\$Opaque>, 7]"), list);

        Function<Integer, Integer> twice = x -> 2 * x;
        assertEquals("<lambda implementing java.util.function.Function>", Renderer.render(twice).text());

        assertEquals("top@1 0.5, user@host", Renderer.withoutIdentities("top@1 0.5, user@host"),
                "short hex and words are not identities");
    }
}
