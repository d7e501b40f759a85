package ai.minitron.viz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.minitron.importance.AxisScores;
import ai.minitron.importance.ImportanceTable;
import ai.minitron.config.Axis;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

/** Charts render headless to valid PNG and SVG files with real content. */
class ChartsTest {
    static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    static ImportanceTable table() {
        Random r = new Random(1);
        int layers = 4;
        double[][] heads = new double[layers][8];
        double[][] mlp = new double[layers][64];
        double[][] mag = new double[layers][64];
        for (int l = 0; l < layers; l++) {
            for (int h = 0; h < 8; h++) heads[l][h] = r.nextDouble() * (l + 1);
            for (int i = 0; i < 64; i++) {
                mlp[l][i] = Math.exp(r.nextGaussian());
                mag[l][i] = mlp[l][i] + r.nextGaussian() * 0.3;
            }
        }
        double[] hidden = new double[16];
        for (int i = 0; i < 16; i++) hidden[i] = r.nextDouble();
        return new ImportanceTable.Builder("chart-run")
                .add(new AxisScores(hidden, heads, mlp, null), "activation", "l2", "mean", 8, 100)
                .add(new AxisScores(null, heads, null, null), "activation_channel", "l2", "mean", 8, 100)
                .add(new AxisScores(hidden, null, mag, new double[] {1, 2, 3, 4}), "magnitude", "none", "none", 0, 0)
                .add(Axis.LAYERS, -1, "block_importance", "none", "none", new double[] {0.5, 0.1, 0.2, 0.4}, 8, 100)
                .add(Axis.LAYERS, -1, "layer_drop", "none", "none", new double[] {2.0, 0.1, 0.3, 0.9}, 8, 100)
                .add(Axis.LAYERS, -1, "block_drop_k2", "none", "none", new double[] {2.5, 0.6, 1.4}, 8, 100)
                .build(null);
    }

    @Test
    void reportWritesValidNonTrivialPngAndSvg(@TempDir Path tmp) throws Exception {
        List<Path> files = Charts.report(table(), tmp.resolve("charts"));
        Set<String> names = new HashSet<>();
        files.forEach(f -> names.add(f.getFileName().toString()));
        for (String base : List.of("heads_heatmap", "heads_heatmap_channel", "mlp_distributions", "depth_curves",
                "block_drop", "scatter_mlp_magnitude")) {
            assertTrue(names.contains(base + ".png") && names.contains(base + ".svg"), base + " missing: " + names);
        }
        for (Path f : files) {
            byte[] bytes = Files.readAllBytes(f);
            if (f.toString().endsWith(".png")) {
                byte[] head = java.util.Arrays.copyOf(bytes, 8);
                assertArrayEquals(PNG_SIGNATURE, head, f + " is not a PNG");
                BufferedImage img = ImageIO.read(f.toFile());
                assertEquals(Charts.WIDTH, img.getWidth());
                Set<Integer> colours = new HashSet<>();
                for (int y = 0; y < img.getHeight(); y += 3) {
                    for (int x = 0; x < img.getWidth(); x += 3) colours.add(img.getRGB(x, y));
                }
                assertTrue(colours.size() > 10, f + " looks blank: " + colours.size() + " colours");
            } else {
                DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
                dbf.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
                Document doc = dbf.newDocumentBuilder().parse(f.toFile());
                assertEquals("svg", doc.getDocumentElement().getNodeName(), f.toString());
                int shapes = doc.getElementsByTagName("path").getLength() + doc.getElementsByTagName("rect").getLength()
                        + doc.getElementsByTagName("polygon").getLength() + doc.getElementsByTagName("text").getLength();
                assertTrue(shapes > 20, f + " has only " + shapes + " drawing elements");
            }
        }
        try (var s = Files.list(tmp.resolve("charts"))) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")));
        }
    }

    @Test
    void buildersValidateInput() {
        try {
            Charts.scatter("x", "a", "b", new double[] {1, 2}, new double[] {1});
            throw new AssertionError("expected IllegalArgumentException");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("2 x values but 1 y values"));
        }
        byte[] png = Charts.png(Charts.heatmap("t", new double[][] {{1, 2}, {3, 4}}, "head", "layer"));
        assertArrayEquals(PNG_SIGNATURE, java.util.Arrays.copyOf(png, 8));
    }
}
