package io.kanstream.jobs.replay;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Writes a replay's report folder: {@code summary.json} (figures, read by other tools), {@code
 * metrics.csv} (the learning curves), {@code learning-curve.png} and {@code
 * learning-curve-cumulative.png}, and {@code report.html} tying them together with the per-key
 * table.
 */
public final class ReportWriter {
    private static final Color[] COLORS = {
        new Color(0x1f77b4),
        new Color(0x7f7f7f),
        new Color(0xbcbd22),
        new Color(0x2ca02c),
        new Color(0xd62728)
    };

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
        html.append("<h2>Learning curves</h2><p class=\"note\">Windowed ")
                .append(headline)
                .append(
                        " of the KAN and every baseline. Orange dashed lines: drift detected on a key;")
                .append(" faint purple lines: a key's grids refit.</p>")
                .append(
                        "<img src=\"learning-curve.png\" width=\"1100\"><img src=\"learning-curve-cumulative.png\" width=\"1100\">");
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
