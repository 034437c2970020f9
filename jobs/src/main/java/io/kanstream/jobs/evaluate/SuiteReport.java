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

    /** Figures where a larger value is better; for the others (losses, errors) smaller is. */
    static boolean higherIsBetter(String figure) {
        return figure.equals("accuracy") || figure.equals("kappa_temporal");
    }

    /**
     * Every other model against the reference, seed by seed: the mean and sd of the per-seed
     * differences (model − reference), and whether a paired t-test finds them more than noise.
     */
    static void printPaired(SuiteResult result, String reference, PrintStream out) {
        out.printf(
                "%nagainst %s, seed by seed: mean ± sd of (model − %s); better/worse: paired"
                        + " t-test p < %.2f, tie: not, same: equal on every seed%n",
                reference, reference, Paired.SIGNIFICANCE);
        String cell = "%-26s";
        String row = "%-17s %-22s";
        out.printf(row, "stream", "model");
        COLUMNS.values().forEach(header -> out.printf(" " + cell, header));
        out.println();
        for (SuiteResult.StreamResult stream : result.streams()) {
            Map<String, List<Double>> base = stream.perSeed().get(reference);
            if (base == null) {
                continue;
            }
            for (String model : stream.perSeed().keySet()) {
                if (model.equals(reference)) {
                    continue;
                }
                out.printf(row, stream.stream().name(), model);
                for (String figure : COLUMNS.keySet()) {
                    Paired paired = paired(base, stream.perSeed().get(model), figure);
                    out.printf(
                            " " + cell,
                            paired == null
                                    ? "-"
                                    : String.format(
                                            Locale.ROOT,
                                            "%+.4f ± %.4f %s",
                                            paired.difference(),
                                            Double.isNaN(paired.sd()) ? 0 : paired.sd(),
                                            paired.verdict(higherIsBetter(figure))));
                }
                out.println();
            }
        }
    }

    /** The figure of a model paired with the reference's, or null when either lacks it. */
    private static Paired paired(
            Map<String, List<Double>> reference, Map<String, List<Double>> model, String figure) {
        List<Double> base = reference.get(figure);
        List<Double> values = model.get(figure);
        if (base == null
                || values == null
                || base.stream().anyMatch(v -> !Double.isFinite(v))
                || values.stream().anyMatch(v -> !Double.isFinite(v))) {
            return null;
        }
        return Paired.of(base, values, higherIsBetter(figure));
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
        String reference = variants.get(0).name();
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
            Map<String, List<Double>> base = stream.perSeed().get(reference);
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
                                            Paired paired =
                                                    base == null || model.equals(reference)
                                                            ? null
                                                            : paired(base, figures, figure);
                                            if (paired != null) {
                                                f.put(
                                                        "paired_with_" + reference,
                                                        json(paired, figure));
                                            }
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

    private static Map<String, Object> json(Paired paired, String figure) {
        Map<String, Object> node = new LinkedHashMap<>();
        node.put("mean_difference", finite(paired.difference()));
        node.put("sd", finite(paired.sd()));
        node.put("p_value", finite(paired.pValue()));
        node.put("seeds_ahead", paired.ahead());
        node.put("seeds_behind", paired.behind());
        node.put("verdict", paired.verdict(higherIsBetter(figure)));
        return node;
    }

    /** JSON has no NaN or infinity: a figure that is not a number is written as null. */
    private static Double finite(Double value) {
        return value != null && Double.isFinite(value) ? value : null;
    }

    private static double round(double seconds) {
        return Math.round(seconds * 10) / 10.0;
    }
}
