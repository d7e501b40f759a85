package ai.minitron.kernel;

import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One rendered output: MIME type → content, as Jupyter's display_data carries it. Text types hold a String;
 * binary types (image/png) hold base64 text. Always has {@code text/plain} once built by the renderer.
 */
public final class MimeBundle {
    public static final String TEXT = "text/plain";
    public static final String HTML = "text/html";
    public static final String MARKDOWN = "text/markdown";
    public static final String SVG = "image/svg+xml";
    public static final String PNG = "image/png";

    private final Map<String, Object> data = new LinkedHashMap<>();

    public MimeBundle put(String mimeType, Object content) {
        data.put(mimeType, content);
        return this;
    }

    public MimeBundle putPng(byte[] png) {
        return put(PNG, Base64.getEncoder().encodeToString(png));
    }

    public Object get(String mimeType) {
        return data.get(mimeType);
    }

    public String text() {
        Object t = data.get(TEXT);
        return t == null ? null : t.toString();
    }

    public String html() {
        Object t = data.get(HTML);
        return t == null ? null : t.toString();
    }

    public boolean has(String mimeType) {
        return data.containsKey(mimeType);
    }

    public Map<String, Object> data() {
        return Collections.unmodifiableMap(data);
    }

    @Override
    public String toString() {
        return "MimeBundle" + data.keySet();
    }
}
