package ai.minitron.eval;

import ai.minitron.io.Json;
import ai.minitron.io.AtomicFiles;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Evaluation tasks as JSON Lines files, one item per line (blank lines are skipped), the kind of
 * task told by the items' fields:
 *
 * <pre>
 *   multiple choice: {"id": "...", "context": "...", "choices": ["...", "..."], "gold": 0}   (+ "target_delimiter", default " ")
 *   last word:       {"id": "...", "context": "...", "target": "word"}
 * </pre>
 *
 * The multiple-choice shape is lm-evaluation-harness's ({@code doc_to_text}, {@code doc_to_choice},
 * {@code doc_to_target} as an index, {@code target_delimiter}). Other fields are ignored, so a file
 * may carry provenance. Parsing is strict JSON; every error names the file and the line.
 */
public final class TaskFile {
    private TaskFile() {}

    public enum Kind {
        MULTIPLE_CHOICE, LAST_WORD
    }

    /** A parsed task: its name (the file name without {@code .jsonl}), where it came from, its items. */
    public record Task(String name, Path path, Kind kind, List<TaskItem> items) {
        public Task {
            items = List.copyOf(items);
        }

        /** The first {@code n} items (all when n <= 0 or n >= size). */
        public Task limit(int n) {
            return n <= 0 || n >= items.size() ? this : new Task(name, path, kind, items.subList(0, n));
        }

        public List<MultipleChoiceItem> multipleChoice() {
            if (kind != Kind.MULTIPLE_CHOICE) {
                throw new IllegalStateException(path + " is a " + kind + " task, not multiple choice");
            }
            return items.stream().map(MultipleChoiceItem.class::cast).toList();
        }

        public List<LastWordItem> lastWord() {
            if (kind != Kind.LAST_WORD) {
                throw new IllegalStateException(path + " is a " + kind + " task, not last word");
            }
            return items.stream().map(LastWordItem.class::cast).toList();
        }
    }

    /**
     * Reads a task file.
     *
     * @throws TaskFormatException naming the file (and line) if it is missing, not UTF-8, holds a
     *     line that is not a JSON object, an item with a missing or ill-typed field, an item of another
     *     kind than the first one, or no items at all
     */
    public static Task read(Path file) {
        String text = readUtf8(file);
        String name = file.getFileName().toString().replaceFirst("\\.jsonl$", "");
        List<TaskItem> items = new ArrayList<>();
        Kind kind = null;
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) {
                continue;
            }
            String where = file + ":" + (i + 1);
            JsonObject o = parseObject(line, where);
            Kind k = kindOf(o, where);
            if (kind == null) {
                kind = k;
            } else if (k != kind) {
                throw new TaskFormatException(where + ": a " + label(k) + " item in a " + label(kind)
                        + " task (kind set by the first item); one kind per file");
            }
            String id = o.has("id") && !o.get("id").isJsonNull() ? o.get("id").getAsString() : "line " + (i + 1);
            try {
                items.add(k == Kind.MULTIPLE_CHOICE ? multipleChoice(o, id, where) : lastWord(o, id, where));
            } catch (IllegalArgumentException e) {
                throw new TaskFormatException(where + ": " + e.getMessage(), e);
            }
        }
        if (items.isEmpty()) {
            throw new TaskFormatException(file + ": no task items (expected one JSON object per line)");
        }
        return new Task(name, file, kind, items);
    }

    /** Writes items as JSONL, atomically (temp file + rename), keys in a fixed order, UTF-8 unescaped. */
    public static void write(Path file, List<? extends TaskItem> items) {
        Gson gson = new GsonBuilder().disableHtmlEscaping().create();
        StringBuilder sb = new StringBuilder();
        for (TaskItem item : items) {
            JsonObject o = new JsonObject();
            o.addProperty("id", item.id());
            o.addProperty("context", item.context());
            if (item instanceof MultipleChoiceItem mc) {
                JsonArray a = new JsonArray();
                mc.choices().forEach(a::add);
                o.add("choices", a);
                o.addProperty("gold", mc.gold());
                if (!mc.targetDelimiter().equals(MultipleChoiceItem.DEFAULT_DELIMITER)) {
                    o.addProperty("target_delimiter", mc.targetDelimiter());
                }
            } else if (item instanceof LastWordItem lw) {
                o.addProperty("target", lw.target());
            }
            sb.append(gson.toJson(o)).append('\n');
        }
        try {
            AtomicFiles.writeString(file, sb.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write task file " + file + ": " + e.getMessage(), e);
        }
    }

    private static String readUtf8(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new TaskFormatException("task file not found: " + file, e);
        } catch (IOException e) {
            throw new TaskFormatException("cannot read task file " + file + ": " + e.getMessage(), e);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new TaskFormatException(file + ": task file is not valid UTF-8", e);
        }
    }

    private static JsonObject parseObject(String line, String where) {
        JsonElement e;
        try {
            JsonReader r = Json.strictReader(line);
            e = Json.parse(r);
            if (r.peek() != JsonToken.END_DOCUMENT) {
                throw new TaskFormatException(where + ": more than one JSON value on the line");
            }
        } catch (JsonParseException | IOException | IllegalStateException ex) {
            throw new TaskFormatException(where + ": not valid JSON: " + firstLine(ex.getMessage()), ex);
        }
        if (!e.isJsonObject()) {
            throw new TaskFormatException(where + ": expected a JSON object, got " + abbreviate(line));
        }
        return e.getAsJsonObject();
    }

    private static Kind kindOf(JsonObject o, String where) {
        boolean mc = o.has("choices");
        boolean lw = o.has("target");
        if (mc && lw) {
            throw new TaskFormatException(where + ": an item has both \"choices\" (multiple choice) and \"target\" (last word)");
        }
        if (!mc && !lw) {
            throw new TaskFormatException(where + ": neither \"choices\" + \"gold\" (multiple choice) nor \"target\" (last word)");
        }
        return mc ? Kind.MULTIPLE_CHOICE : Kind.LAST_WORD;
    }

    private static MultipleChoiceItem multipleChoice(JsonObject o, String id, String where) {
        String context = string(o, "context", where);
        JsonElement ch = o.get("choices");
        if (!ch.isJsonArray()) {
            throw new TaskFormatException(where + ": \"choices\" must be an array of strings");
        }
        List<String> choices = new ArrayList<>();
        for (JsonElement c : ch.getAsJsonArray()) {
            if (!c.isJsonPrimitive() || !c.getAsJsonPrimitive().isString()) {
                throw new TaskFormatException(where + ": \"choices\" must be an array of strings, found " + c);
            }
            if (c.getAsString().isEmpty()) {
                throw new TaskFormatException(where + ": empty choice (nothing to score)");
            }
            choices.add(c.getAsString());
        }
        JsonElement g = o.get("gold");
        if (g == null || !g.isJsonPrimitive() || !g.getAsJsonPrimitive().isNumber()
                || g.getAsDouble() != Math.rint(g.getAsDouble())) {
            throw new TaskFormatException(where + ": \"gold\" must be the integer index of the right choice");
        }
        String delim = o.has("target_delimiter") ? string(o, "target_delimiter", where) : MultipleChoiceItem.DEFAULT_DELIMITER;
        return new MultipleChoiceItem(id, context, choices, g.getAsInt(), delim);
    }

    private static LastWordItem lastWord(JsonObject o, String id, String where) {
        return new LastWordItem(id, string(o, "context", where), string(o, "target", where));
    }

    private static String string(JsonObject o, String key, String where) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            throw new TaskFormatException(where + ": missing \"" + key + "\"");
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new TaskFormatException(where + ": \"" + key + "\" must be a string");
        }
        return e.getAsString();
    }

    private static String label(Kind k) {
        return k == Kind.MULTIPLE_CHOICE ? "multiple-choice" : "last-word";
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse(s);
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
