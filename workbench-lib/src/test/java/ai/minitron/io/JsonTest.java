package ai.minitron.io;

import com.google.gson.JsonParseException;
import org.junit.jupiter.api.Test;

import java.io.StringReader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link Json}: lenient parsing as JsonParser.parseString did, RFC 8259 strict readers with today's gson. */
class JsonTest {

    @Test
    void parsesLikeJsonParserParseString() {
        assertEquals(3, Json.parse("{\"a\": [1, 2, 3]}").getAsJsonObject().getAsJsonArray("a").size());
        assertEquals("x", Json.parse(new StringReader("{'k': 'x'}")).getAsJsonObject().get("k").getAsString());
    }

    @Test
    void strictReaderRefusesWhatLegacyStrictAccepted() {
        assertEquals(1, Json.parse(Json.strictReader("{\"a\": 1}")).getAsJsonObject().get("a").getAsInt());
        // gson's legacy-strict mode accepts NULL and \' ; Strictness.STRICT (gson 2.11+) does not.
        assertThrows(JsonParseException.class, () -> Json.parse(Json.strictReader("{\"a\": NULL}")));
        assertThrows(JsonParseException.class, () -> Json.parse(Json.strictReader("{\"a\": \"it\\'s\"}")));
    }
}
