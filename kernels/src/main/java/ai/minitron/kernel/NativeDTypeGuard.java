package ai.minitron.kernel;

import ai.djl.ndarray.types.DataType;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.EnumSet;
import java.util.Set;

/**
 * Keeps a notebook cell from killing the kernel with a data type libtorch cannot take.
 *
 * <p>DJL 0.36's PyTorch engine hands a data type to libtorch as {@code DataType.ordinal()}, and its native side
 * knows only the first nine: for bfloat16, int16, uint16/32/64, string and unknown it calls
 * {@code std::terminate} ("terminate called without an active exception", SIGABRT) and the whole JVM dies with
 * every variable of the session. Every such path (zeros, ones, full, arange, eye, random*, create from a buffer,
 * toType, NDList.decode of a file holding such an array) passes the type through one class,
 * {@code ai.djl.pytorch.jni.JniUtils}. The kernel starts with this class as its Java agent
 * ({@code -javaagent:minitron-kernel.jar}, see install.sh): when JniUtils loads, each of its
 * {@code DataType.ordinal()} calls is replaced by {@link #nativeOrdinal}, which returns the same ordinal for the
 * types libtorch knows and throws an {@link IllegalArgumentException} naming the type for the others, before the
 * native call. The cell fails with that message; the kernel and its state live on.
 */
public final class NativeDTypeGuard {
    /** The class every DJL PyTorch dtype crosses to native code through. */
    static final String JNI_UTILS = "ai/djl/pytorch/jni/JniUtils";
    private static final String DATA_TYPE = "ai/djl/ndarray/types/DataType";
    private static final String GUARD = "ai/minitron/kernel/NativeDTypeGuard";

    /** The types DJL's libtorch bridge maps (the others abort the JVM; checked in a child JVM per type). */
    static final Set<DataType> NATIVE = EnumSet.of(DataType.FLOAT32, DataType.FLOAT64, DataType.FLOAT16,
            DataType.UINT8, DataType.INT32, DataType.INT8, DataType.INT64, DataType.BOOLEAN, DataType.COMPLEX64);

    private static volatile boolean installed;

    private NativeDTypeGuard() {}

    /** Java agent entry point ({@code Premain-Class} of minitron-kernel.jar). */
    public static void premain(String args, Instrumentation inst) {
        inst.addTransformer(new ClassFileTransformer() {
            @Override
            public byte[] transform(ClassLoader loader, String name, Class<?> redefined, ProtectionDomain domain,
                                    byte[] bytes) {
                if (!JNI_UTILS.equals(name)) return null;
                try {
                    return guard(bytes);
                } catch (RuntimeException e) { // never stop the kernel over the guard: say so and go unguarded
                    System.err.println("[kernel] the data type guard could not be installed: " + e);
                    return null;
                }
            }
        });
        installed = true;
    }

    /** Whether the kernel JVM runs with the guard (started with {@code -javaagent}). */
    public static boolean installed() {
        return installed;
    }

    /**
     * {@code type.ordinal()} for a type libtorch knows.
     *
     * @throws IllegalArgumentException for any other type, naming it and what to use instead
     */
    public static int nativeOrdinal(DataType type) {
        if (NATIVE.contains(type)) return type.ordinal();
        throw new IllegalArgumentException("data type " + type + " is refused: DJL's PyTorch engine aborts the JVM "
                + "(and with it this kernel and every variable) on " + type + " arrays on CPU; "
                + (type.isFloating()
                ? "use DataType.FLOAT32 (checkpoints stored as bfloat16 load widened to float32)"
                : "use one of the types libtorch takes, " + NATIVE));
    }

    /** JniUtils' class file with every {@code DataType.ordinal()} call replaced by {@link #nativeOrdinal}. */
    static byte[] guard(byte[] classFile) {
        ClassReader reader = new ClassReader(classFile);
        ClassWriter writer = new ClassWriter(reader, 0); // same stack effect (DataType -> int): frames stay valid
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String desc, String sig, String[] exceptions) {
                return new MethodVisitor(Opcodes.ASM9, super.visitMethod(access, name, desc, sig, exceptions)) {
                    @Override
                    public void visitMethodInsn(int op, String owner, String method, String mdesc, boolean itf) {
                        if (op == Opcodes.INVOKEVIRTUAL && DATA_TYPE.equals(owner) && "ordinal".equals(method)
                                && "()I".equals(mdesc)) {
                            super.visitMethodInsn(Opcodes.INVOKESTATIC, GUARD, "nativeOrdinal",
                                    "(L" + DATA_TYPE + ";)I", false);
                        } else {
                            super.visitMethodInsn(op, owner, method, mdesc, itf);
                        }
                    }
                };
            }
        }, 0);
        return writer.toByteArray();
    }
}
