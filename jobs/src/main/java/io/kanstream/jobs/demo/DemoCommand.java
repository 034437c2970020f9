package io.kanstream.jobs.demo;

import io.kanstream.jobs.chaos.TopicReader;
import io.kanstream.jobs.cli.KafkaOptions;
import io.kanstream.stream.Event;
import io.kanstream.stream.EventCodec;
import io.kanstream.stream.Metric;
import io.kanstream.stream.OutputCodec;
import io.kanstream.stream.Parsed;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The eyes of {@code scripts/demo.sh} and of docker-compose's monitor: follow the metrics topic
 * live, copy the events topic into a CSV that {@code replay} reads, and summarize what each key
 * learned.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = "What scripts/demo.sh and docker-compose's monitor show (see their help).",
        subcommands = {DemoCommand.Watch.class, DemoCommand.Dump.class, DemoCommand.Summary.class})
public final class DemoCommand implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }

    @Command(
            name = "watch",
            mixinStandardHelpOptions = true,
            description = {
                "Follow the metrics topic (read_committed: a record shows once the checkpoint"
                        + " covering it commits), save every record as a JSON line and print the"
                        + " per-key progress, drift signals and grid refits until stopped."
            })
    static final class Watch implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @CommandLine.Mixin KafkaOptions kafka;

        @Option(
                names = "--topic",
                defaultValue = "metrics",
                description = "(default ${DEFAULT-VALUE})")
        String topic;

        @Option(names = "--save", required = true, description = "JSON lines file, appended to.")
        Path save;

        @Option(names = "--job-log", description = "The job's log, for its progress lines.")
        Path jobLog;

        @Option(
                names = "--every",
                defaultValue = "5",
                description = "Seconds between status lines.")
        double every;

        @Option(
                names = "--expected",
                defaultValue = "0",
                description = "Events the stream will have.")
        long expected;

        @Override
        public Integer call() throws Exception {
            PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
            long started = System.currentTimeMillis();
            long everyMs = (long) (every * 1000);
            MetricHistory keys = new MetricHistory();
            JobProgressLog job = new JobProgressLog(jobLog);
            CountDownLatch stopped = new CountDownLatch(1);
            try (KafkaConsumer<byte[], byte[]> consumer =
                            TopicReader.consumer(kafka.connection(), "kanstream-demo-monitor");
                    BufferedWriter saved =
                            Files.newBufferedWriter(
                                    save,
                                    StandardCharsets.UTF_8,
                                    StandardOpenOption.CREATE,
                                    StandardOpenOption.APPEND)) {
                Thread main = Thread.currentThread();
                Runtime.getRuntime()
                        .addShutdownHook(
                                new Thread(
                                        () -> {
                                            consumer.wakeup();
                                            try {
                                                stopped.await();
                                            } catch (InterruptedException e) {
                                                main.interrupt();
                                            }
                                        }));
                try {
                    TopicReader.assignFromBeginning(consumer, topic, Duration.ofSeconds(60));
                    out.printf(
                            "%s watching topic %s (read_committed: a record shows once the"
                                    + " checkpoint covering it commits)%n",
                            clock(started), topic);
                    long nextStatus = started + everyMs;
                    while (true) {
                        for (ConsumerRecord<byte[], byte[]> r :
                                consumer.poll(Duration.ofMillis(500))) {
                            if (r.value() == null) {
                                continue;
                            }
                            saved.write(new String(r.value(), StandardCharsets.UTF_8));
                            saved.newLine();
                            if (OutputCodec.parseMetric(r.value())
                                    instanceof Parsed.Accepted<Metric> m) {
                                String happened = keys.add(m.value());
                                if (happened != null) {
                                    out.printf("%s %s%n", clock(started), happened);
                                }
                            }
                        }
                        saved.flush();
                        long now = System.currentTimeMillis();
                        if (now >= nextStatus) {
                            job.refresh();
                            status(out, started, keys, job);
                            nextStatus = now + everyMs;
                        }
                    }
                } catch (WakeupException e) {
                    // stopped by SIGTERM/SIGINT: try-with-resources flushes what was saved
                }
            } finally {
                stopped.countDown();
            }
            return 0;
        }

        private void status(PrintStream out, long started, MetricHistory keys, JobProgressLog job) {
            // The job's progress line comes from accumulators (with task heartbeats), the metric
            // records with checkpoints: show whichever has seen more.
            long scored = Math.max(job.events(), keys.eventsReported());
            StringBuilder line = new StringBuilder(clock(started)).append(' ');
            if (scored >= 0) {
                line.append(String.format(Locale.ROOT, "scored %,d events", scored));
                if (expected > 0) {
                    line.append(String.format(Locale.ROOT, " of %,d", expected));
                }
                if (job.events() >= 0) {
                    line.append(String.format(Locale.ROOT, " (%,d/s)", job.rate()));
                }
            } else {
                line.append("job starting");
            }
            if (job.checkpoint() != null) {
                line.append(" | checkpoint ").append(job.checkpoint());
            }
            out.println(line);
            if (keys.isEmpty()) {
                out.println("         (no metric record committed yet)");
                return;
            }
            keys.printStatus(out, "         ");
        }
    }

    @Command(
            name = "dump",
            mixinStandardHelpOptions = true,
            description =
                    "Copy the labeled events of a topic, as it is now, into a CSV that `kanstream"
                            + " replay` reads, in the order the producer sent them.")
    static final class Dump implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @CommandLine.Mixin KafkaOptions kafka;

        @Option(
                names = "--topic",
                defaultValue = "events",
                description = "(default ${DEFAULT-VALUE})")
        String topic;

        @Option(names = "--out", required = true, description = "The CSV to write.")
        Path out;

        @Option(
                names = "--features",
                defaultValue = "4",
                description = "Features per event, as the job expects (default ${DEFAULT-VALUE}).")
        int features;

        @Override
        public Integer call() throws Exception {
            EventCodec codec = new EventCodec();
            List<Row> rows = new ArrayList<>();
            TopicReader.readAll(
                    kafka.connection(),
                    topic,
                    Duration.ofSeconds(120),
                    r -> {
                        if (r.value() == null) {
                            return;
                        }
                        // the job's own parser, so the CSV holds exactly the events it scored
                        if (!(codec.parseEvent(r.value(), features, r.timestamp())
                                instanceof Parsed.Accepted<Event> parsed)) {
                            return;
                        }
                        Event e = parsed.value();
                        if (e.label() == null) {
                            return; // the demo's producer sends labeled events only
                        }
                        rows.add(new Row(index(e.id()), r.partition(), r.offset(), e));
                    });
            // The order the producer sent: its ids count up. Partitions interleave otherwise.
            rows.sort(
                    Comparator.comparingLong(Row::index)
                            .thenComparingLong(r -> r.event().ts())
                            .thenComparingInt(Row::partition)
                            .thenComparingLong(Row::offset));
            writeCsv(rows, features);
            spec.commandLine()
                    .getOut()
                    .printf(
                            Locale.ROOT,
                            "%,d events from topic %s -> %s%n",
                            rows.size(),
                            topic,
                            out);
            return 0;
        }

        private void writeCsv(List<Row> rows, int width) throws IOException {
            try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
                StringBuilder header = new StringBuilder("id,key,ts");
                for (int i = 0; i < width; i++) {
                    header.append(",x").append(i);
                }
                w.write(header.append(",label").toString());
                w.newLine();
                for (Row r : rows) {
                    Event e = r.event();
                    StringBuilder line = new StringBuilder();
                    line.append(e.id()).append(',').append(e.key()).append(',').append(e.ts());
                    for (float v : e.features()) {
                        line.append(',').append(v);
                    }
                    double label = e.label();
                    line.append(',')
                            .append(
                                    label == Math.rint(label)
                                            ? Long.toString((long) label)
                                            : Double.toString(label));
                    w.write(line.toString());
                    w.newLine();
                }
            }
        }

        /** The index in a synthetic id {@code s<seed>-<index>}; Long.MAX_VALUE for other ids. */
        static long index(String id) {
            int dash = id.lastIndexOf('-');
            try {
                return Long.parseLong(id.substring(dash + 1));
            } catch (NumberFormatException e) {
                return Long.MAX_VALUE;
            }
        }

        private record Row(long index, int partition, long offset, Event event) {}
    }

    @Command(
            name = "summary",
            mixinStandardHelpOptions = true,
            description =
                    "Per key, the rolling figure of its first record, before and at its first"
                            + " drift signal, and its last; exit 1 when there is no record.")
    static final class Summary implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Option(names = "--metrics", required = true, description = "JSON lines saved by watch.")
        Path metrics;

        @Override
        public Integer call() throws Exception {
            MetricHistory keys = new MetricHistory();
            if (Files.exists(metrics)) {
                for (String line : Files.readAllLines(metrics, StandardCharsets.UTF_8)) {
                    if (OutputCodec.parseMetric(line.getBytes(StandardCharsets.UTF_8))
                            instanceof Parsed.Accepted<Metric> m) {
                        keys.add(m.value());
                    }
                }
            }
            PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
            return keys.printSummary(out) ? 0 : 1;
        }
    }

    private static String clock(long started) {
        long s = (System.currentTimeMillis() - started) / 1000;
        return String.format(Locale.ROOT, "[%d:%02d]", s / 60, s % 60);
    }
}
