package ai.minitron.cluster;

import java.nio.file.Path;

/**
 * A checkpoint as a cluster's workers find it: the absolute path every worker reads it from (shared
 * storage, or the same path on every machine) and its SHA-256 ({@code model.Provenance.checkpointHash}),
 * which a worker checks after loading so that different files behind the same path are refused.
 *
 * @param dir absolute path of the checkpoint directory
 * @param sha256 the checkpoint's content hash as the driver computed it
 */
public record ModelRef(String dir, String sha256) implements java.io.Serializable {
    public ModelRef {
        if (dir == null || dir.isBlank()) {
            throw new IllegalArgumentException("a model reference needs a checkpoint directory");
        }
        if (sha256 == null || sha256.isBlank()) {
            throw new IllegalArgumentException("a model reference needs the checkpoint's hash (" + dir + ")");
        }
    }

    /** The reference of a local checkpoint directory (made absolute). */
    public static ModelRef of(Path dir, String sha256) {
        return new ModelRef(dir.toAbsolutePath().normalize().toString(), sha256);
    }

    public Path path() {
        return Path.of(dir);
    }
}
