package ai.minitron.kernel;

import jdk.jshell.execution.DirectExecutionControl;
import jdk.jshell.spi.ExecutionControl;
import jdk.jshell.spi.ExecutionControlProvider;
import jdk.jshell.spi.ExecutionEnv;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * JShell execution in the kernel's own JVM (what JShell calls "local" execution), so a cell's value is the live
 * object, not a string.
 *
 * <p>Differences from {@code jdk.jshell.execution.LocalExecutionControl}:
 * <ul>
 *   <li>Each snippet runs on a worker thread whose <b>context class loader is the snippet class loader</b>
 *       (JShell's class loader, which also holds {@code %classpath}/{@code %maven} jars). Without this, code that
 *       uses {@link java.util.ServiceLoader} through the context loader, like DJL's engine discovery, finds no
 *       engine.</li>
 *   <li>The value of a snippet is kept as an object; JShell receives a key, and {@link #takeResult} returns the
 *       object for it.</li>
 *   <li>{@link #stop()} interrupts the snippet thread and, if it does not end within a grace period, stops it
 *       ({@code Thread.stop}, available on Java 17). A snippet may be limited in time ({@code IJAVA_TIMEOUT}).</li>
 *   <li>Worker threads are daemons and are not joined, so threads a cell leaves running do not block later cells.</li>
 * </ul>
 */
final class InProcessExecutionControl extends DirectExecutionControl {

    /** Time an interrupted snippet gets to end on its own before it is stopped hard. */
    private static final long INTERRUPT_GRACE_MS = 300;
    /** Time a hard-stopped snippet gets to die before the kernel gives up waiting for it. */
    private static final long STOP_GRACE_MS = 3000;
    private static final Object NULL = new Object();
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final long timeoutMillis;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "jshell-exec-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Object> results = new ConcurrentHashMap<>();

    private final AtomicReference<Thread> snippetThread = new AtomicReference<>();
    private volatile long stopRequestedAt;      // 0 = no stop requested for the running snippet
    private volatile boolean hardStopped;
    private volatile String stopReason;         // non-null once the last snippet was stopped
    private volatile Throwable lastUserException;
    private volatile boolean cellInterrupted;   // the current cell was interrupted: stop whatever runs next

    InProcessExecutionControl(long timeoutMillis) {
        this.timeoutMillis = timeoutMillis;
    }

    /** The provider JShell's builder takes; it hands back the control it created so the evaluator can reach it. */
    static final class Provider implements ExecutionControlProvider {
        private final long timeoutMillis;
        private volatile InProcessExecutionControl created;

        Provider(long timeoutMillis) {
            this.timeoutMillis = timeoutMillis;
        }

        @Override
        public String name() {
            return "minitron-in-process";
        }

        @Override
        public ExecutionControl generate(ExecutionEnv env, Map<String, String> parameters) {
            created = new InProcessExecutionControl(timeoutMillis);
            return created;
        }

        InProcessExecutionControl control() {
            return created;
        }
    }

    /** The live value JShell reported as {@code key}; removes it. {@code null} if the key is not ours. */
    Object takeResult(String key) {
        if (key == null) return null;
        Object v = results.remove(key);
        return v == NULL ? null : v;
    }

    void clearResults() {
        results.clear();
    }

    /** Non-null if the last snippet was interrupted or timed out: the reason. Reset when the next snippet starts. */
    String stopReason() {
        return stopReason;
    }

    /** The exception the last failing snippet threw, as a live object (JShell only keeps a copy of its text). */
    Throwable lastUserException() {
        return lastUserException;
    }

    /** A new cell starts: forget an interrupt aimed at the previous one. */
    void newCell() {
        cellInterrupted = false;
    }

    /**
     * Marks the current cell interrupted, so a snippet that starts after this (the cell was still compiling) is
     * stopped too: an interrupt must not be lost in the gap between snippets. {@link #stop()} stops the running one.
     */
    void interruptCell() {
        cellInterrupted = true;
    }

    @Override
    protected String invoke(Method doitMethod) throws Exception {
        stopRequestedAt = 0;
        hardStopped = false;
        stopReason = null;
        lastUserException = null;
        if (cellInterrupted) {
            stopReason = "Interrupted";
            throw new ExecutionControl.StoppedException();
        }
        ClassLoader snippetLoader = doitMethod.getDeclaringClass().getClassLoader();
        Future<Object> future = executor.submit(() -> {
            Thread self = Thread.currentThread();
            ClassLoader previous = self.getContextClassLoader();
            self.setContextClassLoader(snippetLoader);
            snippetThread.set(self);
            try {
                return doitMethod.invoke(null);
            } finally {
                snippetThread.compareAndSet(self, null); // an abandoned thread ending late must not clear a newer one
                self.setContextClassLoader(previous);
                Thread.interrupted(); // do not leak an interrupt into the pooled thread's next task
            }
        });
        long started = System.nanoTime();
        while (true) {
            try {
                Object value = future.get(50, TimeUnit.MILLISECONDS);
                if (stopRequestedAt != 0) throw stopped();
                String key = UUID.randomUUID().toString();
                results.put(key, value == null ? NULL : value);
                return key;
            } catch (TimeoutException e) {
                long now = System.nanoTime();
                if (cellInterrupted && stopRequestedAt == 0) requestStop("Interrupted"); // raced the thread's start
                if (timeoutMillis > 0 && stopRequestedAt == 0
                        && now - started > TimeUnit.MILLISECONDS.toNanos(timeoutMillis)) {
                    requestStop("Execution timed out after " + timeoutMillis + " ms (IJAVA_TIMEOUT)");
                }
                long since = stopRequestedAt == 0 ? 0 : now - stopRequestedAt;
                if (since > TimeUnit.MILLISECONDS.toNanos(INTERRUPT_GRACE_MS) && !hardStopped) hardStop();
                if (since > TimeUnit.MILLISECONDS.toNanos(INTERRUPT_GRACE_MS + STOP_GRACE_MS)) {
                    stopReason += " (the snippet did not stop and is left running in the background)";
                    throw new ExecutionControl.StoppedException();
                }
            } catch (ExecutionException e) {
                if (stopRequestedAt != 0) throw stopped();
                Throwable cause = e.getCause();
                if (cause instanceof InvocationTargetException ite) throw ite;
                if (cause instanceof Exception ex) throw ex;
                throw new InvocationTargetException(cause);
            }
        }
    }

    private ExecutionControl.StoppedException stopped() {
        if (stopReason == null) stopReason = "Interrupted";
        return new ExecutionControl.StoppedException();
    }

    @Override
    protected String throwConvertedInvocationException(Throwable cause)
            throws ExecutionControl.RunException, ExecutionControl.InternalException {
        lastUserException = cause;
        return super.throwConvertedInvocationException(cause);
    }

    /** Stops the running snippet, if any ({@code JShell.stop()}). */
    @Override
    public void stop() {
        requestStop("Interrupted");
    }

    private void requestStop(String reason) {
        Thread t = snippetThread.get();
        if (t == null) return;
        stopReason = reason;
        if (stopRequestedAt == 0) stopRequestedAt = System.nanoTime();
        t.interrupt();
    }

    @SuppressWarnings({"deprecation", "removal"})
    private void hardStop() {
        Thread t = snippetThread.get();
        if (t == null) return;
        hardStopped = true;
        try {
            t.stop(); // Java 17: throws ThreadDeath in the snippet. Later JDKs refuse; then we only interrupt.
        } catch (UnsupportedOperationException e) {
            t.interrupt();
        }
    }

    @Override
    public void close() {
        Thread t = snippetThread.get();
        if (t != null) {
            requestStop("Kernel shutting down");
            hardStop();
        }
        executor.shutdownNow();
        results.clear();
        super.close();
    }
}
