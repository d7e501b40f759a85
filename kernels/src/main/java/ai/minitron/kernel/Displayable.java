package ai.minitron.kernel;

/**
 * An object that knows how to show itself in a notebook. Implement any subset; the kernel sends every
 * representation that is non-null and the frontend picks the richest it supports.
 *
 * <p>Classes that cannot depend on the kernel (e.g. in workbench-lib) get the same treatment by simply having
 * public no-argument methods with these names and return types: {@code String toHtml()}, {@code String toSvg()},
 * {@code byte[] toPng()}, {@code String toMarkdown()}. The renderer finds them by reflection.
 */
public interface Displayable {

    /** An HTML fragment ({@code text/html}). */
    default String toHtml() {
        return null;
    }

    /** An SVG document ({@code image/svg+xml}). */
    default String toSvg() {
        return null;
    }

    /** PNG bytes ({@code image/png}). */
    default byte[] toPng() {
        return null;
    }

    /** Markdown ({@code text/markdown}). */
    default String toMarkdown() {
        return null;
    }

    /** The plain-text fallback ({@code text/plain}); defaults to {@code toString()}. */
    default String toText() {
        return String.valueOf(this);
    }
}
