package io.kanstream.jobs.replay;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.kanstream.eval.Reliability;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.ClusteredXYBarRenderer;
import org.jfree.chart.renderer.xy.StandardXYBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Writes a replay's report folder: {@code summary.json} (figures, read by other tools), {@code
 * metrics.csv} (the learning curves), {@code learning-curve.png} and {@code
 * learning-curve-cumulative.png}, for classification {@code reliability.png} (the calibration
 * diagram), and {@code report.html} tying them together with the per-key table.
 */
public final class ReportWriter {
    private static final Color[] COLORS = {
        new Color(0x1f77b4),
        new Color(0x7f7f7f),
        new Color(0xbcbd22),
        new Color(0x2ca02c),
        new Color(0xd62728)
    };

    static final String RELIABILITY_PNG = "reliability.png";

    private ReportWriter() {}

    /** summary.json as a map, so tests and the CLI can print it too. */
    public static Map<String, Object> summary(
            ReplayEvaluation evaluation, Map<String, Object> run) {
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("events", evaluation.events());
        summary.put("labeled", evaluation.labeled());
        summary.putAll(evaluation.overall().get("kan"));
        Map<String, Object> baselines = new LinkedHashMap<>();
        for (String name : ReplayEvaluator.MODELS.subList(1, ReplayEvaluator.MODELS.size())) {
            baselines.put(name, evaluation.overall().get(name));
        }
        summary.put("baselines", baselines);
        summary.put("steps", evaluation.steps());
        summary.put("drifts", evaluation.drifts().size());
        summary.put("refits", evaluation.refits().size());
        summary.put("drift_rows", evaluation.drifts());
        summary.put("refit_rows", evaluation.refits());
        summary.put("per_key", evaluation.perKey());
        summary.put("run", run);
        return summary;
    }

    public static void write(Path folder, ReplayEvaluation evaluation, Map<String, Object> run)
            throws IOException {
        Files.createDirectories(folder);
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        mapper.writeValue(folder.resolve("summary.json").toFile(), summary(evaluation, run));
        writeCsv(folder.resolve("metrics.csv"), evaluation);
        chart(folder.resolve("learning-curve.png"), evaluation, true);
        chart(folder.resolve("learning-curve-cumulative.png"), evaluation, false);
        if (!evaluation.reliability().isEmpty()) {
            reliabilityChart(folder.resolve(RELIABILITY_PNG), evaluation.reliability());
        }
        writeHtml(folder.resolve("report.html"), evaluation, run);
    }

    private static void writeCsv(Path file, ReplayEvaluation evaluation) throws IOException {
        try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            StringBuilder header = new StringBuilder("row,ts");
            for (String name : ReplayEvaluator.MODELS) {
                header.append(',').append(name).append("_window_").append(evaluation.headline());
            }
            for (String name : ReplayEvaluator.MODELS) {
                header.append(',')
                        .append(name)
                        .append("_cumulative_")
                        .append(evaluation.headline());
            }
            out.write(header.append('\n').toString());
            for (ReplayEvaluation.TimelinePoint point : evaluation.timeline()) {
                StringBuilder line =
                        new StringBuilder().append(point.row()).append(',').append(point.ts());
                for (String name : ReplayEvaluator.MODELS) {
                    line.append(',').append(format(point.window().get(name)));
                }
                for (String name : ReplayEvaluator.MODELS) {
                    line.append(',').append(format(point.cumulative().get(name)));
                }
                out.write(line.append('\n').toString());
            }
        }
    }

    private static String format(Double value) {
        return value == null || value.isNaN() ? "" : String.format(Locale.ROOT, "%.6f", value);
    }

    private static void chart(Path file, ReplayEvaluation evaluation, boolean window)
            throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        for (String name : ReplayEvaluator.MODELS) {
            XYSeries series = new XYSeries(name);
            for (ReplayEvaluation.TimelinePoint point : evaluation.timeline()) {
                Double value = (window ? point.window() : point.cumulative()).get(name);
                if (value != null && !value.isNaN()) {
                    series.add(point.row(), value);
                }
            }
            data.addSeries(series);
        }
        String what = (window ? "windowed " : "cumulative ") + evaluation.headline();
        JFreeChart chart =
                ChartFactory.createXYLineChart(
                        "Prequential " + what + " (KAN and baselines)",
                        "event",
                        what,
                        data,
                        PlotOrientation.VERTICAL,
                        true,
                        false,
                        false);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        for (int s = 0; s < ReplayEvaluator.MODELS.size(); s++) {
            renderer.setSeriesPaint(s, COLORS[s % COLORS.length]);
            renderer.setSeriesStroke(s, new BasicStroke(s == 0 ? 2.5f : 1.5f));
        }
        plot.setRenderer(renderer);
        ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        for (int row : evaluation.refits()) {
            ValueMarker marker = new ValueMarker(row, new Color(0x9467bd), new BasicStroke(0.6f));
            marker.setAlpha(0.25f);
            plot.addDomainMarker(marker);
        }
        for (int row : evaluation.drifts()) {
            ValueMarker marker =
                    new ValueMarker(
                            row,
                            new Color(0xff7f0e),
                            new BasicStroke(
                                    1.2f,
                                    BasicStroke.CAP_BUTT,
                                    BasicStroke.JOIN_MITER,
                                    1f,
                                    new float[] {4f, 3f},
                                    0f));
            marker.setAlpha(0.8f);
            plot.addDomainMarker(marker);
        }
        ChartUtils.saveChartAsPNG(file.toFile(), chart, 1100, 520);
    }

    /**
     * Observed frequency against mean forecast per bin, one line per model over the diagonal of
     * perfect calibration, and below it each bin's count: a point far off the diagonal matters only
     * as much as the examples behind it.
     */
    private static void reliabilityChart(Path file, Map<String, Reliability.Diagram> diagrams)
            throws IOException {
        XYSeriesCollection points = new XYSeriesCollection();
        XYSeries diagonal = new XYSeries("perfectly calibrated");
        diagonal.add(0, 0);
        diagonal.add(1, 1);
        points.addSeries(diagonal);
        XYSeriesCollection counts = new XYSeriesCollection();
        List<List<Double>> shares = new ArrayList<>(); // per model, per plotted bin
        double binWidth = Double.NaN;
        boolean topLabel = false;
        for (Map.Entry<String, Reliability.Diagram> entry : diagrams.entrySet()) {
            Reliability.Diagram d = entry.getValue();
            String label = String.format(Locale.ROOT, "%s (ECE %.4f)", entry.getKey(), d.ece());
            XYSeries line = new XYSeries(label, false);
            XYSeries count = new XYSeries(label);
            List<Double> share = new ArrayList<>();
            for (Reliability.Bin bin : d.bins()) {
                if (bin.count() > 0) {
                    line.add(bin.meanPredicted(), bin.observed());
                    share.add((double) bin.count() / d.counted());
                }
                count.add((bin.lower() + bin.upper()) / 2, bin.count());
                binWidth = bin.upper() - bin.lower();
            }
            points.addSeries(line);
            shares.add(share);
            counts.addSeries(count);
            topLabel = d.topLabel();
        }
        counts.setIntervalWidth(binWidth);

        XYLineAndShapeRenderer lines =
                new XYLineAndShapeRenderer(true, true) {
                    @Override
                    public Shape getItemShape(int series, int item) {
                        if (series == 0) {
                            return super.getItemShape(series, item);
                        }
                        // Marker area grows with the bin's share of the model's examples, so a
                        // wild point from a handful of examples does not look like a finding.
                        double d = 4 + 18 * Math.sqrt(shares.get(series - 1).get(item));
                        return new Ellipse2D.Double(-d / 2, -d / 2, d, d);
                    }
                };
        lines.setSeriesPaint(0, new Color(0x999999));
        lines.setSeriesShapesVisible(0, false);
        lines.setSeriesStroke(
                0,
                new BasicStroke(
                        1f,
                        BasicStroke.CAP_BUTT,
                        BasicStroke.JOIN_MITER,
                        1f,
                        new float[] {5f, 4f},
                        0f));
        ClusteredXYBarRenderer bars = new ClusteredXYBarRenderer(0.1, false);
        bars.setBarPainter(new StandardXYBarPainter());
        bars.setShadowVisible(false);
        bars.setDefaultSeriesVisibleInLegend(false);
        int s = 0;
        for (String name : diagrams.keySet()) {
            Color color = COLORS[ReplayEvaluator.MODELS.indexOf(name) % COLORS.length];
            lines.setSeriesPaint(s + 1, color);
            lines.setSeriesStroke(s + 1, new BasicStroke(s == 0 ? 2.5f : 1.5f));
            lines.setSeriesShape(s + 1, new Ellipse2D.Double(-4, -4, 8, 8));
            // No-change forecasts take a few values (its smoothed hit rate); a line through the
            // warm-up's stray bins would draw a curve that is not there.
            lines.setSeriesLinesVisible(s + 1, !name.equals("no_change"));
            bars.setSeriesPaint(s, color);
            s++;
        }

        NumberAxis observed =
                new NumberAxis(topLabel ? "accuracy of the top label" : "observed frequency of 1");
        // A little past [0, 1], so markers on the edges show whole.
        observed.setRange(-0.02, 1.02);
        XYPlot top = new XYPlot(points, null, observed, lines);
        NumberAxis examples = new NumberAxis("examples per bin");
        XYPlot bottom = new XYPlot(counts, null, examples, bars);
        NumberAxis predicted =
                new NumberAxis(
                        topLabel ? "top-label confidence (bin mean)" : "predicted P(1) (bin mean)");
        predicted.setRange(-0.02, 1.02);
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(predicted);
        plot.setGap(8);
        plot.add(top, 3);
        plot.add(bottom, 1);
        for (XYPlot sub : List.of(top, bottom)) {
            sub.setBackgroundPaint(Color.WHITE);
            sub.setDomainGridlinePaint(new Color(0xdddddd));
            sub.setRangeGridlinePaint(new Color(0xdddddd));
        }
        JFreeChart chart =
                new JFreeChart(
                        "Reliability diagram (cumulative, all keys)",
                        JFreeChart.DEFAULT_TITLE_FONT,
                        plot,
                        true);
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(file.toFile(), chart, 900, 800);
    }

    private static void writeHtml(Path file, ReplayEvaluation evaluation, Map<String, Object> run)
            throws IOException {
        String headline = evaluation.headline();
        StringBuilder html = new StringBuilder();
        html.append(
                        "<!doctype html><html><head><meta charset=\"utf-8\"><title>kanstream replay</title>")
                .append(
                        "<style>body{font-family:sans-serif;max-width:1150px;margin:2em auto;color:#222}")
                .append(
                        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;")
                .append(
                        "text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}")
                .append(".note{color:#555;font-size:90%}</style></head><body>");
        html.append("<h1>kanstream replay</h1><p class=\"note\">")
                .append(escape(String.valueOf(run.get("input"))))
                .append(" &mdash; ")
                .append(evaluation.events())
                .append(" events, ")
                .append(evaluation.labeled())
                .append(" labeled, ")
                .append(evaluation.steps())
                .append(" gradient steps, ")
                .append(evaluation.refits().size())
                .append(" grid refits, ")
                .append(evaluation.drifts().size())
                .append(" drifts detected.</p>");
        html.append("<h2>Prequential figures (cumulative)</h2><table><tr><th>model</th>");
        Map<String, Double> kan = evaluation.overall().get("kan");
        for (String metric : kan.keySet()) {
            html.append("<th>").append(metric).append("</th>");
        }
        html.append("</tr>");
        for (String name : ReplayEvaluator.MODELS) {
            html.append("<tr><td>").append(name).append("</td>");
            for (String metric : kan.keySet()) {
                html.append("<td>")
                        .append(cell(evaluation.overall().get(name).get(metric)))
                        .append("</td>");
            }
            html.append("</tr>");
        }
        html.append("</table>");
        if (kan.containsKey("auc")) {
            html.append(
                    "<p class=\"note\">auc: the area under the ROC curve of P(class 1); with more"
                            + " than two classes, the mean over the classes of each class's"
                            + " probability ranked against the rest.</p>");
        }
        html.append("<h2>Learning curves</h2><p class=\"note\">Windowed ")
                .append(headline)
                .append(
                        " of the KAN and every baseline. Orange dashed lines: drift detected on a key;")
                .append(" faint purple lines: a key's grids refit.</p>")
                .append(
                        "<img src=\"learning-curve.png\" width=\"1100\"><img src=\"learning-curve-cumulative.png\" width=\"1100\">");
        if (!evaluation.reliability().isEmpty()) {
            reliabilityHtml(html, evaluation.reliability());
        }
        html.append("<h2>Per key</h2><table><tr><th>key</th><th>KAN ")
                .append(headline)
                .append("</th><th>no-change ")
                .append(headline)
                .append("</th>");
        boolean classification = !headline.equals("rmse");
        if (classification) {
            html.append("<th>KAN &kappa;<sub>t</sub></th>");
        } else {
            html.append("<th>KAN R&sup2;</th>");
        }
        html.append("</tr>");
        for (Map.Entry<String, Map<String, Map<String, Double>>> entry :
                evaluation.perKey().entrySet()) {
            Map<String, Double> k = entry.getValue().get("kan");
            Map<String, Double> nc = entry.getValue().get("no_change");
            html.append("<tr><td>")
                    .append(escape(entry.getKey()))
                    .append("</td><td>")
                    .append(cell(k.get(headline)))
                    .append("</td><td>")
                    .append(cell(nc.get(headline)))
                    .append("</td><td>")
                    .append(cell(classification ? k.get("kappa_temporal") : k.get("r2")))
                    .append("</td></tr>");
        }
        html.append("</table><h2>Run</h2><pre>")
                .append(
                        escape(
                                new ObjectMapper()
                                        .writerWithDefaultPrettyPrinter()
                                        .writeValueAsString(run)))
                .append("</pre></body></html>\n");
        Files.writeString(file, html, StandardCharsets.UTF_8);
    }

    private static void reliabilityHtml(
            StringBuilder html, Map<String, Reliability.Diagram> diagrams) {
        boolean topLabel = diagrams.values().iterator().next().topLabel();
        html.append("<h2>Calibration</h2><p class=\"note\">")
                .append(
                        topLabel
                                ? "Top-label confidence against how often the top label was right"
                                : "Predicted probability of the positive class against how often"
                                        + " it came")
                .append(
                        ", in equal-width bins over every key. ECE: the count-weighted mean gap"
                                + " between the two; MCE: the largest gap of any bin (noisy where"
                                + " a bin holds few examples). Even a perfectly calibrated model"
                                + " shows a small ECE on a finite stream.</p>")
                .append("<img src=\"")
                .append(RELIABILITY_PNG)
                .append("\" width=\"900\">");
        html.append("<table><tr><th>model</th><th>ECE</th><th>MCE</th><th>in bins</th>")
                .append("<th>not a probability</th></tr>");
        diagrams.forEach(
                (name, d) ->
                        html.append("<tr><td>")
                                .append(name)
                                .append("</td><td>")
                                .append(cell(d.ece()))
                                .append("</td><td>")
                                .append(cell(d.mce()))
                                .append("</td><td>")
                                .append(d.counted())
                                .append("</td><td>")
                                .append(d.excluded())
                                .append("</td></tr>"));
        html.append("</table><table><tr><th rowspan=\"2\">bin</th>");
        for (String name : diagrams.keySet()) {
            html.append("<th colspan=\"3\">").append(name).append("</th>");
        }
        html.append("</tr><tr>");
        for (int m = 0; m < diagrams.size(); m++) {
            html.append("<th>n</th><th>predicted</th><th>observed</th>");
        }
        html.append("</tr>");
        int bins = diagrams.values().iterator().next().bins().size();
        for (int b = 0; b < bins; b++) {
            Reliability.Bin first = diagrams.values().iterator().next().bins().get(b);
            html.append(
                    String.format(
                            Locale.ROOT,
                            "<tr><td>[%.2f, %.2f%s</td>",
                            first.lower(),
                            first.upper(),
                            b == bins - 1 ? "]" : ")"));
            for (Reliability.Diagram d : diagrams.values()) {
                Reliability.Bin bin = d.bins().get(b);
                html.append("<td>")
                        .append(bin.count())
                        .append("</td><td>")
                        .append(cell(bin.meanPredicted()))
                        .append("</td><td>")
                        .append(cell(bin.observed()))
                        .append("</td>");
            }
            html.append("</tr>");
        }
        html.append("</table>");
    }

    private static String cell(Double value) {
        return value == null || value.isNaN()
                ? "&ndash;"
                : String.format(Locale.ROOT, "%.4f", value);
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    static List<String> files() {
        return List.of(
                "summary.json",
                "metrics.csv",
                "learning-curve.png",
                "learning-curve-cumulative.png",
                "report.html");
    }
}
