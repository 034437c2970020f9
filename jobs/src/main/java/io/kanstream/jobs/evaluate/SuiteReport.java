package io.kanstream.jobs.evaluate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The suite's one table, and its JSON with every per-seed figure. */
final class SuiteReport {
    /** The table's columns: figure name in the results, and its header. */
    static final Map<String, String> COLUMNS = columns();

    private SuiteReport() {}

    private static Map<String, String> columns() {
        Map<String, String> columns = new LinkedHashMap<>();
        columns.put("accuracy", "accuracy");
        columns.put("kappa_temporal", "kappa_t");
        columns.put("log_loss", "log_loss");
        columns.put("rmse", "rmse (preq.)");
        columns.put("test_rmse", "test rmse");
        return columns;
    }

    static void printTable(SuiteResult result, PrintStream out) {
        String cell = "%-19s";
        int width =
                result.streams().stream()
                        .flatMap(stream -> stream.perSeed().keySet().stream())
                        .mapToInt(String::length)
                        .max()
                        .orElse(0);
        String row = "%-17s %-" + Math.max(14, width) + "s";
        out.printf(row, "stream", "model");
        COLUMNS.values().forEach(header -> out.printf(" " + cell, header));
        out.println();
        for (SuiteResult.StreamResult stream : result.streams()) {
            for (String model : stream.perSeed().keySet()) {
                out.printf(row, stream.stream().name(), model);
                for (String figure : COLUMNS.keySet()) {
                    List<Double> values = stream.perSeed().get(model).get(figure);
                    out.printf(" " + cell, values == null ? "-" : format(Spread.of(values)));
                }
                out.println();
            }
        }
        List<String> times = new ArrayList<>();
        for (SuiteResult.StreamResult stream : result.streams()) {
            times.add(
                    String.format(
                            Locale.ROOT, "%s %.0f s", stream.stream().name(), stream.seconds()));
        }
        out.printf(
                Locale.ROOT,
                "mean ± sd over %d seeds %s (sample sd).%nwall time per stream: %s.%ntotal %.0f s"
                        + " wall, %.0f s cpu of this JVM.%n",
                result.seeds().size(),
                result.seeds(),
                String.join(", ", times),
                result.seconds(),
                result.cpuSeconds());
    }

    private static String format(Spread spread) {
        return Double.isNaN(spread.sd())
                ? String.format(Locale.ROOT, "%.4f", spread.mean())
                : String.format(Locale.ROOT, "%.4f ± %.4f", spread.mean(), spread.sd());
    }

    /**
     * @param run what the run was: command line, date, commit, ... (written first)
     */
    static void writeJson(
            Path file, SuiteResult result, List<KanVariant> variants, Map<String, Object> run)
            throws IOException {
        Map<String, Object> root = new LinkedHashMap<>(run);
        root.put("seeds", result.seeds());
        root.put("wall_seconds", round(result.seconds()));
        root.put("cpu_seconds", round(result.cpuSeconds()));
        Map<String, String> models = new LinkedHashMap<>();
        variants.forEach(v -> models.put(v.name(), v.description()));
        root.put("variants", models);
        Map<String, Object> streams = new LinkedHashMap<>();
        for (SuiteResult.StreamResult stream : result.streams()) {
            Map<String, Object> node = new LinkedHashMap<>();
            node.put("description", stream.stream().description());
            node.put("task", stream.stream().task());
            node.put("rows", stream.stream().rows());
            node.put("wall_seconds", round(stream.seconds()));
            node.put("cpu_seconds", round(stream.cpuSeconds()));
            Map<String, Object> byModel = new LinkedHashMap<>();
            stream.perSeed()
                    .forEach(
                            (model, figures) -> {
                                Map<String, Object> byFigure = new LinkedHashMap<>();
                                figures.forEach(
                                        (figure, values) -> {
                                            Spread spread = Spread.of(values);
                                            Map<String, Object> f = new LinkedHashMap<>();
                                            f.put(
                                                    "per_seed",
                                                    values.stream()
                                                            .map(SuiteReport::finite)
                                                            .toList());
                                            f.put("mean", finite(spread.mean()));
                                            f.put("sd", finite(spread.sd()));
                                            byFigure.put(figure, f);
                                        });
                                byModel.put(model, byFigure);
                            });
            node.put("models", byModel);
            streams.put(stream.stream().name(), node);
        }
        root.put("streams", streams);
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        new ObjectMapper()
                .enable(SerializationFeature.INDENT_OUTPUT)
                .writeValue(file.toFile(), root);
    }

    /** JSON has no NaN or infinity: a figure that is not a number is written as null. */
    private static Double finite(Double value) {
        return value != null && Double.isFinite(value) ? value : null;
    }

    private static double round(double seconds) {
        return Math.round(seconds * 10) / 10.0;
    }
}
