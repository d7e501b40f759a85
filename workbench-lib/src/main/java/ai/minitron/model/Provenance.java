package ai.minitron.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.minitron.io.Sha256;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * What a run's {@code run.json} records so that its numbers can be traced: the checkpoint's hash,
 * and the versions of the libraries that computed them.
 *
 * <p>Checkpoint hash: SHA-256 over {@code config.json} and the weight files
 * ({@code *.safetensors} and {@code model.safetensors.index.json}, sorted by name); for each file its
 * name (UTF-8), a zero byte, its size as an 8-byte little-endian long, then its bytes.
 */
public final class Provenance {
    private Provenance() {}

    /** The files {@link #checkpointHash} covers, in hashing order. */
    public static List<Path> checkpointFiles(Path dir) {
        List<Path> files = new ArrayList<>();
        Path config = dir.resolve("config.json");
        if (!Files.isRegularFile(config)) {
            throw new IllegalArgumentException(dir + ": no config.json to hash");
        }
        files.add(config);
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> {
                String n = p.getFileName().toString();
                return n.endsWith(".safetensors") || n.equals("model.safetensors.index.json");
            }).sorted().forEach(files::add);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        if (files.size() == 1) {
            throw new IllegalArgumentException(dir + ": no *.safetensors weight files to hash");
        }
        return files;
    }

    /** SHA-256 (hex) of a checkpoint directory's config and weights. */
    public static String checkpointHash(Path dir) {
        MessageDigest md = Sha256.digest();
        byte[] buf = new byte[1 << 20];
        for (Path f : checkpointFiles(dir)) {
            try (InputStream in = Files.newInputStream(f)) {
                md.update(f.getFileName().toString().getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
                md.update(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(Files.size(f)).array());
                int n;
                while ((n = in.read(buf)) > 0) {
                    md.update(buf, 0, n);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot hash " + f + ": " + e.getMessage(), e);
            }
        }
        return Sha256.hex(md);
    }

    /**
     * SHA-256 (hex) of in-memory weights: per tensor in name order, its name, a zero byte, then its
     * values as float32 little-endian (for runs on weights that were never saved).
     */
    public static String weightsHash(Weights w) {
        MessageDigest md = Sha256.digest();
        for (String name : w.names()) {
            NDArray a = w.get(name);
            float[] v = a.getDataType() == DataType.FLOAT32 ? a.toFloatArray()
                    : a.toType(DataType.FLOAT32, false).toFloatArray();
            md.update(name.getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(v);
            md.update(b.array());
        }
        return Sha256.hex(md);
    }

    /** Versions of the JVM, DJL and its engine, Arrow, Tablesaw, XChart and the workbench. */
    public static JsonObject libraryVersions() {
        JsonObject o = new JsonObject();
        o.addProperty("java", System.getProperty("java.version"));
        o.addProperty("workbench", "0.1.0");
        o.addProperty("djl", Engine.getDjlVersion());
        try {
            Engine e = Engine.getInstance();
            o.addProperty("engine", e.getEngineName() + " " + e.getVersion());
        } catch (RuntimeException e) {
            o.addProperty("engine", "unavailable: " + e.getMessage());
        }
        o.addProperty("arrow", mavenVersion("org.apache.arrow", "arrow-vector"));
        o.addProperty("tablesaw", mavenVersion("tech.tablesaw", "tablesaw-core"));
        o.addProperty("xchart", mavenVersion("org.knowm.xchart", "xchart"));
        o.addProperty("gson", mavenVersion("com.google.code.gson", "gson"));
        return o;
    }

    /** The version in a jar's META-INF/maven pom.properties, or "unknown". */
    static String mavenVersion(String group, String artifact) {
        String res = "META-INF/maven/" + group + "/" + artifact + "/pom.properties";
        try (InputStream in = Provenance.class.getClassLoader().getResourceAsStream(res)) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
