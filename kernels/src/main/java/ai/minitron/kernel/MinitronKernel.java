package ai.minitron.kernel;

import org.dflib.jjava.jupyter.channels.ShellReplyEnvironment;
import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.BaseKernelBuilder;
import org.dflib.jjava.jupyter.kernel.HelpLink;
import org.dflib.jjava.jupyter.kernel.JupyterIO;
import org.dflib.jjava.jupyter.kernel.comm.CommManager;
import org.dflib.jjava.jupyter.kernel.magic.MagicsRegistry;
import org.dflib.jjava.jupyter.kernel.util.StringStyler;
import org.dflib.jjava.jupyter.kernel.LanguageInfo;
import org.dflib.jjava.jupyter.kernel.ReplacementOptions;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;

import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.List;

/**
 * The Jupyter side: adapts {@link JavaEvaluator} to the Jupyter protocol implemented by jjava-jupyter
 * (the maintained fork of IJava's jupyter-jvm-basekernel). Execute, complete, inspect, is_complete, interrupt
 * (kernel.json {@code interrupt_mode: message}), display_data and update_display_data.
 *
 * <p>A cell's {@code System.out} / {@code System.err} are {@link CellStreams}: whole lines, flushed on a short
 * timer, at the end of the cell and before every other output of the cell.
 */
public final class MinitronKernel extends BaseKernel {

    public static final String VERSION = "0.1.0";

    private final JavaEvaluator evaluator;
    private final CellStreams streams;

    private MinitronKernel(String name, String version, JupyterIO io, Charset charset, CommManager comms,
                           org.dflib.jjava.jupyter.kernel.display.Renderer renderer, MagicsRegistry magics,
                           StringStyler errorStyler, JavaEvaluator evaluator) {
        super(name, version,
                new LanguageInfo.Builder("Java")
                        .version(Runtime.version().toString())
                        .mimetype("text/x-java-source")
                        .fileExtension(".jshell")
                        .pygments("java")
                        .codemirror("java")
                        .build(),
                List.of(new HelpLink("JShell", "https://docs.oracle.com/en/java/javase/17/jshell/")),
                null, io, comms, renderer, null, magics, false, errorStyler);
        this.evaluator = evaluator;
        this.streams = new CellStreams(io.out, io.err, charset);
        Display.setSink(new DisplaySink() {
            @Override
            public void display(MimeBundle bundle, String displayId) {
                streams.flushAll();
                DisplayData d = toDisplayData(bundle);
                d.setDisplayId(displayId);
                io.display.display(d);
            }

            @Override
            public void update(MimeBundle bundle, String displayId) {
                streams.flushAll();
                io.display.updateDisplay(displayId, toDisplayData(bundle));
            }
        });
    }

    /** Builds the kernel around a session started from the environment's IJAVA_* settings. */
    public static MinitronKernel create(KernelConfig config) {
        return new Builder().name("Minitron Workbench Java").version(VERSION).build(JavaEvaluator.start(config));
    }

    static final class Builder extends BaseKernelBuilder<Builder, MinitronKernel> {
        @Override
        public MinitronKernel build() {
            throw new UnsupportedOperationException("use build(JavaEvaluator)");
        }

        MinitronKernel build(JavaEvaluator evaluator) {
            Charset charset = buildJupyterIOEncoding();
            return new MinitronKernel(buildName(), buildVersion(), buildJupyterIO(charset), charset,
                    buildCommManager(), buildRenderer(), buildMagicsRegistry(), buildErrorStyler(), evaluator);
        }
    }

    public JavaEvaluator evaluator() {
        return evaluator;
    }

    static DisplayData toDisplayData(MimeBundle bundle) {
        DisplayData d = new DisplayData();
        bundle.data().forEach(d::putData);
        return d;
    }

    @Override
    public Object evalRaw(String source) {
        try {
            return evaluator.eval(source);
        } catch (CellException e) {
            // BaseKernel's execute handler catches Exception and names the error after its class
            // (CompilationException, EvaluationException, ...): let the checked exception through as it is.
            throw KernelMain.<RuntimeException>sneaky(e);
        }
    }

    /** The cell writes to {@link CellStreams} (BaseKernel restores the JVM's own streams after the reply). */
    @Override
    protected void replaceOutputStreams(ShellReplyEnvironment env) {
        super.replaceOutputStreams(env);
        streams.install();
    }

    @Override
    public DisplayData eval(String source) {
        Object value;
        try {
            value = evalRaw(source);
        } finally {
            streams.flushAll();  // before the result or the error
        }
        MimeBundle bundle = Renderer.render(value);
        return bundle == null ? null : toDisplayData(bundle);
    }

    @Override
    public DisplayData inspect(String code, int at, boolean extraDetail) {
        String doc = evaluator.inspect(code, at, extraDetail);
        return doc == null ? null : new DisplayData(doc);
    }

    @Override
    public ReplacementOptions complete(String code, int at) {
        JavaEvaluator.Completion c = evaluator.complete(code, at);
        return new ReplacementOptions(c.options(), c.start(), c.end());
    }

    @Override
    public String isComplete(String code) {
        return evaluator.isComplete(code);
    }

    @Override
    public void interrupt() {
        evaluator.interrupt();
    }

    @Override
    public void onShutdown(boolean isRestarting) {
        try {
            streams.close();
            evaluator.close();
        } finally {
            super.onShutdown(isRestarting);
        }
    }

    /** Cell errors show their own traceback (compiler message with a caret, or the user's exception) only. */
    @Override
    public List<String> formatError(Throwable e) {
        if (e instanceof CellException c) {
            List<String> lines = new ArrayList<>();
            for (String l : c.traceback()) lines.add(errorStyler.secondary(l));
            return lines;
        }
        return super.formatError(e);
    }
}
