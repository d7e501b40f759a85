package ai.minitron.kernel;

import ai.minitron.notebook.LiveOutput;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

import javax.imageio.ImageIO;
import java.awt.image.RenderedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a value into a {@link MimeBundle}, richest representation first, always with a text/plain fallback:
 *
 * <ol>
 *   <li>a {@link MimeBundle} as is;</li>
 *   <li>a {@link Displayable}: its non-null HTML / SVG / PNG / Markdown;</li>
 *   <li>a Tablesaw {@link Table}: an HTML table (head and tail rows when long) + {@code Table.print};</li>
 *   <li>a {@link RenderedImage} (e.g. {@code BufferedImage}): PNG;</li>
 *   <li>an XChart chart (if XChart is on the classpath): PNG;</li>
 *   <li>any object with public no-arg {@code toHtml()}, {@code toSvg()}, {@code toPng()} or {@code toMarkdown()};</li>
 *   <li>anything else: {@code toString()} (arrays element-wise).</li>
 * </ol>
 *
 * <p>Never an object identity ({@code java.io.PrintStream@1b6d3586}): a stream without a {@code toString()} of
 * its own shows nothing (a cell ending in {@code System.out.printf(...)} has printed what it meant to), any
 * other object without one shows its type and a hint, and identities inside a text (a list of such objects)
 * become {@code <Type>}.
 */
public final class Renderer {

    private static volatile int maxRows = 30;

    private Renderer() {}

    /** Tables longer than this show their first and last rows only. */
    public static void setMaxRows(int rows) {
        if (rows < 2) throw new IllegalArgumentException("maxRows must be >= 2");
        maxRows = rows;
    }

    public static int maxRows() {
        return maxRows;
    }

    /**
     * The bundle for {@code value}; {@code null} for {@code null}, for a {@link LiveOutput} (that output is
     * already shown; a cell ending in {@code display(x)} must not show it twice) and for a stream or writer
     * without a {@code toString()} of its own (the value of {@code printf}, {@code format}, {@code append}).
     */
    public static MimeBundle render(Object value) {
        if (value == null || value instanceof LiveOutput || isBareStream(value)) {
            return null;
        }
        try {
            MimeBundle b = renderRich(value);
            if (!b.has(MimeBundle.TEXT)) b.put(MimeBundle.TEXT, plainText(value));
            return b;
        } catch (RuntimeException | LinkageError e) {
            return new MimeBundle().put(MimeBundle.TEXT,
                    withoutIdentities(safeToString(value)) + "\n(rich display failed: " + e + ")");
        }
    }

    private static MimeBundle renderRich(Object value) {
        if (value instanceof MimeBundle m) return m;
        if (value instanceof Displayable d) {
            MimeBundle b = new MimeBundle();
            putIfPresent(b, MimeBundle.HTML, d.toHtml());
            putIfPresent(b, MimeBundle.SVG, d.toSvg());
            byte[] png = d.toPng();
            if (png != null) b.putPng(png);
            putIfPresent(b, MimeBundle.MARKDOWN, d.toMarkdown());
            b.put(MimeBundle.TEXT, d.toText());
            return b;
        }
        if (value instanceof Table t) {
            return new MimeBundle().put(MimeBundle.HTML, tableHtml(t)).put(MimeBundle.TEXT, tableText(t));
        }
        if (value instanceof Column<?> c) {
            return new MimeBundle().put(MimeBundle.TEXT, c.print());
        }
        if (value instanceof RenderedImage img) {
            return new MimeBundle().putPng(png(img)).put(MimeBundle.TEXT, imageText(img));
        }
        MimeBundle chart = xchart(value);
        if (chart != null) return chart;
        return duckTyped(value);
    }

    // ---- Tablesaw ----------------------------------------------------------------------------------------------

    static String tableHtml(Table t) {
        int rows = t.rowCount();
        int cols = t.columnCount();
        int limit = maxRows;
        boolean truncated = rows > limit;
        int head = truncated ? limit - Math.max(1, limit / 6) : rows;
        int tailStart = truncated ? rows - (limit - head) : rows;

        StringBuilder b = new StringBuilder(256 + rows * cols * 16);
        b.append("<div class=\"minitron-table\">");
        b.append("<table border=\"1\" class=\"dataframe\">");
        if (t.name() != null && !t.name().isBlank()) {
            b.append("<caption style=\"caption-side:top;text-align:left\"><b>").append(escape(t.name())).append("</b></caption>");
        }
        b.append("<thead><tr style=\"text-align:right\"><th></th>");
        for (Column<?> c : t.columns()) {
            b.append("<th title=\"").append(escape(c.type().name())).append("\">").append(escape(c.name())).append("</th>");
        }
        b.append("</tr></thead><tbody>");
        for (int r = 0; r < head; r++) row(b, t, r);
        if (truncated) {
            b.append("<tr><th>…</th>");
            for (int c = 0; c < cols; c++) b.append("<td>…</td>");
            b.append("</tr>");
            for (int r = tailStart; r < rows; r++) row(b, t, r);
        }
        b.append("</tbody></table>");
        b.append("<p>").append(rows).append(" rows × ").append(cols).append(" columns</p></div>");
        return b.toString();
    }

    private static void row(StringBuilder b, Table t, int r) {
        b.append("<tr><th>").append(r).append("</th>");
        for (Column<?> c : t.columns()) {
            b.append("<td>").append(escape(c.isMissing(r) ? "" : c.getString(r))).append("</td>");
        }
        b.append("</tr>");
    }

    static String tableText(Table t) {
        return t.print(maxRows);
    }

    // ---- images and charts -------------------------------------------------------------------------------------

    static byte[] png(RenderedImage img) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            if (!ImageIO.write(img, "png", out)) throw new IllegalStateException("no PNG writer for " + img);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String imageText(RenderedImage img) {
        return img.getClass().getSimpleName() + "[" + img.getWidth() + "x" + img.getHeight() + "]";
    }

    /** XChart charts, found by class name so the kernel does not depend on XChart. */
    private static MimeBundle xchart(Object value) {
        Class<?> chartClass = superclassNamed(value.getClass(), "org.knowm.xchart.internal.chartpart.Chart");
        if (chartClass == null) return null;
        try {
            ClassLoader cl = chartClass.getClassLoader();
            Class<?> encoder = Class.forName("org.knowm.xchart.BitmapEncoder", true, cl);
            Class<?> format = Class.forName("org.knowm.xchart.BitmapEncoder$BitmapFormat", true, cl);
            Object pngFormat = format.getField("PNG").get(null);
            Method m = encoder.getMethod("getBitmapBytes", chartClass, format);
            byte[] png = (byte[]) m.invoke(null, value, pngFormat);
            return new MimeBundle().putPng(png).put(MimeBundle.TEXT, value.getClass().getSimpleName());
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    private static Class<?> superclassNamed(Class<?> c, String name) {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            if (k.getName().equals(name)) return k;
        }
        return null;
    }

    // ---- duck typing -------------------------------------------------------------------------------------------

    private static MimeBundle duckTyped(Object value) {
        MimeBundle b = new MimeBundle();
        putIfPresent(b, MimeBundle.HTML, call(value, "toHtml", String.class));
        putIfPresent(b, MimeBundle.SVG, call(value, "toSvg", String.class));
        byte[] png = call(value, "toPng", byte[].class);
        if (png != null) b.putPng(png);
        putIfPresent(b, MimeBundle.MARKDOWN, call(value, "toMarkdown", String.class));
        return b;
    }

    private static <T> T call(Object target, String name, Class<T> type) {
        Method m;
        try {
            m = target.getClass().getMethod(name);
        } catch (NoSuchMethodException e) {
            return null;
        }
        if (!type.isAssignableFrom(m.getReturnType())) return null;
        try {
            m.setAccessible(true);
        } catch (RuntimeException ignored) {
            // not opened to us: try anyway, a public method of a public class needs no access override
        }
        try {
            return type.cast(m.invoke(target));
        } catch (ReflectiveOperationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException(name + "() failed: " + cause, cause);
        }
    }

    // ---- text --------------------------------------------------------------------------------------------------

    static String plainText(Object value) {
        if (value.getClass().isArray()) {
            Object[] wrapper = {value};
            String s = Arrays.deepToString(wrapper);
            return withoutIdentities(s.substring(1, s.length() - 1));
        }
        if (!hasOwnToString(value)) return describeType(value.getClass());
        return withoutIdentities(safeToString(value));
    }

    /** {@code Type@hex}, as {@code Object.toString()} writes it (5 to 8 hex digits: not {@code acc@1}). */
    private static final Pattern IDENTITY = Pattern.compile("\\b([A-Za-z_$][\\w.$]*)@([0-9a-f]{5,8})\\b");

    /** Each {@code pkg.Type@1b6d3586} in {@code s} becomes {@code <Type>}. */
    static String withoutIdentities(String s) {
        Matcher m = IDENTITY.matcher(s);
        if (!m.find()) return s;
        StringBuilder b = new StringBuilder(s.length());
        do {
            String type = m.group(1);
            m.appendReplacement(b, Matcher.quoteReplacement("<" + type.substring(type.lastIndexOf('.') + 1) + ">"));
        } while (m.find());
        m.appendTail(b);
        return b.toString();
    }

    static boolean hasOwnToString(Object value) {
        try {
            return value.getClass().getMethod("toString").getDeclaringClass() != Object.class;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    /** An I/O stream or writer whose text would be its identity: what {@code printf} and friends return. */
    private static boolean isBareStream(Object value) {
        return (value instanceof OutputStream || value instanceof Writer || value instanceof InputStream
                || value instanceof Reader) && !hasOwnToString(value);
    }

    /** What a value without a toString() of its own shows: its type (a lambda: its interface) and a hint. */
    static String describeType(Class<?> c) {
        if (c.isSynthetic() || c.isHidden()) {
            Class<?>[] interfaces = c.getInterfaces();
            return interfaces.length == 0 ? "<lambda>" : "<lambda implementing " + interfaces[0].getName() + ">";
        }
        // JShell names a cell's class REPL.$JShell$12$Foo: show Foo
        String name = c.getName().startsWith("REPL.") ? c.getSimpleName() : c.getName();
        return "<" + name + "> (no toString(): call its methods or read its fields to see its state)";
    }

    private static String safeToString(Object value) {
        try {
            return String.valueOf(value);
        } catch (RuntimeException e) {
            return value.getClass().getName() + " (toString() failed: " + e + ")";
        }
    }

    private static void putIfPresent(MimeBundle b, String mime, String content) {
        if (content != null) b.put(mime, content);
    }

    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
