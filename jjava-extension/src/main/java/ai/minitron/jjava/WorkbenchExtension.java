package ai.minitron.jjava;

import ai.minitron.kernel.MimeBundle;
import ai.minitron.kernel.Renderer;
import ai.minitron.notebook.LiveOutput;
import org.dflib.jjava.jupyter.Extension;
import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.BaseNotebookStatics;
import org.dflib.jjava.jupyter.kernel.display.RenderFunction;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.stream.Collectors;

/**
 * The Minitron Workbench in JJava (1.0a6 and later, {@code pip install jjava}): found by JJava's service loader
 * ({@code META-INF/services/org.dflib.jjava.jupyter.Extension}) in a jar on {@code JJAVA_CLASSPATH} (or added with
 * {@code %classpath}), it gives a JJava session what our own kernel starts with, so the notebooks run unmodified:
 *
 * <ol>
 *   <li>the workbench's imports: our kernel's {@code startup.jsh}, the one list, without the lines of our kernel's
 *       own display API (JJava's {@code display(x)} / {@code updateDisplay(id, x)} stay in place);</li>
 *   <li>renderers for Tablesaw tables (HTML), XChart charts and images (PNG), and for every other value, through
 *       our kernel's {@link Renderer}, so they look the same as in our kernel: never an object identity (a cell
 *       ending in {@code System.out.printf(...)} shows an empty result, not {@code java.io.PrintStream@1b6d3586});</li>
 *   <li>{@link LiveOutput} ({@code live(x).update(...)}) backed by JJava's {@code display} / {@code updateDisplay};</li>
 *   <li>a cell's {@code System.out} / {@code System.err} as whole lines ({@link WholeLineOutput}), sent before any
 *       display the extension renders.</li>
 * </ol>
 */
public final class WorkbenchExtension implements Extension {

    static final String STARTUP_RESOURCE = "/ai/minitron/kernel/startup.jsh";

    @Override
    public void install(BaseKernel kernel) {
        Runnable flushStreams = WholeLineOutput.install(kernel);
        registerRenderers(kernel, flushStreams);
        LiveOutput.setBackend(new LiveOutput.Backend() {
            @Override
            public String show(Object value) {
                flushStreams.run();
                return BaseNotebookStatics.display(value);
            }

            @Override
            public void update(String displayId, Object value) {
                flushStreams.run();
                BaseNotebookStatics.updateDisplay(displayId, value);
            }
        });
        kernel.evalRaw(workbenchImports());
    }

    /** Our kernel's startup imports without its own display API (which would shadow JJava's). */
    static String workbenchImports() {
        try (InputStream in = WorkbenchExtension.class.getResourceAsStream(STARTUP_RESOURCE)) {
            if (in == null) throw new IllegalStateException("missing " + STARTUP_RESOURCE + " (is the kernel jar on the classpath?)");
            String script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return script.lines().filter(l -> l.startsWith("import ")).filter(l -> !l.contains("ai.minitron.kernel."))
                    .collect(Collectors.joining("\n", "", "\n"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + STARTUP_RESOURCE, e);
        }
    }

    private static void registerRenderers(BaseKernel kernel, Runnable flushStreams) {
        // Our Renderer's bundle; nothing for what our kernel shows nothing for (a stream, the value of printf):
        // an empty text, else JJava would add the value's toString(), an object identity.
        RenderFunction<Object> rich = (value, context) -> {
            flushStreams.run();
            MimeBundle bundle = Renderer.render(value);
            if (bundle != null) bundle.data().forEach(context.getOutputContainer()::putData);
            else context.getOutputContainer().putText("");
        };
        register(kernel, Object.class.getName(), rich, MimeBundle.TEXT);  // any other value (JJava's own types first)
        register(kernel, "tech.tablesaw.api.Table", rich, MimeBundle.HTML);
        register(kernel, "org.knowm.xchart.internal.chartpart.Chart", rich, MimeBundle.PNG);
        register(kernel, "java.awt.image.RenderedImage", rich, MimeBundle.PNG);
    }

    @SuppressWarnings("unchecked")
    private static void register(BaseKernel kernel, String className, RenderFunction<Object> render, String preferred) {
        Class<Object> type;
        try {
            type = (Class<Object>) Class.forName(className);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("the workbench jar lacks " + className + ": " + e, e);
        }
        kernel.getRenderer().createRegistration(type).preferring(preferred).supporting(MimeBundle.TEXT).register(render);
    }
}
