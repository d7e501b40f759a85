package ai.minitron.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import ai.minitron.io.HostTensor;
import ai.minitron.io.SafeTensors;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** load -> save -> load keeps every tensor bit for bit (in its stored dtype) and the logits identical. */
class RoundTripTest {
    @TempDir
    Path tmp;

    static Stream<String> fixtures() throws Exception {
        return Fixtures.names();
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void saveThenLoadIsBitIdentical(String name) throws Exception {
        Path src = Fixtures.dir(name);
        Path out = tmp.resolve(name);
        long[][] tokens = {{3, 1, 4, 1, 5, 9, 2, 6}};
        try (NDManager m = NDManager.newBaseManager()) {
            float[] before;
            try (LanguageModel a = LanguageModel.load(src, m)) {
                before = a.logits(m, tokens).toFloatArray();
                a.save(out, a.storageDtype(), 4096); // small shards: exercise the sharded path too
            }
            Map<String, HostTensor> original = SafeTensors.readCheckpoint(src);
            Map<String, HostTensor> saved = SafeTensors.readCheckpoint(out);
            for (var e : original.entrySet()) {
                if (ai.minitron.config.TensorSchema.isIgnorable(e.getKey(), ai.minitron.config.ModelConfig.load(src))) {
                    continue;
                }
                HostTensor s = saved.get(e.getKey());
                assertEquals(e.getValue().dtype(), s.dtype(), e.getKey());
                assertArrayEquals(e.getValue().shape(), s.shape(), e.getKey());
                assertArrayEquals(bytes(e.getValue().bytes()), bytes(s.bytes()), e.getKey());
            }
            try (LanguageModel b = LanguageModel.load(out, m)) {
                assertEquals(ai.minitron.config.ModelConfig.load(src).withTorchDtype("x"),
                        b.config().withTorchDtype("x"));
                assertArrayEquals(before, b.logits(m, tokens).toFloatArray());
            }
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }
}
