package ai.minitron.kernel;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DJL inside a cell: the engine is found (ServiceLoader through the snippet thread's context class loader)
 * and an NDArray computes and reads back.
 */
class DjlInJShellTest {
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
    void ndArrayComputesInsideACell() throws Exception {
        Object sum = session.eval("""
                var manager = NDManager.newBaseManager();
                var a = manager.create(new float[] {1f, 2f, 3f, 4f});
                a.mul(2).sum().getFloat()
                """);
        assertEquals(20f, sum);
        assertEquals("PyTorch", session.eval("manager.getEngine().getEngineName()"));
        Object shape = session.eval("manager.ones(new Shape(2, 3)).getShape()");
        assertEquals("(2, 3)", shape.toString());
        assertTrue(Renderer.render(session.eval("a")).text().contains("4."));
        session.eval("manager.close();");
    }
}
