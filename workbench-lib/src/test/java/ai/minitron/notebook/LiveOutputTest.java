package ai.minitron.notebook;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link LiveOutput} delegates to the installed backend: one show, then updates of the same display id. */
class LiveOutputTest {

    @Test
    void showsOnceThenUpdatesTheSameDisplayId() {
        List<String> calls = new ArrayList<>();
        LiveOutput.setBackend(new LiveOutput.Backend() {
            @Override
            public String show(Object value) {
                calls.add("show " + value);
                return "id-1";
            }

            @Override
            public void update(String displayId, Object value) {
                calls.add("update " + displayId + " " + value);
            }
        });
        try {
            LiveOutput out = LiveOutput.live("Once");
            out.append(" upon").append(" a time");
            assertEquals("Once upon a time", out.text());
            out.update(42);
            assertEquals("", out.text());
            assertEquals(List.of("show Once", "update id-1 Once upon", "update id-1 Once upon a time", "update id-1 42"), calls);
            assertEquals("id-1", out.id());
        } finally {
            LiveOutput.setBackend(null);
        }
        assertEquals(LiveOutput.PRINT, LiveOutput.backend());
    }
}
