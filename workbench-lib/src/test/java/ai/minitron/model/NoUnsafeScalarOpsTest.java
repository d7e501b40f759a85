package ai.minitron.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No library class calls DJL's {@code NDArray.mul/div/maximum/minimum/pow(Number)}: under autograd
 * they read freed memory in the backward pass (see {@link Scalars}). Checked on the compiled classes,
 * from the method references in each class file's constant pool.
 */
class NoUnsafeScalarOpsTest {
    static final Set<String> UNSAFE = Set.of("mul", "div", "maximum", "minimum", "pow");
    static final String NUMBER_OP = "(Ljava/lang/Number;)Lai/djl/ndarray/NDArray;";

    @Test
    void theLibraryUsesScalarsForArrayWithNumberArithmetic() throws IOException {
        Path classes = Path.of(Scalars.class.getProtectionDomain().getCodeSource().getLocation().getPath());
        List<String> offenders = new ArrayList<>();
        int scanned = 0;
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class"))::iterator) {
                scanned++;
                try (InputStream in = Files.newInputStream(f)) {
                    for (String ref : ndArrayNumberCalls(new DataInputStream(in))) {
                        offenders.add(classes.relativize(f) + " calls NDArray." + ref + "(Number)");
                    }
                }
            }
        }
        assertTrue(scanned > 100, "scanned the library's classes in " + classes + ": " + scanned);
        assertTrue(offenders.isEmpty(), "use ai.minitron.model.Scalars instead:\n" + String.join("\n", offenders));
    }

    @Test
    void theScanFindsAnUnsafeCall() throws IOException {
        // This test class itself calls x.mul(2.0) below, so its own class file must be flagged.
        Path self = Path.of(NoUnsafeScalarOpsTest.class.getProtectionDomain().getCodeSource().getLocation().getPath())
                .resolve("ai/minitron/model/NoUnsafeScalarOpsTest.class");
        try (InputStream in = Files.newInputStream(self)) {
            assertTrue(ndArrayNumberCalls(new DataInputStream(in)).contains("mul"));
        }
    }

    @SuppressWarnings("unused")
    private static ai.djl.ndarray.NDArray unsafeExample(ai.djl.ndarray.NDArray x) {
        return x.mul(2.0);
    }

    /** Names of NDArray methods in UNSAFE referenced with a (Number) -> NDArray descriptor. */
    static List<String> ndArrayNumberCalls(DataInputStream in) throws IOException {
        if (in.readInt() != 0xCAFEBABE) {
            throw new IOException("not a class file");
        }
        in.readUnsignedShort(); // minor
        in.readUnsignedShort(); // major
        int n = in.readUnsignedShort();
        String[] utf8 = new String[n];
        int[] classNameIdx = new int[n];
        int[][] ref = new int[n][]; // method refs: {class, nameAndType}
        int[][] nat = new int[n][]; // {name, descriptor}
        for (int i = 1; i < n; i++) {
            int tag = in.readUnsignedByte();
            switch (tag) {
                case 1 -> utf8[i] = in.readUTF();
                case 7 -> classNameIdx[i] = in.readUnsignedShort();
                case 10, 11 -> ref[i] = new int[] {in.readUnsignedShort(), in.readUnsignedShort()};
                case 12 -> nat[i] = new int[] {in.readUnsignedShort(), in.readUnsignedShort()};
                case 9, 3, 4, 17, 18 -> in.readInt();
                case 5, 6 -> {
                    in.readLong();
                    i++; // 8-byte constants take two slots
                }
                case 8, 16, 19, 20 -> in.readUnsignedShort();
                case 15 -> {
                    in.readUnsignedByte();
                    in.readUnsignedShort();
                }
                default -> throw new IOException("unknown constant pool tag " + tag);
            }
        }
        List<String> out = new ArrayList<>();
        for (int i = 1; i < n; i++) {
            if (ref[i] == null) {
                continue;
            }
            String owner = utf8[classNameIdx[ref[i][0]]];
            String name = utf8[nat[ref[i][1]][0]];
            String desc = utf8[nat[ref[i][1]][1]];
            if (owner.startsWith("ai/djl/") && owner.endsWith("NDArray") && UNSAFE.contains(name) && NUMBER_OP.equals(desc)) {
                out.add(name);
            }
        }
        return out;
    }
}
