package ai.minitron.serve;

import com.google.gson.JsonObject;

/**
 * A request the server refuses, as the HTTP status and the OpenAI-style error object it is answered with:
 * {@code {"error": {"message", "type", "param", "code"}}}. {@code param} names the request field at fault
 * (or null), {@code code} is a short machine-readable reason (or null).
 */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;

    public ApiError(int status, String type, String param, String code, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400, {@code invalid_request_error}: a field has a wrong type or value. */
    public static ApiError invalid(String param, String message) {
        return new ApiError(400, "invalid_request_error", param, null, message);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }

    /** The body: {@code {"error": {"message", "type", "param", "code"}}} (null members written as JSON null). */
    public JsonObject body() {
        JsonObject e = new JsonObject();
        e.addProperty("message", getMessage());
        e.addProperty("type", type);
        e.addProperty("param", param);
        e.addProperty("code", code);
        JsonObject o = new JsonObject();
        o.add("error", e);
        return o;
    }
}
