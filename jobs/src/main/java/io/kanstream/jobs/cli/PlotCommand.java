package io.kanstream.jobs.cli;

import io.kanstream.kan.EdgeCurves;
import io.kanstream.kan.KanLearner;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "plot",
        mixinStandardHelpOptions = true,
        description =
                "Draw every learned edge function of a model, one PNG per layer: a grid of small"
                        + " charts, row = output, column = input, x = the input's range (raw units"
                        + " for layer 0), y = φ(x).")
final class PlotCommand implements Callable<Integer> {
    private static final int CELL_WIDTH = 220;
    private static final int CELL_HEIGHT = 160;

    @Option(names = "--model", required = true, description = "Model file.")
    Path model;

    @Mixin Options drawing;

    @Override
    public Integer call() throws Exception {
        try (KanLearner learner = ModelFile.read(model, "cpu")) {
            drawing.draw(learner);
        }
        return 0;
    }

    /** How the edge functions are drawn: the options `plot` and `models plot` share. */
    static final class Options {
        @Option(
                names = "--out",
                defaultValue = "plots",
                description = "Folder for the PNGs (default ${DEFAULT-VALUE}).")
        Path out;

        @Option(
                names = "--max-edges",
                defaultValue = "16",
                description =
                        "Draw at most this many inputs and outputs per layer (default ${DEFAULT-VALUE}).")
        int maxEdges;

        @Option(
                names = "--points",
                defaultValue = "200",
                description = "Samples per edge (default ${DEFAULT-VALUE}).")
        int points;

        void draw(KanLearner learner) throws java.io.IOException {
            PlotCommand.draw(learner, out, maxEdges, points);
        }
    }

    /** One PNG per layer of the learner's edge functions into {@code out}; prints each file. */
    static void draw(KanLearner learner, Path out, int maxEdges, int points)
            throws java.io.IOException {
        Files.createDirectories(out);
        for (int layer = 0; layer < learner.layerCount(); layer++) {
            EdgeCurves curves = learner.edgeCurves(layer, points);
            int outputs = Math.min(maxEdges, curves.phi().length);
            int inputs = Math.min(maxEdges, curves.x().length);
            BufferedImage image =
                    new BufferedImage(
                            inputs * CELL_WIDTH,
                            outputs * CELL_HEIGHT + 30,
                            BufferedImage.TYPE_INT_RGB);
            Graphics2D g = image.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, image.getWidth(), image.getHeight());
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            g.drawString(
                    String.format(
                            "layer %d: %d inputs -> %d outputs%s",
                            layer,
                            curves.x().length,
                            curves.phi().length,
                            inputs < curves.x().length || outputs < curves.phi().length
                                    ? " (first " + inputs + " x " + outputs + " shown)"
                                    : ""),
                    8,
                    20);
            for (int o = 0; o < outputs; o++) {
                for (int i = 0; i < inputs; i++) {
                    JFreeChart chart = edgeChart(curves, o, i, layer);
                    chart.draw(
                            g,
                            new Rectangle2D.Double(
                                    i * CELL_WIDTH, 30 + o * CELL_HEIGHT, CELL_WIDTH, CELL_HEIGHT));
                }
            }
            g.dispose();
            Path file = out.resolve("layer-" + layer + ".png");
            ImageIO.write(image, "png", file.toFile());
            System.out.printf("layer %d: %s%n", layer, file);
        }
    }

    private static JFreeChart edgeChart(EdgeCurves curves, int o, int i, int layer) {
        XYSeries series = new XYSeries("phi");
        double[] x = curves.x()[i];
        double[] y = curves.phi()[o][i];
        for (int p = 0; p < x.length; p++) {
            series.add(x[p], y[p]);
        }
        JFreeChart chart =
                ChartFactory.createXYLineChart(
                        String.format("x%d -> %s%d", i, layer == 0 ? "h" : "y", o),
                        null,
                        null,
                        new XYSeriesCollection(series),
                        PlotOrientation.VERTICAL,
                        false,
                        false,
                        false);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xe0e0e0));
        plot.setRangeGridlinePaint(new Color(0xe0e0e0));
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        renderer.setSeriesPaint(0, new Color(0x1f77b4));
        renderer.setSeriesStroke(0, new BasicStroke(1.8f));
        plot.setRenderer(renderer);
        Font tick = new Font(Font.SANS_SERIF, Font.PLAIN, 8);
        plot.getDomainAxis().setTickLabelFont(tick);
        plot.getRangeAxis().setTickLabelFont(tick);
        ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        return chart;
    }
}
