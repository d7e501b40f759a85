package ai.minitron.viz;

import ai.minitron.importance.Aggregation;
import ai.minitron.importance.ImportanceTable;
import ai.minitron.importance.Metric;
import ai.minitron.io.AtomicFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;

/**
 * Charts for notebooks and reports, rendered headless and offline with XChart to PNG (raster) and
 * SVG (vector): the layer × head importance heatmap, per-layer distributions of neuron importance,
 * depth curves (Block Importance, layer-drop loss, block-drop loss) and metric-versus-metric scatter
 * plots. Each builder returns the XChart object (a notebook displays or restyles it);
 * {@link #save} writes both formats atomically. Needs {@code -Djava.awt.headless=true} without a
 * display (the CLI launcher, tests and kernel set it).
 */
public final class Charts {
    public static final int WIDTH = 900;
    public static final int HEIGHT = 560;

    private Charts() {}

    /** Heatmap of a [rows][cols] matrix: rows on y (e.g. layers), cols on x (e.g. heads). */
    public static HeatMapChart heatmap(String title, double[][] matrix, String xTitle, String yTitle) {
        if (matrix.length == 0 || matrix[0].length == 0) {
            throw new IllegalArgumentException("heatmap '" + title + "': empty matrix");
        }
        HeatMapChart chart = new HeatMapChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        List<Integer> xs = new ArrayList<>();
        List<Integer> ys = new ArrayList<>();
        for (int x = 0; x < matrix[0].length; x++) xs.add(x);
        for (int y = 0; y < matrix.length; y++) ys.add(y);
        List<Number[]> cells = new ArrayList<>();
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (int y = 0; y < matrix.length; y++) {
            for (int x = 0; x < matrix[y].length; x++) {
                double v = matrix[y][x];
                cells.add(new Number[] {x, y, v});
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        chart.addSeries(title, xs, ys, cells);
        chart.getStyler().setMin(min).setMax(max == min ? min + 1 : max);
        chart.getStyler().setShowValue(matrix.length * matrix[0].length <= 64);
        chart.getStyler().setHeatMapValueDecimalPattern("0.00");
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        return chart;
    }

    /**
     * Distribution of values per row (e.g. neuron importance per layer): a histogram line per row
     * over common bins; {@code logX} bins log10 of the (positive) values.
     */
    public static XYChart distributions(String title, double[][] rows, String rowLabel, int bins, boolean logX) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (double[] r : rows) {
            for (double v : r) {
                double t = transform(v, logX);
                if (Double.isFinite(t)) {
                    min = Math.min(min, t);
                    max = Math.max(max, t);
                }
            }
        }
        if (!(min < max)) {
            max = min + 1;
        }
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title)
                .xAxisTitle(logX ? "log10(score)" : "score").yAxisTitle("fraction of units").build();
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        chart.getStyler().setMarkerSize(0);
        chart.getStyler().setXAxisDecimalPattern("0.00");
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        double width = (max - min) / bins;
        for (int r = 0; r < rows.length; r++) {
            double[] x = new double[bins];
            double[] y = new double[bins];
            for (int b = 0; b < bins; b++) x[b] = min + (b + 0.5) * width;
            int n = 0;
            for (double v : rows[r]) {
                double t = transform(v, logX);
                if (!Double.isFinite(t)) continue;
                int b = (int) Math.min(bins - 1, Math.max(0, Math.floor((t - min) / width)));
                y[b]++;
                n++;
            }
            for (int b = 0; b < bins; b++) y[b] /= Math.max(1, n);
            chart.addSeries(rowLabel + " " + r, x, y);
        }
        return chart;
    }

    private static double transform(double v, boolean log) {
        return log ? (v > 0 ? Math.log10(v) : Double.NaN) : v;
    }

    /** Line chart of named series over a shared x (e.g. a depth metric per layer). */
    public static XYChart lines(String title, String xTitle, String yTitle, double[] x, Map<String, double[]> series) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        for (var e : series.entrySet()) {
            double[] y = e.getValue();
            chart.addSeries(e.getKey(), java.util.Arrays.copyOf(x, y.length), y);
        }
        return chart;
    }

    /** Scatter of two metrics over the same units. */
    public static XYChart scatter(String title, String xTitle, String yTitle, double[] x, double[] y) {
        if (x.length != y.length) {
            throw new IllegalArgumentException("scatter '" + title + "': " + x.length + " x values but " + y.length
                    + " y values");
        }
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(4);
        chart.getStyler().setLegendVisible(false);
        chart.addSeries("units", x, y);
        return chart;
    }

    /** Scatter of two metrics with one series (colour) per row, e.g. per layer. */
    public static XYChart scatter(String title, String xTitle, String yTitle, double[][] x, double[][] y,
            String rowLabel) {
        if (x.length != y.length) {
            throw new IllegalArgumentException("scatter '" + title + "': " + x.length + " x rows but " + y.length
                    + " y rows");
        }
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(4);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        for (int r = 0; r < x.length; r++) {
            if (x[r].length != y[r].length) {
                throw new IllegalArgumentException("scatter '" + title + "' row " + r + ": " + x[r].length
                        + " x values but " + y[r].length + " y values");
            }
            chart.addSeries(rowLabel + " " + r, x[r], y[r]);
        }
        return chart;
    }

    /** PNG bytes of a chart. */
    public static byte[] png(Chart<?, ?> chart) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot render chart '" + chart.getTitle() + "' as PNG: " + e.getMessage(), e);
        }
    }

    /** SVG document bytes of a chart. */
    public static byte[] svg(Chart<?, ?> chart) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            VectorGraphicsEncoder.saveVectorGraphic(chart, out, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot render chart '" + chart.getTitle() + "' as SVG: " + e.getMessage(), e);
        }
    }

    /** Writes {@code base.png} and {@code base.svg} atomically; returns both paths. */
    public static List<Path> save(Chart<?, ?> chart, Path base) {
        Path png = base.resolveSibling(base.getFileName() + ".png");
        Path svg = base.resolveSibling(base.getFileName() + ".svg");
        try {
            AtomicFiles.writeBytes(png, png(chart));
            AtomicFiles.writeBytes(svg, svg(chart));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write chart " + base + ": " + e.getMessage(), e);
        }
        return List.of(png, svg);
    }

    /**
     * The standard charts of an importance run, written into {@code dir} (each as PNG and SVG), for
     * whatever the table holds: heads heatmap(s), neuron-importance distributions per layer, depth
     * curves, and activation-versus-baseline scatter plots.
     */
    public static List<Path> report(ImportanceTable t, Path dir) {
        List<Path> out = new ArrayList<>();
        List<String> metrics = t.metrics();
        String best = Metric.ACTIVATION.key() + " (batch " + Aggregation.L2.key() + ", seq " + Aggregation.MEAN.key() + ")";
        boolean hasBest = metrics.contains(Metric.ACTIVATION.key());
        if (hasBest) {
            ImportanceTable.View v = t.best();
            out.addAll(save(heatmap("Head importance: " + best, v.matrix("heads"), "head", "layer"),
                    dir.resolve("heads_heatmap")));
            out.addAll(save(distributions("Neuron importance per layer: " + best, v.matrix("mlp"), "layer", 40, true),
                    dir.resolve("mlp_distributions")));
        }
        if (metrics.contains(Metric.ACTIVATION_CHANNEL.key())) {
            ImportanceTable.View v = t.where(Metric.ACTIVATION_CHANNEL.key(), Aggregation.L2, Aggregation.MEAN);
            out.addAll(save(heatmap("Head importance: activation_channel (ModelOpt; batch l2, seq mean)",
                    v.matrix("heads"), "head", "layer"), dir.resolve("heads_heatmap_channel")));
        }
        // depth: every layer metric, each scaled by its largest magnitude so they share one axis
        Map<String, double[]> depth = new LinkedHashMap<>();
        Map<String, double[]> blocks = new LinkedHashMap<>();
        for (ImportanceTable.Spec s : t.specs()) {
            ImportanceTable.View v = t.where(s.metric(), s.batchAgg(), s.seqAgg());
            if (!v.has("layer", -1) || s.metric().equals(Metric.RANDOM.key())) continue;
            double[] y = v.scores("layer", -1);
            if (s.metric().startsWith(Metric.BLOCK_DROP.key())) {
                blocks.put(s.metric(), y);
            } else if (s.metric().equals(Metric.BLOCK_IMPORTANCE.key()) || s.metric().equals(Metric.LAYER_DROP.key())) {
                depth.put(s.metric(), y);
            }
        }
        if (!depth.isEmpty()) {
            int n = depth.values().iterator().next().length;
            Map<String, double[]> scaled = new LinkedHashMap<>();
            depth.forEach((k, v) -> scaled.put(k + " (÷ max)", scaleByMax(v)));
            out.addAll(save(lines("Depth importance per layer", "layer", "score / max score", range(n), scaled),
                    dir.resolve("depth_curves")));
        }
        if (!blocks.isEmpty()) {
            int n = blocks.values().stream().mapToInt(a -> a.length).max().orElse(0);
            out.addAll(save(lines("LM-loss increase when a block of k layers is removed", "first removed layer",
                    "loss increase (nats/token)", range(n), blocks), dir.resolve("block_drop")));
        }
        if (hasBest) {
            ImportanceTable.View v = t.best();
            for (String other : new String[] {Metric.MAGNITUDE.key(), Metric.TAYLOR.key(), Metric.WANDA.key()}) {
                if (!metrics.contains(other)) continue;
                ImportanceTable.View o = t.where(other);
                double[][] a = v.matrix("mlp");
                double[][] b = o.matrix("mlp");
                out.addAll(save(scatter("MLP neurons: " + other + " vs " + best, best, other, a, b, "layer"),
                        dir.resolve("scatter_mlp_" + other)));
            }
        }
        return out;
    }

    private static double[] scaleByMax(double[] v) {
        double m = 0;
        for (double x : v) m = Math.max(m, Math.abs(x));
        double[] o = new double[v.length];
        for (int i = 0; i < v.length; i++) o[i] = m == 0 ? 0 : v[i] / m;
        return o;
    }

    private static double[] range(int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = i;
        return x;
    }
}
