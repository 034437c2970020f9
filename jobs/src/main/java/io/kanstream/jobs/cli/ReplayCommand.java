package io.kanstream.jobs.cli;

import io.kanstream.eval.DriftDetector;
import io.kanstream.jobs.online.EventTime;
import io.kanstream.jobs.replay.HistoryTable;
import io.kanstream.jobs.replay.Replay;
import io.kanstream.jobs.replay.ReplayEvaluation;
import io.kanstream.jobs.replay.ReplaySettings;
import io.kanstream.jobs.replay.ReportWriter;
import io.kanstream.kan.KanConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "replay",
        mixinStandardHelpOptions = true,
        description =
                "Replay a historical stream (CSV with a header, or JSONL) in event-time order"
                        + " through the live job's operator, evaluate it prequentially against"
                        + " baselines, and write a report folder (summary.json, metrics.csv,"
                        + " charts, report.html). Deterministic for a given input and seed.")
final class ReplayCommand implements Callable<Integer> {
    private static final ReplaySettings DEFAULTS = ReplaySettings.defaults();

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--input", description = "CSV (header row) or .jsonl file.")
    Path input;

    @Option(
            names = "--kafka-topic",
            description = "Replay an events topic instead of a file (with --from and --to).")
    String kafkaTopic;

    @Mixin KafkaOptions kafka;

    @Option(
            names = "--from",
            description = "First record time of --kafka-topic: epoch ms or ISO-8601 date-time.")
    String from;

    @Option(
            names = "--to",
            description =
                    "End (excluded) of --kafka-topic's time range: epoch ms or ISO-8601 date-time.")
    String to;

    @Mixin HistoryColumns columns;

    @Mixin LearnerOptions.Hidden hidden;

    @Mixin LearnerOptions.BatchSize batchSize;

    @Option(
            names = "--label-delay",
            description = "Labels arrive this many events late (default ${DEFAULT-VALUE}).")
    int labelDelay = DEFAULTS.labelDelay();

    @Option(names = "--lag-label", description = "Add the key's last known label as an input.")
    boolean lagLabel;

    @Option(
            names = "--warmup",
            description = "Labels the frozen baseline learns from (default ${DEFAULT-VALUE}).")
    int warmup = DEFAULTS.warmup();

    @Option(
            names = "--window",
            description = "Window of the windowed metrics (default ${DEFAULT-VALUE}).")
    int window = DEFAULTS.window();

    @Option(names = "--fading", description = "Fading factor (default ${DEFAULT-VALUE}).")
    double fading = DEFAULTS.fading();

    @Option(names = "--drift", description = "adwin|page-hinkley|none (default ${DEFAULT-VALUE}).")
    String drift = driftText(DEFAULTS.drift());

    @Mixin LearnerOptions.Drift driftAction;

    @Mixin ModelOptions modelOptions;

    @Option(
            names = "--model",
            description =
                    "Start every key from this model file (from `fit` or `import`), as `run"
                            + " --model` does: replay what a job warm-started from it would score"
                            + " and learn. Its layers (the table's features, plus the lag label"
                            + " with --lag-label), task and settings apply.")
    Path model;

    @Mixin RefitPolicies refits;

    @Option(
            names = "--boost-factor",
            description = "Learning-rate multiplier after a drift (default ${DEFAULT-VALUE}).")
    double boostFactor = DEFAULTS.boostFactor();

    @Option(
            names = "--boost-steps",
            description = "Steps a drift boost lasts (default ${DEFAULT-VALUE}).")
    int boostSteps = DEFAULTS.boostSteps();

    @Mixin LearnerOptions.Parallelism parallelism;

    @Mixin LearnerOptions.Population population;

    @Option(
            names = {"--report", "--out"},
            defaultValue = "reports/replay",
            description =
                    "Report folder (default ${DEFAULT-VALUE}); --out is the same option, as"
                            + " evaluate and bench name it.")
    Path report;

    @Override
    public Integer call() throws Exception {
        long started = System.nanoTime();
        HistoryTable table = kafkaTopic != null ? readTopic() : readFile();
        ReplaySettings settings =
                ReplaySettings.builder()
                        .hidden(hidden.hidden())
                        .model(modelOptions::applyTo)
                        .batchSize(batchSize.batchSize)
                        .labelDelay(labelDelay)
                        .lagLabel(lagLabel)
                        .warmup(warmup)
                        .window(window)
                        .fading(fading)
                        .drift(DriftDetector.Kind.parse(drift))
                        .driftAction(driftAction.driftAction())
                        .refitPolicy(refits.policy())
                        .boost(boostFactor, boostSteps)
                        .parallelism(parallelism.parallelism)
                        .population(population.population())
                        .sharedCompanion(population.sharedCompanion())
                        .build();
        ModelFile.WarmStart warmStart = model == null ? null : warmStart(table);
        KanConfig fitted = warmStart == null ? null : warmStart.config();
        List<Integer> layers =
                fitted != null
                        ? fitted.layers()
                        : settings.layers(table.features(), table.outputs());
        System.out.printf(
                "replaying %d rows of %s (%d features%s, task %s, %d keys) through layers %s...%n",
                table.rows().size(),
                input,
                table.features(),
                lagLabel ? " + lag label" : "",
                table.task().name().toLowerCase(Locale.ROOT),
                table.rows().stream().map(r -> r.key()).distinct().count(),
                layers);
        String note = columns.options().task() == null ? table.classLikeLabelsNote() : null;
        if (note != null) {
            System.out.println("note: " + note);
        }
        if (table.leftOutNote() != null) {
            System.out.println("note: " + table.leftOutNote());
        }
        ReplayEvaluation evaluation =
                (fitted == null
                                ? Replay.run(table, settings)
                                : Replay.run(
                                        table,
                                        settings,
                                        b -> fitted.toBuilder().device("cpu"),
                                        o -> o.warmStart(warmStart.bytes())))
                        .evaluation();
        Map<String, Object> run = new LinkedHashMap<>();
        run.put(
                "input",
                input != null
                        ? input.toString()
                        : "kafka:" + kafkaTopic + "[" + from + ", " + to + ")");
        run.put(
                "command",
                "kanstream "
                        + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
        run.put("layers", layers);
        if (model != null) {
            run.put("model", model.toString());
        }
        run.put("task", table.task().name().toLowerCase(Locale.ROOT));
        run.put("classes", table.classes());
        run.put("rows_left_out", table.leftOut());
        run.put("label_delay", labelDelay);
        run.put("lag_label", lagLabel);
        run.put("seconds", Math.round((System.nanoTime() - started) / 1e7) / 100.0);
        Files.createDirectories(report);
        ReportWriter.write(report, evaluation, run);
        printSummary(evaluation);
        System.out.printf("report: %s%n", report.resolve("report.html").toAbsolutePath());
        return 0;
    }

    /**
     * The model file, once it is known to fit the table: its inputs the table's features (plus the
     * lag label), its outputs and task the table's.
     */
    private ModelFile.WarmStart warmStart(HistoryTable table) throws java.io.IOException {
        List<String> modelFlags = new ArrayList<>(List.of("--hidden"));
        modelFlags.addAll(ModelOptions.NAMES);
        ModelFile.WarmStart file =
                ModelFile.warmStart(model, spec.commandLine().getParseResult(), modelFlags);
        KanConfig config = file.config();
        int inputs = table.features() + (lagLabel ? 1 : 0);
        if (config.inputs() != inputs
                || config.outputs() != table.outputs()
                || config.task() != table.task()) {
            throw new IllegalArgumentException(
                    String.format(
                            Locale.ROOT,
                            "%s is a %s model of layers %s; this table needs %d inputs (%d features%s)"
                                    + " and %d outputs for task %s",
                            model,
                            config.task().name().toLowerCase(Locale.ROOT),
                            config.layers(),
                            inputs,
                            table.features(),
                            lagLabel ? " and the lag label" : "",
                            table.outputs(),
                            table.task().name().toLowerCase(Locale.ROOT)));
        }
        return file;
    }

    private static String driftText(DriftDetector.Kind kind) {
        return kind == null ? "none" : kind.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private HistoryTable readFile() throws java.io.IOException {
        if (input == null) {
            throw new IllegalArgumentException(
                    "give --input FILE, or --kafka-topic with --from and --to");
        }
        return HistoryTable.read(input, columns.options());
    }

    private HistoryTable readTopic() {
        if (input != null) {
            throw new IllegalArgumentException("give --input or --kafka-topic, not both");
        }
        if (from == null || to == null) {
            throw new IllegalArgumentException(
                    "--kafka-topic needs --from and --to (epoch ms or ISO instants)");
        }
        io.kanstream.jobs.replay.KafkaHistory.Result result =
                io.kanstream.jobs.replay.KafkaHistory.read(
                        kafka.checkedConnection(),
                        kafkaTopic,
                        instant("--from", from),
                        instant("--to", to),
                        columns.options().task());
        if (result.rejected() > 0) {
            System.out.printf(
                    "%d records in the range were not valid events (left out), e.g. %s%n",
                    result.rejected(), result.firstReasons());
        }
        return result.table();
    }

    private static long instant(String flag, String text) {
        try {
            return EventTime.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + " " + e.getMessage());
        }
    }

    private static void printSummary(ReplayEvaluation e) {
        System.out.printf("%-10s", "model");
        List<String> metrics = new ArrayList<>(e.overall().get("kan").keySet());
        for (String metric : metrics) {
            System.out.printf(" %14s", metric);
        }
        System.out.println();
        for (String model : e.overall().keySet()) {
            System.out.printf("%-10s", model);
            for (String metric : metrics) {
                System.out.printf(Locale.ROOT, " %14.4f", e.overall().get(model).get(metric));
            }
            System.out.println();
        }
        System.out.printf(
                "%d events, %d labeled, %d steps, %d refits, %d drifts%n",
                e.events(), e.labeled(), e.steps(), e.refits().size(), e.drifts().size());
    }
}
