package ai.minitron.kernel;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 18 case 15: an array of a type libtorch cannot take (bfloat16, int16, ...) is refused with a message
 * instead of aborting the JVM. The aborts themselves are only ever provoked in a child JVM.
 */
class NativeDTypeGuardTest {

    @Test
    void typesLibtorchTakesPassTheOthersAreRefusedByName() {
        for (DataType t : NativeDTypeGuard.NATIVE) assertEquals(t.ordinal(), NativeDTypeGuard.nativeOrdinal(t));
        String bf = assertThrows(IllegalArgumentException.class,
                () -> NativeDTypeGuard.nativeOrdinal(DataType.BFLOAT16)).getMessage();
        assertTrue(bf.contains("bfloat16") && bf.contains("aborts the JVM") && bf.contains("FLOAT32"), bf);
        for (DataType t : List.of(DataType.INT16, DataType.UINT16, DataType.UINT32, DataType.UINT64,
                DataType.STRING, DataType.UNKNOWN)) {
            assertThrows(IllegalArgumentException.class, () -> NativeDTypeGuard.nativeOrdinal(t), t.toString());
        }
    }

    @Test
    void everyDtypeOrdinalInJniUtilsGoesThroughTheGuard() throws Exception {
        byte[] original;
        try (InputStream in = ClassLoader.getSystemResourceAsStream(NativeDTypeGuard.JNI_UTILS + ".class")) {
            original = in.readAllBytes();
        }
        int[] before = ordinalAndGuardCalls(original);
        assertTrue(before[0] > 10, "JniUtils passes dtypes as ordinals (found " + before[0] + ")");
        assertEquals(0, before[1]);
        int[] after = ordinalAndGuardCalls(NativeDTypeGuard.guard(original));
        assertEquals(0, after[0], "no DataType.ordinal() left in JniUtils");
        assertEquals(before[0], after[1], "each replaced by the guard");
    }

    /** {count of DataType.ordinal() calls, count of guard calls} in a class file. */
    private static int[] ordinalAndGuardCalls(byte[] classFile) {
        int[] n = new int[2];
        new ClassReader(classFile).accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String desc, String sig, String[] ex) {
                return new MethodVisitor(Opcodes.ASM9) {
                    @Override
                    public void visitMethodInsn(int op, String owner, String method, String d, boolean itf) {
                        if (owner.equals("ai/djl/ndarray/types/DataType") && method.equals("ordinal")) n[0]++;
                        if (owner.equals("ai/minitron/kernel/NativeDTypeGuard")) n[1]++;
                    }
                };
            }
        }, 0);
        return n;
    }

    /** In a child JVM with the agent: each way to make an aborting array fails with the message; the JVM lives. */
    @Test
    void withTheAgentAChildJvmSurvivesEveryAbortingPath(@TempDir Path dir) throws Exception {
        Path agent = dir.resolve("agent.jar");
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().putValue("Premain-Class", NativeDTypeGuard.class.getName());
        try (OutputStream out = Files.newOutputStream(agent); JarOutputStream jar = new JarOutputStream(out, mf)) {
            // the classes come from the child's class path
        }
        Path int16File = dir.resolve("int16.ndlist");
        try (NDManager m = NDManager.newBaseManager()) { // an INT32 list whose encoded type name is made INT16
            byte[] b = new NDList(m.ones(new Shape(2), DataType.INT32)).encode();
            String s = new String(b, StandardCharsets.ISO_8859_1).replace("INT32", "INT16");
            Files.write(int16File, s.getBytes(StandardCharsets.ISO_8859_1));
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-javaagent:" + agent, "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"),
                Child.class.getName(), int16File.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue(), out);
        for (String way : Child.WAYS) assertTrue(out.contains("refused " + way + ": data type"), way + " in:\n" + out);
        assertTrue(out.contains("alive 6.0"), out);
        assertFalse(out.contains("terminate called"), out);
    }

    /** Runs in the child JVM: tries each aborting path, then computes. */
    public static final class Child {
        static final List<String> WAYS = List.of("zeros", "ones", "full", "arange", "create", "randomNormal",
                "toType", "decode", "int16");

        public static void main(String[] args) throws Exception {
            if (!NativeDTypeGuard.installed()) throw new IllegalStateException("agent not installed");
            byte[] int16 = Files.readAllBytes(Path.of(args[0]));
            try (NDManager m = NDManager.newBaseManager()) {
                DataType bf = DataType.BFLOAT16;
                List<Runnable> ways = List.of(
                        () -> m.zeros(new Shape(2), bf), () -> m.ones(new Shape(2), bf),
                        () -> m.full(new Shape(2), 1f, bf), () -> m.arange(0f, 4f, 1f, bf),
                        () -> m.create(new Shape(2), bf), () -> m.randomNormal(0f, 1f, new Shape(2), bf),
                        () -> m.ones(new Shape(2)).toType(bf, false), () -> NDList.decode(m, int16),
                        () -> m.zeros(new Shape(2), DataType.INT16));
                for (int i = 0; i < ways.size(); i++) {
                    try {
                        ways.get(i).run();
                        System.out.println("NOT refused " + WAYS.get(i));
                    } catch (IllegalArgumentException e) {
                        System.out.println("refused " + WAYS.get(i) + ": " + e.getMessage());
                    }
                }
                System.out.println("alive " + m.ones(new Shape(2, 3)).sum().getFloat());
            }
        }
    }
}
