package ai.minitron.importance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.tap.Site;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Accumulators merge exactly and survive an Arrow round trip exactly. */
class ActivationStatsTest {
    static final List<String> STREAMS = List.of("mean", "l2", "var");

    static ActivationStats fill(long seed, int samples) {
        Random r = new Random(seed);
        ActivationStats s = new ActivationStats();
        ChannelAccumulator a = s.getOrCreate(new ActivationStats.Key(Site.MLP_ACT, 0, "channel"), 5, STREAMS);
        ChannelAccumulator b = s.getOrCreate(new ActivationStats.Key(Site.FINAL_NORM_OUT, -1, "channel"), 3, STREAMS);
        for (int i = 0; i < samples; i++) {
            for (ChannelAccumulator acc : List.of(a, b)) {
                for (int st = 0; st < 3; st++) {
                    for (int u = 0; u < acc.units(); u++) {
                        double v = r.nextDouble() * Math.pow(10, r.nextInt(6) - 3);
                        acc.add(st, u, v, v * v);
                    }
                }
                acc.addSamples(1, 10 + i);
            }
        }
        return s;
    }

    @Test
    void mergeIsExactAndCountsAdd() {
        ActivationStats x = fill(1, 7);
        ActivationStats y = fill(2, 5);
        ActivationStats xy = x.copy().merge(y);
        ActivationStats yx = y.copy().merge(x);
        assertTrue(xy.sameAs(yx), "merge order must not matter, bit for bit");
        ChannelAccumulator m = xy.get(Site.MLP_ACT, 0, "channel");
        assertEquals(12, m.count());
        assertEquals(x.get(Site.MLP_ACT, 0, "channel").tokens() + y.get(Site.MLP_ACT, 0, "channel").tokens(),
                m.tokens());
        assertEquals(x.get(Site.MLP_ACT, 0, "channel").sum(1, 2) + y.get(Site.MLP_ACT, 0, "channel").sum(1, 2),
                m.sum(1, 2), 1e-12 * Math.abs(m.sum(1, 2)));
        assertFalse(xy.sameAs(x));
    }

    @Test
    void arrowRoundTripIsExact(@TempDir Path tmp) {
        ActivationStats s = fill(3, 9);
        Path f = tmp.resolve("accumulators.arrow");
        s.write(f, "run-x", java.util.Map.of("run_id", "run-x"));
        ActivationStats back = ActivationStats.read(f);
        assertTrue(back.sameAs(s), "exact sums survive the file");
        assertEquals(s.get(Site.FINAL_NORM_OUT, -1, "channel").sumSq(2, 1),
                back.get(Site.FINAL_NORM_OUT, -1, "channel").sumSq(2, 1));
        // and merging files equals merging in memory
        ActivationStats t = fill(4, 3);
        assertTrue(back.merge(t).sameAs(s.copy().merge(t)));
    }

    @Test
    void clearErrors() {
        ActivationStats s = fill(5, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> s.get(Site.ATTN_HEADS_OUT, 3, "head_norm"));
        assertTrue(e.getMessage().contains("ATTN_HEADS_OUT@3/head_norm"), e.getMessage());
        ChannelAccumulator a = new ChannelAccumulator(2, STREAMS);
        assertThrows(IllegalArgumentException.class, () -> a.merge(new ChannelAccumulator(3, STREAMS)));
        assertThrows(IllegalArgumentException.class, () -> a.stream("median"));
    }
}
