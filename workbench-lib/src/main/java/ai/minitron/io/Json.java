package ai.minitron.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import com.google.gson.stream.JsonReader;

import java.io.Reader;
import java.io.StringReader;

/**
 * Parses JSON text with the gson API that every gson since 2.8.5 has.
 *
 * <p>IJava 1.3's kernel jar bundles gson 2.8.5 unrelocated, and in that kernel its classes shadow the
 * library's gson: {@code JsonParser.parseString}/{@code parseReader} (gson 2.8.6+) would fail there with
 * {@code NoSuchMethodError}. The instance methods used here exist in 2.8.5 and, deprecated, in today's gson
 * (which implements them as {@code parseString}/{@code parseReader}: lenient, the same result). Library code
 * parses JSON only through this class; {@code Gson285CompatibilityTest} compiles every library source that uses
 * gson against gson 2.8.5.
 *
 * <p>{@link #strictReader} is RFC 8259 strict with gson 2.11+ ({@code Strictness.STRICT}, looked up at run time
 * since 2.8.5 lacks it); under an older gson it is that gson's strict mode ({@code setLenient(false)}), which
 * {@link #parse(JsonReader)} relaxes to lenient there (gson 2.8.5's JsonParser always parses leniently).
 */
public final class Json {

    private Json() {}

    /** The JSON tree of {@code text}. */
    @SuppressWarnings("deprecation")
    public static JsonElement parse(String text) {
        return new JsonParser().parse(text);
    }

    /** The JSON tree read from {@code reader} (not closed). */
    @SuppressWarnings("deprecation")
    public static JsonElement parse(Reader reader) {
        return new JsonParser().parse(reader);
    }

    /** The next JSON value of {@code reader}, with the reader's own strictness kept (gson 2.11+; see above). */
    @SuppressWarnings("deprecation")
    public static JsonElement parse(JsonReader reader) {
        return new JsonParser().parse(reader);
    }

    /** A reader of {@code text} that is RFC 8259 strict where the gson at run time can be (see above). */
    @SuppressWarnings("deprecation")                                  // setLenient: the pre-2.11 fallback
    public static JsonReader strictReader(String text) {
        JsonReader reader = new JsonReader(new StringReader(text));
        Class<?> strictness;
        try {
            strictness = Class.forName("com.google.gson.Strictness");
        } catch (ClassNotFoundException olderGson) {
            reader.setLenient(false);
            return reader;
        }
        try {
            @SuppressWarnings({"unchecked", "rawtypes"})
            Object strict = Enum.valueOf((Class) strictness, "STRICT");
            JsonReader.class.getMethod("setStrictness", strictness).invoke(reader, strict);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("gson has Strictness but not JsonReader.setStrictness(STRICT): " + e, e);
        }
        return reader;
    }
}
