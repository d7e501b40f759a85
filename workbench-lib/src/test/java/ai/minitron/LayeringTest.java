package ai.minitron;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The README's package table (section "Architecture") is the layering contract: a class may use its own
 * package and the packages above it in the table, never one below. This test reads the order from the
 * README and checks every {@code ai.minitron.*} import and fully qualified reference of the library's
 * main sources against it.
 */
class LayeringTest {
    /** A reference to a class: {@code ai.minitron.<package>.<Class>}, in an import or in code. */
    private static final Pattern REFERENCE = Pattern.compile("\\bai\\.minitron\\.((?:[a-z][a-z0-9_]*\\.)+)[A-Z]");
    /** A row of the package table: {@code | `package` | ...}. */
    private static final Pattern ROW = Pattern.compile("^\\|\\s*`([a-z][a-z0-9_.]*)`\\s*\\|");

    @Test
    void everyImportPointsUpTheReadmeTable() throws IOException {
        List<String> order = packageOrder(Files.readString(RepoData.root().resolve("README.md")));
        Path root = RepoData.root().resolve("workbench-lib/src/main/java/ai/minitron");
        List<String> violations = new ArrayList<>();
        List<Path> sources;
        try (Stream<Path> s = Files.walk(root)) {
            sources = s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
        assertFalse(sources.isEmpty(), "no sources under " + root);
        for (Path f : sources) {
            String pkg = root.relativize(f.getParent()).toString().replace('/', '.').replace('\\', '.');
            violations.addAll(violations(root.relativize(f).toString(), pkg, Files.readString(f), order));
        }
        assertEquals(List.of(), violations, "imports against the README's package table " + order);
    }

    @Test
    void flagsAnImportPointingDown() {
        List<String> order = List.of("config", "io", "io.gguf", "model", "search");
        String src = "package ai.minitron.io;\n"
                + "import ai.minitron.config.ModelConfig;\n"
                + "import ai.minitron.io.gguf.GgufFile;\n"
                + "class X { Object s = new ai.minitron.search.Candidate(); }\n";
        List<String> v = violations("io/X.java", "io", src, order);
        assertEquals(2, v.size(), v.toString());
        assertTrue(v.get(0).contains("io.gguf"), v.get(0));
        assertTrue(v.get(1).contains("search"), v.get(1));
        String up = "import ai.minitron.config.ModelConfig;\nimport ai.minitron.io.gguf.GgufFile;\nclass Y {}\n";
        assertEquals(List.of(), violations("model/Y.java", "model", up, order), "model may use everything above it");
        assertEquals(1, violations("viz/Z.java", "viz", "import ai.minitron.config.ModelConfig;", order).size(),
                "a package missing from the table is a violation");
    }

    @Test
    void readsTheTableOfTheArchitectureSection() {
        String readme = "# T\n| `other` | x |\n## Architecture\n\ntext\n\n| package | owns |\n|---|---|\n"
                + "| `config` | a |\n| `io.gguf` | b |\n\nmore\n| `late` | c |\n## Next\n";
        assertEquals(List.of("config", "io.gguf"), packageOrder(readme));
    }

    /** The packages of the README's Architecture table, top to bottom. */
    static List<String> packageOrder(String readme) {
        int start = readme.indexOf("\n## Architecture");
        assertTrue(start >= 0, "README.md has no '## Architecture' section");
        List<String> order = new ArrayList<>();
        boolean inTable = false;
        for (String line : readme.substring(start + 1).split("\n", -1)) {
            Matcher m = ROW.matcher(line);
            if (m.find()) {
                order.add(m.group(1));
                inTable = true;
            } else if (inTable && !line.startsWith("|")) {
                break;
            }
        }
        assertFalse(order.isEmpty(), "no package table in README.md's Architecture section");
        return order;
    }

    /** Each reference in {@code source} (of package {@code pkg}) to a package not above {@code pkg}. */
    static List<String> violations(String file, String pkg, String source, List<String> order) {
        List<String> out = new ArrayList<>();
        int own = order.indexOf(pkg);
        Matcher m = REFERENCE.matcher(source);
        while (m.find()) {
            String path = m.group(1).substring(0, m.group(1).length() - 1);
            String target = owner(path, order);
            if (target.equals(pkg)) continue;
            int at = order.indexOf(target);
            if (own < 0 || at < 0 || at > own) {
                int line = 1 + (int) source.substring(0, m.start()).chars().filter(c -> c == '\n').count();
                out.add(file + ":" + line + ": " + (own < 0 ? "(" + pkg + " not in the table) " : "")
                        + pkg + " -> " + target + (at < 0 ? " (not in the table)" : " (below it)"));
            }
        }
        return out;
    }

    /** The table package a dotted package path belongs to: the longest one it starts with. */
    private static String owner(String path, List<String> order) {
        String best = path;
        int bestLen = -1;
        for (String p : order) {
            if ((path.equals(p) || path.startsWith(p + ".")) && p.length() > bestLen) {
                best = p;
                bestLen = p.length();
            }
        }
        return best;
    }
}
