package ai.minitron.kernel;

import ai.minitron.kernel.CellException.CompilationException;
import ai.minitron.kernel.CellException.EvaluationException;
import ai.minitron.kernel.CellException.InterruptedCellException;
import jdk.jshell.DeclarationSnippet;
import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.SourceCodeAnalysis.CompletionInfo;
import jdk.jshell.SourceCodeAnalysis.Completeness;
import jdk.jshell.UnresolvedReferenceException;
import jdk.jshell.VarSnippet;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The heart of the kernel, free of any Jupyter protocol: a JShell session executing in this JVM.
 * {@link #eval} runs a cell (Java snippets and line {@link Magics}) and returns the live value of its last
 * expression; completion, inspection and completeness checks use JShell's {@link SourceCodeAnalysis}.
 *
 * <p>Not thread-safe except {@link #interrupt()}, which is meant to be called from another thread while
 * {@link #eval} runs.
 */
public final class JavaEvaluator implements AutoCloseable {

    /** The resource with the imports every session starts with. */
    public static final String STARTUP_RESOURCE = "/ai/minitron/kernel/startup.jsh";

    private final KernelConfig config;
    private final Path workDir;
    private final JShell shell;
    private final InProcessExecutionControl control;
    private final SourceCodeAnalysis analysis;
    private final Magics magics = new Magics();
    private final List<Path> addedClasspath = new ArrayList<>();
    private final Set<String> classpathFileNames = new HashSet<>();
    private MavenResolver mavenResolver;
    private volatile Process runningProcess;
    private volatile boolean interrupted;

    /** A session with {@code config}, started in the current directory; runs the startup scripts. */
    public static JavaEvaluator start(KernelConfig config) {
        return new JavaEvaluator(config, Path.of("").toAbsolutePath(), System.err);
    }

    /**
     * @param warnings where problems in startup scripts are reported (they do not stop the kernel)
     */
    public JavaEvaluator(KernelConfig config, Path workDir, PrintStream warnings) {
        this.config = config;
        this.workDir = workDir;
        InProcessExecutionControl.Provider provider = new InProcessExecutionControl.Provider(config.timeoutMillis());
        List<String> compilerOptions = new ArrayList<>(config.compilerOptions());
        this.shell = JShell.builder()
                .executionEngine(provider, Map.of())
                .compilerOptions(compilerOptions.toArray(String[]::new))
                .build();
        this.control = provider.control();
        this.analysis = shell.sourceCodeAnalysis();

        // The kernel's own classpath (workbench-lib and its dependencies) is what JShell compiles against by
        // default (java.class.path) and what its class loader delegates to; remember its jars for %maven.
        for (String entry : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
            if (!entry.isBlank()) classpathFileNames.add(Path.of(entry).getFileName().toString());
        }
        for (String entry : config.classpath()) {
            try {
                for (Path p : Globs.resolve(entry, workDir)) addToClasspath(p);
            } catch (RuntimeException e) {
                warnings.println("[kernel] " + KernelConfig.CLASSPATH + ": " + e.getMessage());
            }
        }
        runStartup(warnings);
    }

    // ---- startup -----------------------------------------------------------------------------------------------

    private void runStartup(PrintStream warnings) {
        evalTolerant(readResource(STARTUP_RESOURCE), "startup imports", warnings);
        for (String pattern : config.startupScriptPaths()) {
            try {
                for (Path f : Globs.resolve(pattern, workDir)) {
                    evalTolerant(Files.readString(f, StandardCharsets.UTF_8), f.toString(), warnings);
                }
            } catch (IOException | RuntimeException e) {
                warnings.println("[kernel] " + KernelConfig.STARTUP_SCRIPTS_PATH + ": " + e.getMessage());
            }
        }
        if (!config.startupScript().isBlank()) {
            evalTolerant(config.startupScript(), KernelConfig.STARTUP_SCRIPT, warnings);
        }
        control.clearResults();
    }

    /** Runs every snippet of {@code source}, reporting failures instead of stopping at the first. */
    private void evalTolerant(String source, String origin, PrintStream warnings) {
        try {
            for (CellParser.Segment s : CellParser.split(source, this::isCompleteCode)) {
                if (s instanceof CellParser.Magic m) {
                    try {
                        magics.run(m, this);
                    } catch (CellException e) {
                        warnings.println("[kernel] " + origin + ": " + e.getMessage());
                    }
                    continue;
                }
                String remaining = ((CellParser.Code) s).source();
                while (true) {
                    CompletionInfo info = analysis.analyzeCompletion(remaining);
                    if (info.completeness() == Completeness.EMPTY) break;
                    String snippet = info.completeness().isComplete() ? info.source() : remaining;
                    try {
                        evalSnippet(snippet);
                    } catch (CellException e) {
                        warnings.println("[kernel] " + origin + ": skipped `" + snippet.strip() + "`: "
                                + e.getMessage().strip().replace("\n", " | "));
                    }
                    if (!info.completeness().isComplete()) break;
                    remaining = info.remaining();
                }
            }
        } finally {
            control.clearResults();
        }
    }

    static String readResource(String name) {
        try (InputStream in = JavaEvaluator.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("missing resource " + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- evaluation --------------------------------------------------------------------------------------------

    /**
     * Runs a cell: its Java snippets and magics in order. Returns the live value of the last snippet if that is an
     * expression ({@code null} otherwise, or for a statement, declaration or magic).
     */
    public Object eval(String cell) throws CellException {
        interrupted = false;
        control.newCell();
        try {
            return evalCell(cell);
        } finally {
            control.clearResults();
        }
    }

    /** Like {@link #eval} without resetting the interrupt state: used by {@code %load}. */
    Object evalCell(String cell) throws CellException {
        Object last = null;
        for (CellParser.Segment s : CellParser.split(cell, this::isCompleteCode)) {
            checkInterrupted();
            if (s instanceof CellParser.Magic m) {
                last = magics.run(m, this);
            } else {
                last = evalCode(((CellParser.Code) s).source());
            }
        }
        return last;
    }

    private Object evalCode(String code) throws CellException {
        Object last = null;
        String remaining = code;
        while (true) {
            CompletionInfo info = analysis.analyzeCompletion(remaining);
            Completeness c = info.completeness();
            if (c == Completeness.EMPTY) return last;
            if (!c.isComplete()) {
                // Let the compiler say what is wrong with the unfinished rest (it names the missing token).
                evalSnippet(remaining);
                throw new CompilationException("Incomplete code:\n" + indent(remaining.strip()));
            }
            checkInterrupted();
            last = evalSnippet(info.source());
            remaining = info.remaining();
        }
    }

    private Object evalSnippet(String source) throws CellException {
        List<SnippetEvent> events = shell.eval(source);
        String stopReason = control.stopReason();
        if (stopReason != null) {
            interrupted = true;
            throw new InterruptedCellException(stopReason);
        }
        Object value = null;
        for (SnippetEvent e : events) {
            if (e.causeSnippet() != null) continue; // a dependent snippet was updated
            Snippet sn = e.snippet();
            if (e.status() == Snippet.Status.REJECTED) throw compilationError(sn);
            if (e.exception() != null) throw runtimeError(e.exception());
            if (e.status() == Snippet.Status.RECOVERABLE_DEFINED || e.status() == Snippet.Status.RECOVERABLE_NOT_DEFINED) {
                if (sn instanceof DeclarationSnippet ds) {
                    System.err.println("Note: " + describe(ds) + " cannot be used until "
                            + String.join(", ", shell.unresolvedDependencies(ds).toList()) + " is declared.");
                }
            }
            if (isValueSnippet(sn)) value = control.takeResult(e.value());
        }
        return value;
    }

    private static boolean isValueSnippet(Snippet sn) {
        return sn.kind() == Snippet.Kind.EXPRESSION
                || (sn.kind() == Snippet.Kind.VAR && sn.subKind() == Snippet.SubKind.TEMP_VAR_EXPRESSION_SUBKIND);
    }

    private void checkInterrupted() throws InterruptedCellException {
        if (interrupted) throw new InterruptedCellException("Interrupted");
    }

    // ---- errors ------------------------------------------------------------------------------------------------

    private CompilationException compilationError(Snippet sn) {
        String source = sn.source();
        StringBuilder b = new StringBuilder();
        List<Diag> diags = shell.diagnostics(sn).filter(Diag::isError).toList();
        if (diags.isEmpty()) diags = shell.diagnostics(sn).toList();
        for (Diag d : diags) {
            if (b.length() > 0) b.append('\n');
            b.append(formatDiag(source, d));
        }
        if (b.length() == 0) {
            if (sn instanceof DeclarationSnippet ds) {
                List<String> missing = shell.unresolvedDependencies(ds).toList();
                if (!missing.isEmpty()) {
                    b.append(describe(ds)).append(" uses undeclared ").append(String.join(", ", missing)).append('\n');
                }
            }
            b.append("Rejected:\n").append(indent(source.strip()));
        }
        return new CompilationException(b.toString());
    }

    /** The offending source line with a caret under the error, then the compiler's message. */
    static String formatDiag(String source, Diag d) {
        int pos = (int) Math.max(0, Math.min(source.length(), d.getPosition() >= 0 ? d.getPosition() : d.getStartPosition()));
        int start = (int) Math.max(0, Math.min(pos, d.getStartPosition() >= 0 ? d.getStartPosition() : pos));
        int end = (int) Math.max(pos, Math.min(source.length(), d.getEndPosition()));
        int lineStart = source.lastIndexOf('\n', Math.max(0, pos - 1)) + 1;
        if (pos == 0) lineStart = 0;
        int lineEnd = source.indexOf('\n', pos);
        if (lineEnd < 0) lineEnd = source.length();
        String line = source.substring(lineStart, lineEnd);
        int from = Math.max(start, lineStart) - lineStart;
        int to = Math.min(Math.max(end, pos + 1), lineEnd) - lineStart;
        StringBuilder caret = new StringBuilder();
        for (int i = 0; i < from; i++) caret.append(line.charAt(i) == '\t' ? '\t' : ' ');
        caret.append('^');
        for (int i = from + 1; i < to - 1; i++) caret.append('-');
        if (to - from > 1) caret.append('^');
        return "    " + line.stripTrailing() + "\n    " + caret + "\n" + d.getMessage(Locale.ROOT);
    }

    private EvaluationException runtimeError(JShellException ex) {
        Throwable live = control.lastUserException();
        List<String> lines = new ArrayList<>();
        if (ex instanceof UnresolvedReferenceException ure) {
            DeclarationSnippet ds = ure.getSnippet();
            String msg = describe(ds) + " cannot be invoked until "
                    + String.join(", ", shell.unresolvedDependencies(ds).toList()) + " is declared";
            RuntimeException e = new IllegalStateException(msg);
            return new EvaluationException(e, List.of(e.toString()));
        }
        formatThrowable(ex, lines, "");
        if (live == null || (ex instanceof EvalException ee && !live.getClass().getName().equals(ee.getExceptionClassName()))) {
            live = ex;
        }
        return new EvaluationException(live, lines);
    }

    private static void formatThrowable(Throwable t, List<String> out, String prefix) {
        String name = t instanceof EvalException ee ? ee.getExceptionClassName() : t.getClass().getName();
        String msg = t.getMessage();
        out.add(prefix + name + (msg == null ? "" : ": " + msg));
        for (StackTraceElement el : t.getStackTrace()) {
            String cls = el.getClassName();
            if (cls.startsWith("jdk.internal.reflect.") || cls.startsWith("java.lang.reflect.")
                    || cls.startsWith(InProcessExecutionControl.class.getName())) {
                break; // below here is the kernel calling the snippet
            }
            out.add("\tat " + frame(el));
        }
        if (t.getCause() != null && t.getCause() != t) formatThrowable(t.getCause(), out, "Caused by: ");
    }

    /** JShell names snippet frames {@code .do_it$(#12:1)}; say "cell snippet 12, line 1" instead. */
    private static String frame(StackTraceElement el) {
        String file = el.getFileName();
        if (file != null && file.startsWith("#")) {
            String where = "snippet " + file.substring(1) + (el.getLineNumber() > 0 ? ", line " + el.getLineNumber() : "");
            String method = el.getMethodName().equals("do_it$") ? "" : el.getMethodName();
            String cls = el.getClassName().isEmpty() ? "" : el.getClassName() + ".";
            return (cls + method).isEmpty() ? "(" + where + ")" : cls + method + "(" + where + ")";
        }
        return el.toString();
    }

    private static String describe(DeclarationSnippet ds) {
        String kind = switch (ds.kind()) {
            case METHOD -> "method";
            case VAR -> "variable";
            case TYPE_DECL -> "type";
            default -> ds.kind().name().toLowerCase(Locale.ROOT);
        };
        return kind + " " + ds.name();
    }

    private static String indent(String s) {
        return s.lines().map(l -> "    " + l).collect(Collectors.joining("\n"));
    }

    // ---- interrupt ---------------------------------------------------------------------------------------------

    /** Stops the running snippet ({@link JShell#stop()}) or the running magic's process. Any thread. */
    public void interrupt() {
        interrupted = true;
        Process p = runningProcess;
        if (p != null) p.descendants().forEach(ProcessHandle::destroy);
        if (p != null) p.destroy();
        control.interruptCell(); // also stops a snippet that starts after this (the cell was still compiling)
        shell.stop();            // stops the running snippet: InProcessExecutionControl.stop()
    }

    void setRunningProcess(Process p) {
        runningProcess = p;
        if (p != null && interrupted) interrupt();
    }

    // ---- completion, inspection, completeness ------------------------------------------------------------------

    /** Completion candidates for the cursor; replace {@code [start, end)} of the cell with one of them. */
    public record Completion(List<String> options, int start, int end) {}

    public Completion complete(String cell, int cursor) {
        Located at = locate(cell, cursor);
        if (at == null) return new Completion(List.of(), cursor, cursor);
        if (at.magic != null) {
            // Completing a magic's name.
            String line = cell.substring(at.magic.offset(), Math.min(cursor, at.magic.offset() + at.magic.length()));
            int pct = line.indexOf('%');
            String typed = line.substring(pct + 1);
            if (typed.chars().allMatch(ch -> Character.isLetterOrDigit(ch) || ch == '_' || ch == '-')) {
                List<String> names = magics.names().stream().filter(n -> n.startsWith(typed)).toList();
                return new Completion(names, at.magic.offset() + pct + 1, cursor);
            }
            return new Completion(List.of(), cursor, cursor);
        }
        int[] anchor = new int[1];
        List<SourceCodeAnalysis.Suggestion> suggestions =
                analysis.completionSuggestions(at.snippet, at.cursorInSnippet, anchor);
        Set<String> options = new LinkedHashSet<>();
        suggestions.stream().filter(SourceCodeAnalysis.Suggestion::matchesType)
                .forEach(s -> options.add(s.continuation()));
        suggestions.forEach(s -> options.add(s.continuation()));
        return new Completion(List.copyOf(options), at.snippetStart + anchor[0], cursor);
    }

    /** Documentation for the code at the cursor (signatures, javadoc where the JDK has sources), or null. */
    public String inspect(String cell, int cursor, boolean detail) {
        Located at = locate(cell, cursor);
        if (at == null || at.magic != null) return null;
        List<SourceCodeAnalysis.Documentation> docs = analysis.documentation(at.snippet, at.cursorInSnippet, true);
        if (!docs.isEmpty()) {
            StringBuilder b = new StringBuilder();
            for (SourceCodeAnalysis.Documentation d : docs) {
                if (b.length() > 0) b.append("\n\n");
                b.append(d.signature());
                if (d.javadoc() != null && !d.javadoc().isBlank()) b.append("\n").append(d.javadoc().strip());
            }
            return b.toString();
        }
        // A variable under the cursor: its type and value.
        String word = identifierAt(at.snippet, at.cursorInSnippet);
        if (word == null) return null;
        for (VarSnippet v : shell.variables().toList()) {
            if (v.name().equals(word) && shell.status(v).isActive()) {
                String value;
                try {
                    value = shell.varValue(v);
                } catch (RuntimeException e) {
                    value = "(unavailable: " + e.getMessage() + ")";
                }
                return v.typeName() + " " + v.name() + " = " + value;
            }
        }
        return null;
    }

    /** Jupyter's is_complete: "complete", "invalid", "unknown", or the indent to continue with. */
    public String isComplete(String cell) {
        StringBuilder code = new StringBuilder();
        for (CellParser.Segment s : CellParser.split(cell, this::isCompleteCode)) {
            if (s instanceof CellParser.Code c) code.append(c.source()).append('\n');
        }
        String remaining = code.toString();
        while (true) {
            CompletionInfo info = analysis.analyzeCompletion(remaining);
            switch (info.completeness()) {
                case EMPTY:
                    return "complete";
                case COMPLETE:
                case COMPLETE_WITH_SEMI:
                    remaining = info.remaining();
                    continue;
                case DEFINITELY_INCOMPLETE:
                    return "    ";
                case CONSIDERED_INCOMPLETE:
                    return "unknown";
                default:
                    return "invalid";
            }
        }
    }

    boolean isCompleteCode(String code) {
        String remaining = code;
        while (true) {
            CompletionInfo info = analysis.analyzeCompletion(remaining);
            Completeness c = info.completeness();
            if (c == Completeness.EMPTY) return true;
            if (!c.isComplete()) return false;
            remaining = info.remaining();
        }
    }

    /** The snippet of the cell that holds the cursor (or the magic line it is on). */
    private record Located(CellParser.Magic magic, String snippet, int snippetStart, int cursorInSnippet) {}

    private Located locate(String cell, int cursor) {
        for (CellParser.Segment s : CellParser.split(cell, this::isCompleteCode)) {
            if (s instanceof CellParser.Magic m) {
                if (cursor >= m.offset() && cursor <= m.offset() + m.length()) return new Located(m, null, 0, 0);
                continue;
            }
            CellParser.Code c = (CellParser.Code) s;
            if (cursor < c.offset() || cursor > c.offset() + c.source().length()) continue;
            String remaining = c.source();
            int start = c.offset();
            while (true) {
                CompletionInfo info = analysis.analyzeCompletion(remaining);
                int consumed = remaining.length() - info.remaining().length();
                boolean last = !info.completeness().isComplete() || info.remaining().isBlank();
                if (last || cursor <= start + consumed) {
                    String snippet = last ? remaining : remaining.substring(0, consumed);
                    int lead = snippet.length() - snippet.stripLeading().length();
                    if (cursor - start < lead) lead = 0;
                    return new Located(null, snippet.substring(lead), start + lead, cursor - start - lead);
                }
                remaining = info.remaining();
                start += consumed;
            }
        }
        return null;
    }

    private static String identifierAt(String s, int cursor) {
        int a = Math.min(cursor, s.length());
        int b = a;
        while (a > 0 && Character.isJavaIdentifierPart(s.charAt(a - 1))) a--;
        while (b < s.length() && Character.isJavaIdentifierPart(s.charAt(b))) b++;
        return a < b ? s.substring(a, b) : null;
    }

    // ---- classpath ---------------------------------------------------------------------------------------------

    /** Adds a jar or class directory to what cells compile against and load from. */
    public void addToClasspath(Path path) {
        Path p = path.toAbsolutePath().normalize();
        shell.addToClasspath(p.toString());
        addedClasspath.add(p);
        classpathFileNames.add(p.getFileName().toString());
    }

    public List<Path> addedClasspath() {
        return List.copyOf(addedClasspath);
    }

    Set<String> classpathFileNames() {
        return Set.copyOf(classpathFileNames);
    }

    synchronized void setMavenResolver(MavenResolver resolver) {
        mavenResolver = resolver;
    }

    synchronized MavenResolver mavenResolver() {
        if (mavenResolver == null) mavenResolver = new MavenResolver(MavenResolver.defaultCacheRoot());
        return mavenResolver;
    }

    // ---- accessors ---------------------------------------------------------------------------------------------

    public Path workDir() {
        return workDir;
    }

    public Magics magics() {
        return magics;
    }

    public JShell jshell() {
        return shell;
    }

    public KernelConfig config() {
        return config;
    }

    @Override
    public void close() {
        shell.close();
    }
}
