package ai.minitron.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits a cell into runs of Java code and line magics, in order. A magic is a line {@code %name args...}; it is
 * recognised only where a statement may start (the code before it is complete), so a {@code %s} line inside a
 * text block or a continued expression stays Java.
 */
final class CellParser {
    private static final Pattern MAGIC = Pattern.compile("^[ \\t]*%([A-Za-z][A-Za-z0-9_-]*)(?:[ \\t]+(.*?))?[ \\t]*$");

    private CellParser() {}

    /** A run of Java source; {@code offset} is where it starts in the cell. */
    record Code(String source, int offset) implements Segment {}

    /** A line magic; {@code offset} is where its line starts in the cell. */
    record Magic(String name, String argLine, int offset, int length) implements Segment {
        List<String> args() {
            return Args.split(argLine);
        }
    }

    sealed interface Segment permits Code, Magic {}

    /** Parses one magic line, or {@code null} if {@code line} is not one. */
    static Magic parseMagicLine(String line, int offset) {
        Matcher m = MAGIC.matcher(line);
        if (!m.matches()) return null;
        return new Magic(m.group(1), m.group(2) == null ? "" : m.group(2), offset, line.length());
    }

    /**
     * @param codeIsComplete whether the Java code accumulated so far ends at a statement boundary
     */
    static List<Segment> split(String cell, Predicate<String> codeIsComplete) {
        List<Segment> out = new ArrayList<>();
        StringBuilder code = new StringBuilder();
        int codeStart = 0;
        int pos = 0;
        while (pos < cell.length()) {
            int nl = cell.indexOf('\n', pos);
            int end = nl < 0 ? cell.length() : nl + 1;
            String line = cell.substring(pos, nl < 0 ? cell.length() : nl);
            if (line.endsWith("\r")) line = line.substring(0, line.length() - 1);
            Magic magic = parseMagicLine(line, pos);
            if (magic != null && (code.toString().isBlank() || codeIsComplete.test(code.toString()))) {
                if (!code.toString().isBlank()) out.add(new Code(code.toString(), codeStart));
                out.add(magic);
                code.setLength(0);
                codeStart = end;
            } else {
                if (code.length() == 0) codeStart = pos;
                code.append(cell, pos, end);
            }
            pos = end;
        }
        if (!code.toString().isBlank()) out.add(new Code(code.toString(), codeStart));
        return out;
    }
}
