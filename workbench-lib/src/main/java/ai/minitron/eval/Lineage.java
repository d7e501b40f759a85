package ai.minitron.eval;

import ai.minitron.io.Json;
import ai.minitron.io.AtomicFiles;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a checkpoint was made: the ordered steps from the original model to this one (pruned from a
 * parent by an importance run, distilled for N tokens from a teacher, ...), each with its facts and
 * the command that ran it. This is the provenance half of a model card ({@link ModelCard} holds the
 * evaluation half): {@code lineage.json} is the source of truth, and {@code README.md} shows it
 * between {@value #BEGIN} and {@value #END}. A step records on top of its parent's lineage, so a
 * distilled student's card lists the pruning that made its initialisation too.
 */
public final class Lineage {
    private Lineage() {}

    public static final String FILE = "lineage.json";
    public static final String BEGIN = "<!-- minitron-lineage:begin -->";
    public static final String END = "<!-- minitron-lineage:end -->";

    /** One step: its name (e.g. {@code prune}, {@code distill}), ordered facts, and the command line. */
    public record Step(String name, Map<String, String> facts, String command) {
        public Step {
            facts = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(facts));
        }
    }

    /**
     * Records {@code step} as the last step of {@code dir}'s lineage, on top of {@code parent}'s lineage
     * (null or a directory without {@value #FILE}: {@code step} is the first), and rewrites
     * {@code dir/lineage.json} and the README section.
     */
    public static List<Step> record(Path dir, Path parent, Step step) {
        List<Step> steps = new ArrayList<>(parent == null ? List.of() : read(parent));
        steps.add(step);
        try {
            Files.createDirectories(dir);
            AtomicFiles.writeString(dir.resolve(FILE), toJson(steps) + "\n");
            ModelCard.replaceSection(dir, BEGIN, END, section(steps));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the lineage of " + dir + ": " + e.getMessage(), e);
        }
        return steps;
    }

    /** The steps recorded in {@code dir/lineage.json}, or none. */
    public static List<Step> read(Path dir) {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return List.of();
        }
        try {
            JsonObject root = Json.parse(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
            List<Step> out = new ArrayList<>();
            for (JsonElement e : root.getAsJsonArray("steps")) {
                JsonObject o = e.getAsJsonObject();
                Map<String, String> facts = new LinkedHashMap<>();
                for (Map.Entry<String, JsonElement> f : o.getAsJsonObject("facts").entrySet()) {
                    facts.put(f.getKey(), f.getValue().getAsString());
                }
                out.add(new Step(o.get("step").getAsString(), facts, o.get("command").getAsString()));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (JsonParseException | IllegalStateException | ClassCastException | NullPointerException | UnsupportedOperationException e) {
            throw new IllegalArgumentException(file + ": not a minitron lineage file (" + e.getMessage() + ")", e);
        }
    }

    /** A shell-ready command line: {@code minitron} and the arguments, quoted where needed. */
    public static String command(String program, List<String> args) {
        StringBuilder sb = new StringBuilder(program);
        for (String a : args) {
            sb.append(' ');
            sb.append(a.matches("[A-Za-z0-9_./:=,@%+-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
        }
        return sb.toString();
    }

    /** The README section: one subsection per step, facts as a list, the command as a code block. */
    public static String section(List<Step> steps) {
        StringBuilder sb = new StringBuilder(BEGIN).append("\n## How this model was made\n\n");
        int i = 1;
        for (Step s : steps) {
            sb.append("### ").append(i++).append(". ").append(s.name()).append("\n\n");
            s.facts().forEach((k, v) -> sb.append("- ").append(k).append(": ").append(v.replace("\n", " ")).append('\n'));
            sb.append("\n```\n").append(s.command()).append("\n```\n\n");
        }
        return sb.append(END).toString();
    }

    private static String toJson(List<Step> steps) {
        Gson gson = new GsonBuilder().disableHtmlEscaping().setPrettyPrinting().create();
        JsonArray arr = new JsonArray();
        for (Step s : steps) {
            JsonObject o = new JsonObject();
            o.addProperty("step", s.name());
            JsonObject facts = new JsonObject();
            s.facts().forEach(facts::addProperty);
            o.add("facts", facts);
            o.addProperty("command", s.command());
            arr.add(o);
        }
        JsonObject root = new JsonObject();
        root.addProperty("producer", "minitron-workbench");
        root.add("steps", arr);
        return gson.toJson(root);
    }
}
