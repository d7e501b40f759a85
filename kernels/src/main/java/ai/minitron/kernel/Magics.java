package ai.minitron.kernel;

import ai.minitron.kernel.CellException.MagicException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Line magics: a line {@code %name args} in a cell. Built in:
 *
 * <ul>
 *   <li>{@code %classpath PATH...} – add jars or class directories (globs allowed) to the cell classpath;
 *       without arguments, list what was added;</li>
 *   <li>{@code %jars PATH...} – add jars (globs allowed; a directory adds every jar in it);</li>
 *   <li>{@code %maven [--offline] GROUP:ARTIFACT:VERSION...} – resolve from ~/.m2 and Maven Central with their
 *       runtime dependencies and add the jars;</li>
 *   <li>{@code %load FILE...} – run a file of Java snippets (may itself use magics);</li>
 *   <li>{@code %lsmagic} – list the magics.</li>
 * </ul>
 */
public final class Magics {

    /** A line magic: receives its arguments (already split like a shell would) and may return a value to show. */
    @FunctionalInterface
    public interface LineMagic {
        Object run(List<String> args, JavaEvaluator evaluator) throws Exception;
    }

    private final Map<String, LineMagic> magics = new LinkedHashMap<>();

    Magics() {
        register("classpath", Magics::classpath);
        register("jars", Magics::jars);
        register("maven", Magics::maven);
        register("load", Magics::load);
        register("lsmagic", (args, ev) -> "Line magics: %" + String.join("  %", names()));
    }

    public void register(String name, LineMagic magic) {
        magics.put(name, magic);
    }

    public Set<String> names() {
        return new TreeSet<>(magics.keySet());
    }

    Object run(CellParser.Magic m, JavaEvaluator evaluator) throws CellException {
        LineMagic magic = magics.get(m.name());
        if (magic == null) {
            throw new MagicException("Unknown magic %" + m.name() + ". Available: %" + String.join(", %", names()));
        }
        List<String> args;
        try {
            args = m.args();
        } catch (IllegalArgumentException e) {
            throw new MagicException("%" + m.name() + ": " + e.getMessage());
        }
        try {
            return magic.run(args, evaluator);
        } catch (CellException e) {
            throw e;
        } catch (IllegalArgumentException | IOException e) {
            throw new MagicException("%" + m.name() + ": " + e.getMessage(), e);
        } catch (Exception e) {
            throw new MagicException("%" + m.name() + " failed: " + e, e);
        }
    }

    // ---- built-ins ---------------------------------------------------------------------------------------------

    private static Object classpath(List<String> args, JavaEvaluator ev) {
        if (args.isEmpty()) {
            List<Path> added = ev.addedClasspath();
            return added.isEmpty() ? "(nothing added; the kernel classpath has workbench-lib and its dependencies)"
                    : String.join("\n", added.stream().map(Path::toString).toList());
        }
        List<Path> added = new ArrayList<>();
        for (String a : args) {
            List<Path> matched = Globs.resolve(a, ev.workDir());
            if (matched.isEmpty()) throw new IllegalArgumentException("nothing matches " + a);
            for (Path p : matched) {
                ev.addToClasspath(p);
                added.add(p);
            }
        }
        System.out.println("Added to classpath: " + added.size() + (added.size() == 1 ? " entry" : " entries"));
        return null;
    }

    private static Object jars(List<String> args, JavaEvaluator ev) throws IOException {
        if (args.isEmpty()) throw new IllegalArgumentException("usage: %jars PATH_OR_GLOB...");
        int n = 0;
        for (String a : args) {
            List<Path> jars = new ArrayList<>();
            for (Path p : Globs.resolve(a, ev.workDir())) {
                if (Files.isDirectory(p)) {
                    try (Stream<Path> s = Files.list(p)) {
                        s.filter(f -> f.getFileName().toString().endsWith(".jar")).sorted().forEach(jars::add);
                    }
                } else if (p.getFileName().toString().endsWith(".jar")) {
                    jars.add(p);
                }
            }
            if (jars.isEmpty()) throw new IllegalArgumentException("no jar matches " + a);
            for (Path j : jars) ev.addToClasspath(j);
            n += jars.size();
        }
        System.out.println("Added " + n + (n == 1 ? " jar" : " jars") + " to the classpath");
        return null;
    }

    private static Object maven(List<String> args, JavaEvaluator ev) throws CellException {
        boolean offline = false;
        List<MavenResolver.Coordinate> coords = new ArrayList<>();
        for (String a : args) {
            if (a.equals("--offline") || a.equals("-o")) offline = true;
            else coords.add(MavenResolver.Coordinate.parse(a));
        }
        if (coords.isEmpty()) throw new IllegalArgumentException("usage: %maven [--offline] group:artifact:version...");
        List<Path> jars;
        try {
            jars = ev.mavenResolver().resolve(coords, offline, ev::setRunningProcess);
        } finally {
            ev.setRunningProcess(null);
        }
        Set<String> present = ev.classpathFileNames();
        int added = 0;
        int skipped = 0;
        for (Path j : jars) {
            if (present.contains(j.getFileName().toString())) {
                skipped++;
            } else {
                ev.addToClasspath(j);
                added++;
            }
        }
        System.out.println("%maven " + coords + ": added " + added + (added == 1 ? " jar" : " jars")
                + (skipped > 0 ? " (" + skipped + " already on the classpath)" : ""));
        return null;
    }

    private static Object load(List<String> args, JavaEvaluator ev) throws CellException, IOException {
        if (args.isEmpty()) throw new IllegalArgumentException("usage: %load FILE.jsh...");
        for (String a : args) {
            for (Path f : Globs.resolve(a, ev.workDir())) {
                String source = Files.readString(f, StandardCharsets.UTF_8);
                ev.eval(source);
            }
        }
        return null;
    }
}
