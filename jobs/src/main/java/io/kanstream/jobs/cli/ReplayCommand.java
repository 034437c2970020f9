package io.kanstream.jobs.cli;

import io.kanstream.eval.DriftDetector;
import io.kanstream.eval.MetricsConfig;
import io.kanstream.jobs.replay.HistoryTable;
import io.kanstream.jobs.replay.ReplayEvaluation;
import io.kanstream.jobs.replay.ReplayEvaluator;
import io.kanstream.jobs.replay.ReplayRunner;
import io.kanstream.jobs.replay.ReplaySequence;
import io.kanstream.jobs.replay.ReportWriter;
import io.kanstream.kan.KanConfig;
import io.kanstream.kan.RefitPolicy;
import io.kanstream.kan.Task;
import io.kanstream.stream.DriftAction;
import io.kanstream.stream.Event;
import io.kanstream.stream.Label;
import io.kanstream.stream.OnlineKanConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.flink.types.Either;
import picocli.CommandLine.Command;
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
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--input", description = "CSV (header row) or .jsonl file.")
    Path input;

    @Option(
            names = "--kafka-topic",
            description = "Replay an events topic instead of a file (with --from and --to).")
    String kafkaTopic;

    @Option(
            names = "--bootstrap-servers",
            defaultValue = "localhost:9092",
            description = "Kafka for --kafka-topic (default ${DEFAULT-VALUE}).")
    String bootstrapServers;

    @Option(
            names = "--from",
            description = "First record time of --kafka-topic: epoch ms or ISO instant.")
    String from;

    @Option(
            names = "--to",
            description = "End (excluded) of --kafka-topic's time range: epoch ms or ISO instant.")
    String to;

    @Option(
            names = "--label-column",
            defaultValue = "label",
            description = "Label column (default ${DEFAULT-VALUE}).")
    String labelColumn;

    @Option(names = "--key-column", description = "Model-key column (default: one key).")
    String keyColumn;

    @Option(names = "--time-column", description = "Event-time column (default: file order).")
    String timeColumn;

    @Option(
            names = "--exclude-columns",
            split = ",",
            description = "Columns that are not features.")
    List<String> excludeColumns = new ArrayList<>();

    @Option(
            names = "--positive-label",
            description = "Binary task: this label is 1, every other 0.")
    String positiveLabel;

    @Option(
            names = "--task",
            description = "regression|binary|multiclass (default: from the labels).")
    String task;

    @Option(
            names = "--hidden",
            defaultValue = "8",
            description = "Hidden layer widths, e.g. 8 or 16,8 (default ${DEFAULT-VALUE}).")
    String hidden;

    @Option(
            names = "--grid-size",
            defaultValue = "5",
            description = "G (default ${DEFAULT-VALUE}).")
    int gridSize;

    @Option(
            names = "--spline-order",
            defaultValue = "3",
            description = "k (default ${DEFAULT-VALUE}).")
    int splineOrder;

    @Option(
            names = "--lr",
            defaultValue = "0.01",
            description = "Learning rate (default ${DEFAULT-VALUE}).")
    double learningRate;

    @Option(
            names = "--batch-size",
            defaultValue = "1",
            description = "Examples per step (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(
            names = "--seed",
            defaultValue = "42",
            description = "Initialization seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(
            names = "--label-delay",
            defaultValue = "0",
            description = "Labels arrive this many events late (default ${DEFAULT-VALUE}).")
    int labelDelay;

    @Option(names = "--lag-label", description = "Add the key's last known label as an input.")
    boolean lagLabel;

    @Option(
            names = "--warmup",
            defaultValue = "1000",
            description = "Labels the frozen baseline learns from (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(
            names = "--window",
            defaultValue = "1000",
            description = "Window of the windowed metrics (default ${DEFAULT-VALUE}).")
    int window;

    @Option(
            names = "--fading",
            defaultValue = "0.999",
            description = "Fading factor (default ${DEFAULT-VALUE}).")
    double fading;

    @Option(
            names = "--drift",
            defaultValue = "adwin",
            description = "adwin|page-hinkley|none (default ${DEFAULT-VALUE}).")
    String drift;

    @Option(
            names = "--drift-action",
            defaultValue = "reset",
            description =
                    "none|refit|boost|refit+boost|reset|refit+reset (default ${DEFAULT-VALUE}).")
    String driftAction;

    @Option(
            names = "--refit",
            defaultValue = "on",
            description =
                    "Grid refits when the input summaries say a grid no longer fits: on|off"
                            + " (default ${DEFAULT-VALUE}).")
    String refit;

    @Option(
            names = "--max-grid-size",
            defaultValue = "0",
            description =
                    "Grid extension: G doubles as a key's labels accumulate, up to this; 0 off"
                            + " (default ${DEFAULT-VALUE}).")
    int maxGridSize;

    @Option(
            names = "--weight-decay",
            defaultValue = "0",
            description = "Decoupled weight decay per step (default ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(
            names = "--logit-bound",
            defaultValue = "8",
            description =
                    "Classification logits bounded to ±this and calibrated online; 0 off"
                            + " (default ${DEFAULT-VALUE}).")
    double logitBound;

    @Option(
            names = "--boost-factor",
            defaultValue = "5",
            description = "Learning-rate multiplier after a drift (default ${DEFAULT-VALUE}).")
    double boostFactor;

    @Option(
            names = "--boost-steps",
            defaultValue = "500",
            description = "Steps a drift boost lasts (default ${DEFAULT-VALUE}).")
    int boostSteps;

    @Option(
            names = "--parallelism",
            defaultValue = "1",
            description = "Operator parallelism (default ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(
            names = "--report",
            defaultValue = "reports/replay",
            description = "Report folder (default ${DEFAULT-VALUE}).")
    Path report;

    @Override
    public Integer call() throws Exception {
        long started = System.nanoTime();
        HistoryTable table = kafkaTopic != null ? readTopic() : readFile();
        List<Integer> layers = new ArrayList<>();
        layers.add(table.features() + (lagLabel ? 1 : 0));
        layers.addAll(KanConfig.parseLayers(hidden));
        layers.add(table.outputs());
        RefitPolicy refits = RefitPolicies.parse(refit, maxGridSize);
        KanConfig model =
                KanConfig.builder(layers)
                        .task(table.task())
                        .gridSize(gridSize)
                        .splineOrder(splineOrder)
                        .learningRate(learningRate)
                        .weightDecay(weightDecay)
                        .logitBound(logitBound)
                        .seed(seed)
                        .device("cpu")
                        .build();
        OnlineKanConfig config =
                OnlineKanConfig.builder(model)
                        .batchSize(batchSize)
                        .batchTimeout(Duration.ZERO)
                        .labelTtl(Duration.ofDays(365))
                        .idleKeyTtl(Duration.ZERO)
                        .maxLiveKeys(Integer.MAX_VALUE)
                        .maxAwaitingPerKey(Integer.MAX_VALUE)
                        .refitPolicy(refits)
                        .drift(DriftDetector.Kind.parse(drift))
                        .driftAction(DriftAction.parse(driftAction))
                        .boost(boostFactor, boostSteps)
                        .build();
        List<Either<Event, Label>> sequence =
                ReplaySequence.build(table.rows(), labelDelay, lagLabel, null);
        System.out.printf(
                "replaying %d rows of %s (%d features%s, task %s, %d keys) through layers %s...%n",
                table.rows().size(),
                input,
                table.features(),
                lagLabel ? " + lag label" : "",
                table.task().name().toLowerCase(Locale.ROOT),
                table.rows().stream().map(r -> r.key()).distinct().count(),
                layers);
        ReplayRunner.Outputs outputs = ReplayRunner.run(sequence, config, parallelism);
        ReplayEvaluation evaluation =
                ReplayEvaluator.evaluate(
                        table,
                        sequence,
                        outputs,
                        model,
                        new ReplayEvaluator.Settings(
                                new MetricsConfig(window, fading), warmup, batchSize, refits, 400));
        Map<String, Object> run = new LinkedHashMap<>();
        run.put(
                "input",
                input != null
                        ? input.toString()
                        : "kafka:" + kafkaTopic + "[" + from + ", " + to + ")");
        run.put(
                "command",
                "kanstream replay "
                        + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
        run.put("layers", layers);
        run.put("task", table.task().name().toLowerCase(Locale.ROOT));
        run.put("classes", table.classes());
        run.put("label_delay", labelDelay);
        run.put("lag_label", lagLabel);
        run.put("seconds", Math.round((System.nanoTime() - started) / 1e7) / 100.0);
        Files.createDirectories(report);
        ReportWriter.write(report, evaluation, run);
        printSummary(evaluation);
        System.out.printf("report: %s%n", report.resolve("report.html").toAbsolutePath());
        return 0;
    }

    private HistoryTable readFile() throws java.io.IOException {
        if (input == null) {
            throw new IllegalArgumentException(
                    "give --input FILE, or --kafka-topic with --from and --to");
        }
        return HistoryTable.read(
                input,
                new HistoryTable.Options(
                        labelColumn,
                        keyColumn,
                        timeColumn,
                        Set.copyOf(excludeColumns),
                        positiveLabel,
                        task == null ? null : Task.parse(task)));
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
                        bootstrapServers,
                        kafkaTopic,
                        instant("--from", from),
                        instant("--to", to),
                        task == null ? null : Task.parse(task));
        if (result.rejected() > 0) {
            System.out.printf(
                    "%d records in the range were not valid events (left out), e.g. %s%n",
                    result.rejected(), result.firstReasons());
        }
        return result.table();
    }

    private static long instant(String flag, String text) {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            try {
                return java.time.Instant.parse(text.trim()).toEpochMilli();
            } catch (java.time.format.DateTimeParseException again) {
                throw new IllegalArgumentException(
                        flag
                                + " '"
                                + text
                                + "' is neither epoch milliseconds nor an ISO instant such as 2026-11-28T10:00:00Z");
            }
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
