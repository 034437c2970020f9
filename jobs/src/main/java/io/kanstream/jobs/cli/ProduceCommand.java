package io.kanstream.jobs.cli;

import io.kanstream.jobs.chaos.FuzzRecords;
import io.kanstream.jobs.chaos.FuzzSender;
import io.kanstream.jobs.produce.EventFile;
import io.kanstream.jobs.produce.EventSender;
import io.kanstream.jobs.produce.SyntheticDrift;
import io.kanstream.kan.Task;
import io.kanstream.stream.Event;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "produce",
        mixinStandardHelpOptions = true,
        description = {
            "Send events to Kafka at a given rate: a CSV (header row) or JSONL file, or a synthetic"
                    + " stream whose concept changes abruptly (--synthetic drift).",
            "Labels travel inline, or with --labels-topic on their own topic after --label-delay;"
                    + " --label-fraction withholds the rest for good. Event ids are deterministic"
                    + " (seed and index, or file name and row), so a re-send repeats the same ids."
        })
final class ProduceCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @ArgGroup(multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--file", description = "Events file: .csv with a header row, or .jsonl.")
        Path file;

        @Option(
                names = "--synthetic",
                description = "Synthetic stream kind: drift (the only one so far).")
        String synthetic;

        @Option(
                names = "--fuzz",
                description =
                        "Send this many mutated event records (truncated, bit-flipped, wrong types,"
                                + " huge numbers, deep nesting, oversized, not JSON, empty),"
                                + " each marked with a kanstream-fuzz header.")
        Long fuzz;
    }

    @Option(
            names = "--oversized-bytes",
            defaultValue = "200000",
            description =
                    "Fuzz: size of an oversized record, above the job's --max-record-bytes and"
                            + " below the broker's 1 MB (default ${DEFAULT-VALUE}).")
    int oversizedBytes;

    @Mixin KafkaOptions kafka;

    @Option(
            names = "--events-topic",
            defaultValue = "events",
            description = "Where events go (default ${DEFAULT-VALUE}).")
    String eventsTopic;

    @Option(
            names = "--labels-topic",
            description = "Send labels here, --label-delay after their event; default: inline.")
    String labelsTopic;

    @Option(
            names = "--label-delay",
            defaultValue = "2s",
            converter = DurationConverter.class,
            description = "Delay of labels on --labels-topic (default ${DEFAULT-VALUE}).")
    Duration labelDelay;

    @Option(
            names = "--label-fraction",
            defaultValue = "1.0",
            description = "Fraction of labels sent at all (default ${DEFAULT-VALUE}).")
    double labelFraction;

    @Option(
            names = "--rate",
            defaultValue = "100",
            description =
                    "Events per second; 0 for as fast as possible (default ${DEFAULT-VALUE}).")
    double rate;

    @Option(
            names = "--count",
            description = "Events to send (default: the whole file; 10000 synthetic).")
    Long count;

    @Option(
            names = "--keys",
            defaultValue = "4",
            description = "Synthetic: model keys (default ${DEFAULT-VALUE}).")
    int keys;

    @Option(
            names = "--features",
            defaultValue = "4",
            description =
                    "Synthetic: features per event (default ${DEFAULT-VALUE}, the input width of"
                            + " `run`'s default layers).")
    int features;

    @Option(
            names = "--task",
            defaultValue = "regression",
            description = "Synthetic: regression|binary (default ${DEFAULT-VALUE}).")
    String task;

    @Option(
            names = "--drift-at",
            description =
                    "Synthetic: index of the first event of the new concept (default: count/2).")
    Long driftAt;

    @Option(
            names = "--noise",
            defaultValue = "0.05",
            description = "Synthetic: label noise standard deviation (default ${DEFAULT-VALUE}).")
    double noise;

    @Option(
            names = "--seed",
            defaultValue = "42",
            description = "Synthetic: seed, part of every id (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(
            names = "--start-index",
            defaultValue = "0",
            description = "Synthetic: index of the first event sent (default ${DEFAULT-VALUE}).")
    long startIndex;

    @Option(
            names = "--label-column",
            description = "CSV: the label column (default: 'label' if there is one).")
    String labelColumn;

    @Option(names = "--key-column", description = "CSV: the model key column (default: none).")
    String keyColumn;

    @Option(
            names = "--id-column",
            description = "CSV: the event id column (default: <file name>-<row>).")
    String idColumn;

    @Option(
            names = "--ts-column",
            description = "CSV: event time column, epoch ms (default: the time of sending).")
    String tsColumn;

    @Override
    public Integer call() throws Exception {
        EventSender.Settings settings =
                new EventSender.Settings(eventsTopic, labelsTopic, labelDelay, labelFraction, rate);
        // each kind of input is checked before Kafka is: bad input is named without waiting on it
        if (source.file != null) {
            try (EventFile file =
                            EventFile.open(
                                    source.file,
                                    new EventFile.Columns(
                                            labelColumn, keyColumn, idColumn, tsColumn));
                    EventSender sender = new EventSender(kafka.checkedConnection(), settings)) {
                report(sender.send(file, count == null ? Long.MAX_VALUE : count));
            }
            return 0;
        }
        if (source.fuzz != null) {
            if (source.fuzz < 0) {
                throw new IllegalArgumentException("--fuzz must be >= 0, got " + source.fuzz);
            }
            Map<FuzzRecords.Kind, Long> sent =
                    FuzzSender.send(
                            kafka.checkedConnection(),
                            eventsTopic,
                            new FuzzRecords(seed, features, oversizedBytes),
                            source.fuzz,
                            rate);
            spec.commandLine()
                    .getOut()
                    .printf(
                            Locale.ROOT,
                            "sent %d fuzz records to %s: %s%n",
                            source.fuzz,
                            eventsTopic,
                            sent);
            return 0;
        }
        if (!"drift".equals(source.synthetic.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException(
                    "--synthetic "
                            + source.synthetic
                            + " is unknown: the synthetic stream is drift");
        }
        long n = count == null ? 10_000 : count;
        if (n < 0 || startIndex < 0) {
            throw new IllegalArgumentException("--count and --start-index must be >= 0");
        }
        SyntheticDrift drift =
                new SyntheticDrift(
                        keys,
                        features,
                        driftAt == null ? startIndex + n / 2 : driftAt,
                        Task.parse(task),
                        noise,
                        seed);
        Iterator<Event> events =
                new Iterator<>() {
                    long next = startIndex;

                    @Override
                    public boolean hasNext() {
                        return next < startIndex + n;
                    }

                    @Override
                    public Event next() {
                        return drift.event(next++, System.currentTimeMillis());
                    }
                };
        try (EventSender sender = new EventSender(kafka.checkedConnection(), settings)) {
            report(sender.send(events, n));
        }
        return 0;
    }

    private void report(EventSender.Summary s) {
        spec.commandLine()
                .getOut()
                .printf(
                        Locale.ROOT,
                        "sent %d events to %s (%d labeled inline)%s in %.1f s%n",
                        s.events(),
                        eventsTopic,
                        s.labeledInline(),
                        labelsTopic == null
                                ? ""
                                : String.format(
                                        Locale.ROOT,
                                        ", %d labels to %s (%d withheld)",
                                        s.labelsSent(),
                                        labelsTopic,
                                        s.labelsWithheld()),
                        s.took().toMillis() / 1000.0);
    }
}
