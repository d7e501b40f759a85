package ai.minitron.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 as the workbench uses it for content hashes (checkpoints, token datasets, calibration sets,
 * tokenizer training inputs, run ids): a fresh digest, and lower-case hex of what it computed.
 */
public final class Sha256 {
    private Sha256() {}

    /** A fresh SHA-256 digest (every JVM provides one). */
    public static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    /** Lower-case hex of {@code md.digest()} (64 characters; the digest is reset). */
    public static String hex(MessageDigest md) {
        return HexFormat.of().formatHex(md.digest());
    }

    /** Lower-case hex SHA-256 of {@code text} encoded as UTF-8. */
    public static String hex(String text) {
        MessageDigest md = digest();
        md.update(text.getBytes(StandardCharsets.UTF_8));
        return hex(md);
    }

    /** Lower-case hex SHA-256 of a file's bytes (streamed). */
    public static String file(Path f) {
        MessageDigest md = digest();
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(f)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot hash " + f + ": " + e.getMessage(), e);
        }
        return hex(md);
    }
}
