import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The eyes of scripts/demo.sh: one small program, run against the jobs module's runtime classpath
 * (kafka-clients and Jackson come from there), so the demo needs no jq, no console consumer
 * pipeline and no change to the command line. Not part of the Maven build; demo.sh compiles it
 * with javac into its state dir.
 *
 * <pre>
 * watch   --bootstrap-servers B --topic metrics --save F [--job-log L] [--every 5] [--expected N]
 *         follows the metrics topic (read_committed, so only what a checkpoint committed), saves
 *         every record to F as JSON lines and prints live progress until it is stopped (SIGTERM)
 * dump    --bootstrap-servers B --topic events --out stream.csv
 *         copies the topic as it is now into a CSV that `kanstream replay` reads, in the order the
 *         producer sent it (ids s&lt;seed&gt;-&lt;index&gt;)
 * summary --metrics F
 *         per key: the rolling metric of the first record, before the drift, at the drift, last
 * </pre>
 */
public final class DemoMonitor {
    private static final PrintStream OUT = System.out;

    private DemoMonitor() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            throw new IllegalArgumentException("usage: DemoMonitor watch|dump|summary [--flag value]...");
        }
        Map<String, String> flags = flags(args);
        switch (args[0]) {
            case "watch" -> watch(flags);
            case "dump" -> dump(flags);
            case "summary" -> System.exit(summary(Path.of(need(flags, "--metrics"))));
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }

    // ------------------------------------------------------------------------------------------
    // watch
    // ------------------------------------------------------------------------------------------

    private static void watch(Map<String, String> flags) throws Exception {
        String topic = need(flags, "--topic");
        Path save = Path.of(need(flags, "--save"));
        Path jobLog = flags.containsKey("--job-log") ? Path.of(flags.get("--job-log")) : null;
        long everyMs = (long) (Double.parseDouble(flags.getOrDefault("--every", "5")) * 1000);
        long expected = Long.parseLong(flags.getOrDefault("--expected", "0"));
        long started = System.currentTimeMillis();
        Keys keys = new Keys();
        JobLog job = new JobLog(jobLog);
        CountDownLatch stopped = new CountDownLatch(1);
        try (KafkaConsumer<String, String> consumer = consumer(need(flags, "--bootstrap-servers"));
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
                assignFromBeginning(consumer, topic);
                OUT.printf(
                        "%s watching topic %s (read_committed: a record shows once the checkpoint"
                                + " covering it commits)%n",
                        clock(started),
                        topic);
                long nextStatus = started + everyMs;
                while (true) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                        if (r.value() == null) {
                            continue;
                        }
                        saved.write(r.value());
                        saved.newLine();
                        Metric m = Metric.parse(r.value());
                        if (m != null) {
                            String happened = keys.add(m);
                            if (happened != null) {
                                OUT.printf("%s %s%n", clock(started), happened);
                            }
                        }
                    }
                    saved.flush();
                    long now = System.currentTimeMillis();
                    if (now >= nextStatus) {
                        job.refresh();
                        status(started, keys, job, expected);
                        nextStatus = now + everyMs;
                    }
                }
            } catch (WakeupException e) {
                // stopped by SIGTERM/SIGINT: the try-with-resources flushes what was saved
            }
        } finally {
            stopped.countDown();
        }
    }

    private static void status(long started, Keys keys, JobLog job, long expected) {
        // The job's progress line comes from accumulators (with task heartbeats), the metric
        // records with checkpoints: show whichever has seen more.
        long scored = job.events;
        long labeled = 0;
        long steps = 0;
        long reported = 0;
        for (KeyTrack k : keys.all.values()) {
            reported += k.last.events;
            labeled += k.last.labeled;
            steps += k.last.steps;
        }
        scored = Math.max(scored, keys.all.isEmpty() ? -1 : reported);
        StringBuilder line = new StringBuilder(clock(started)).append(' ');
        if (scored >= 0) {
            line.append(String.format(Locale.ROOT, "scored %,d events", scored));
            if (expected > 0) {
                line.append(String.format(Locale.ROOT, " of %,d", expected));
            }
            if (job.events >= 0) {
                line.append(String.format(Locale.ROOT, " (%,d/s)", job.rate));
            }
        } else {
            line.append("job starting");
        }
        if (!keys.all.isEmpty()) {
            line.append(
                    String.format(
                            Locale.ROOT, " | learned from %,d labels in %,d steps", labeled, steps));
        }
        if (job.checkpoint != null) {
            line.append(" | checkpoint ").append(job.checkpoint);
        }
        OUT.println(line);
        if (keys.all.isEmpty()) {
            OUT.println(
                    "         (no metric record committed yet: each key reports every 100 labels)");
            return;
        }
        String metric = keys.all.values().iterator().next().last.metricName;
        OUT.printf(
                "         %-8s %8s %6s  %9s -> %-7s %9s %5s%n",
                "key", "labeled", "steps", metric + "@1st", "now", "no-change", "grid");
        for (KeyTrack k : keys.all.values()) {
            Metric last = k.last;
            String state = last.drift ? "  DRIFT: adapting" : (k.drifts > 0 ? "  recovered" : "");
            OUT.printf(
                    Locale.ROOT,
                    "         %-8s %,8d %,6d  %9s -> %-7s %9s %5d%s%n",
                    k.key,
                    last.labeled,
                    last.steps,
                    fmt(k.first.value),
                    fmt(last.value),
                    fmt(last.baseline),
                    last.gridEpoch,
                    state);
        }
    }

    private static KafkaConsumer<String, String> consumer(String bootstrap) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "kanstream-demo-monitor");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        return new KafkaConsumer<>(p);
    }

    /** No consumer group: the demo reads every partition itself, from the start. */
    private static List<TopicPartition> assignFromBeginning(
            KafkaConsumer<String, String> consumer, String topic) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        List<PartitionInfo> infos;
        while ((infos = consumer.partitionsFor(topic, Duration.ofSeconds(10))) == null
                || infos.isEmpty()) {
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("topic " + topic + " does not exist after 60 s");
            }
            Thread.sleep(500);
        }
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo info : infos) {
            partitions.add(new TopicPartition(topic, info.partition()));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return partitions;
    }

    /** The newest progress line of `kanstream run`: events scored, rate, newest checkpoint. */
    private static final class JobLog {
        private static final Pattern PROGRESS =
                Pattern.compile("events (\\d+) \\((\\d+)/s\\).*?(?:newest checkpoint (\\S+))?$");
        private final Path file;
        private long offset;
        long events = -1;
        long rate;
        String checkpoint;

        JobLog(Path file) {
            this.file = file;
        }

        void refresh() {
            if (file == null || !Files.exists(file)) {
                return;
            }
            try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
                if (in.length() < offset) {
                    offset = 0;
                }
                in.seek(offset);
                byte[] bytes = new byte[(int) Math.min(in.length() - offset, 1 << 20)];
                in.readFully(bytes);
                String text = new String(bytes, StandardCharsets.UTF_8);
                int end = text.lastIndexOf('\n');
                if (end < 0) {
                    return;
                }
                offset += text.substring(0, end + 1).getBytes(StandardCharsets.UTF_8).length;
                for (String line : text.substring(0, end).split("\n")) {
                    Matcher m = PROGRESS.matcher(line.trim());
                    if (m.find()) {
                        events = Long.parseLong(m.group(1));
                        rate = Long.parseLong(m.group(2));
                        if (m.group(3) != null) {
                            checkpoint = m.group(3);
                        }
                    }
                }
            } catch (IOException e) {
                // the job's log is a nicety; the metrics are what counts
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // dump
    // ------------------------------------------------------------------------------------------

    private static void dump(Map<String, String> flags) throws Exception {
        String topic = need(flags, "--topic");
        Path out = Path.of(need(flags, "--out"));
        ObjectMapper json = new ObjectMapper();
        List<Row> rows = new ArrayList<>();
        int width = -1;
        try (KafkaConsumer<String, String> consumer = consumer(need(flags, "--bootstrap-servers"))) {
            List<TopicPartition> partitions = assignFromBeginning(consumer, topic);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            long deadline = System.currentTimeMillis() + 120_000;
            while (!caughtUp(consumer, end)) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("could not read " + topic + " to its end in 120 s");
                }
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.value() == null) {
                        continue;
                    }
                    JsonNode e = json.readTree(r.value());
                    JsonNode features = e.path("features");
                    if (!features.isArray() || !e.hasNonNull("label")) {
                        continue; // the demo's producer only sends labeled events
                    }
                    if (width < 0) {
                        width = features.size();
                    } else if (features.size() != width) {
                        continue; // the job dead-letters these too
                    }
                    double[] x = new double[width];
                    for (int i = 0; i < width; i++) {
                        x[i] = features.get(i).asDouble();
                    }
                    String id = e.path("id").asText();
                    rows.add(
                            new Row(
                                    index(id),
                                    r.partition(),
                                    r.offset(),
                                    id,
                                    e.path("key").asText("default"),
                                    e.path("ts").asLong(r.timestamp()),
                                    x,
                                    e.get("label").asText()));
                }
            }
        }
        // The order the producer sent: its ids count up. Partitions interleave otherwise.
        rows.sort(
                Comparator.comparingLong((Row r) -> r.index)
                        .thenComparingLong(r -> r.ts)
                        .thenComparingInt(r -> r.partition)
                        .thenComparingLong(r -> r.offset));
        try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            StringBuilder header = new StringBuilder("id,key,ts");
            for (int i = 0; i < Math.max(width, 0); i++) {
                header.append(",x").append(i);
            }
            w.write(header.append(",label").toString());
            w.newLine();
            for (Row r : rows) {
                StringBuilder line = new StringBuilder();
                line.append(r.id).append(',').append(r.key).append(',').append(r.ts);
                for (double v : r.features) {
                    line.append(',').append(v);
                }
                w.write(line.append(',').append(r.label).toString());
                w.newLine();
            }
        }
        OUT.printf("%,d events from topic %s -> %s%n", rows.size(), topic, out);
    }

    private static boolean caughtUp(
            KafkaConsumer<String, String> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private static boolean better(boolean lowerIsBetter, double a, double b) {
        return lowerIsBetter ? a < b : a > b;
    }

    /** The index in a synthetic id {@code s<seed>-<index>}; Long.MAX_VALUE for other ids. */
    private static long index(String id) {
        int dash = id.lastIndexOf('-');
        try {
            return Long.parseLong(id.substring(dash + 1));
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    private record Row(
            long index,
            int partition,
            long offset,
            String id,
            String key,
            long ts,
            double[] features,
            String label) {}

    // ------------------------------------------------------------------------------------------
    // summary
    // ------------------------------------------------------------------------------------------

    private static int summary(Path file) throws IOException {
        Keys keys = new Keys();
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                Metric m = Metric.parse(line);
                if (m != null) {
                    keys.add(m);
                }
            }
        }
        if (keys.all.isEmpty()) {
            OUT.println(
                    "No metric record was committed: a key reports after every 100 labels, visible"
                            + " once the next checkpoint commits (stopped too early, or see the"
                            + " job's log).");
            return 1;
        }
        String metric = keys.all.values().iterator().next().last.metricName;
        boolean lowerIsBetter = "rmse".equals(metric) || "loss".equals(metric);
        OUT.printf(
                "Rolling %s per key, each over the key's last 100 labeled events, scored before the"
                        + " model learned from them (%s is better):%n",
                metric,
                lowerIsBetter ? "lower" : "higher");
        OUT.printf(
                "  %-8s %8s %6s  %7s %13s %9s %7s %10s %7s %7s%n",
                "key", "labeled", "steps", "first", "before drift", "at drift", "last",
                "no-change", "drifts", "refits");
        int better = 0;
        int learnedBefore = 0;
        int recovering = 0;
        int drifted = 0;
        double firstSum = 0;
        double lastSum = 0;
        double firstDriftedSum = 0;
        double beforeSum = 0;
        double atSum = 0;
        double lastDriftedSum = 0;
        for (KeyTrack k : keys.all.values()) {
            Metric last = k.lastFull();
            OUT.printf(
                    Locale.ROOT,
                    "  %-8s %,8d %,6d  %7s %13s %9s %7s %10s %7d %7d%n",
                    k.key,
                    k.last.labeled,
                    k.last.steps,
                    fmt(k.first.value),
                    k.beforeDrift == null ? "-" : fmt(k.beforeDrift.value),
                    k.atDrift == null ? "-" : fmt(k.atDrift.value),
                    fmt(last.value),
                    fmt(last.baseline),
                    k.drifts,
                    k.last.refits);
            if (better(lowerIsBetter, last.value, k.first.value)) {
                better++;
            }
            firstSum += k.first.value;
            lastSum += last.value;
            if (k.atDrift != null) {
                drifted++;
                firstDriftedSum += k.first.value;
                beforeSum += k.beforeDrift.value;
                atSum += k.atDrift.value;
                lastDriftedSum += last.value;
                if (better(lowerIsBetter, k.beforeDrift.value, k.first.value)) {
                    learnedBefore++;
                }
                if (better(lowerIsBetter, last.value, k.atDrift.value)) {
                    recovering++;
                }
            }
        }
        int n = keys.all.size();
        OUT.printf(
                Locale.ROOT,
                "%s: on %d of %d keys the last rolling %s is better than the first (mean %s -> %s).%n",
                better == n ? "The models learned" : better > 0 ? "Partly learned" : "Not better yet",
                better,
                n,
                metric,
                fmt(firstSum / n),
                fmt(lastSum / n));
        if (drifted > 0) {
            OUT.printf(
                    Locale.ROOT,
                    "Drift: the detector fired on %d of %d keys. Up to its first signal those"
                            + " models had improved on %d (mean %s -> %s); at the signal they stood"
                            + " at %s, and since then they improved on %d (now %s).%n",
                    drifted,
                    n,
                    learnedBefore,
                    fmt(firstDriftedSum / drifted),
                    fmt(beforeSum / drifted),
                    fmt(atSum / drifted),
                    recovering,
                    fmt(lastDriftedSum / drifted));
        }
        return 0;
    }

    // ------------------------------------------------------------------------------------------
    // metric records and what a key went through
    // ------------------------------------------------------------------------------------------

    /** The parts of a metric record the demo shows; NaN (JSON null) where undefined. */
    private record Metric(
            String key,
            long events,
            long labeled,
            long steps,
            String metricName,
            double value,
            double baseline,
            long samples,
            int gridEpoch,
            long refits,
            boolean drift) {
        private static final ObjectMapper JSON = new ObjectMapper();

        static Metric parse(String line) {
            try {
                JsonNode n = JSON.readTree(line);
                if (n == null || !n.hasNonNull("key")) {
                    return null;
                }
                return new Metric(
                        n.get("key").asText(),
                        n.path("events").asLong(),
                        n.path("labeled").asLong(),
                        n.path("steps").asLong(),
                        n.path("metricName").asText("metric"),
                        number(n, "metricValue"),
                        number(n, "baselineValue"),
                        n.path("metricSamples").asLong(),
                        n.path("gridEpoch").asInt(),
                        n.path("gridEpoch").asLong(),
                        n.path("drift").asBoolean());
            } catch (IOException e) {
                return null;
            }
        }

        private static double number(JsonNode n, String field) {
            JsonNode v = n.get(field);
            return v == null || v.isNull() ? Double.NaN : v.asDouble();
        }
    }

    private static final class Keys {
        final Map<String, KeyTrack> all = new TreeMap<>();

        /** Takes a record; returns a line worth printing at once (drift, refit), or null. */
        String add(Metric m) {
            KeyTrack k = all.get(m.key);
            if (k == null) {
                all.put(m.key, new KeyTrack(m));
                return null;
            }
            return k.add(m);
        }
    }

    private static final class KeyTrack {
        final String key;
        final Metric first;
        final List<Metric> history = new ArrayList<>();
        Metric last;
        Metric beforeDrift;
        Metric atDrift;
        int drifts;
        long maxSamples;

        KeyTrack(Metric first) {
            this.key = first.key;
            this.first = first;
            this.last = first;
            history.add(first);
            maxSamples = first.samples;
            if (first.drift) {
                drifts = 1;
                atDrift = first;
            }
        }

        String add(Metric m) {
            if (m.labeled < last.labeled) {
                return null; // a replayed record after a restore: already counted
            }
            Metric previous = last;
            last = m;
            history.add(m);
            maxSamples = Math.max(maxSamples, m.samples);
            List<String> said = new ArrayList<>();
            if (m.drift && !previous.drift) {
                drifts++;
                if (atDrift == null) {
                    atDrift = m;
                    beforeDrift = previous;
                }
                said.add(
                        String.format(
                                Locale.ROOT,
                                "!! drift on %s at %,d labels: rolling %s %s -> %s",
                                key,
                                m.labeled,
                                m.metricName,
                                fmt(previous.value),
                                fmt(m.value)));
            } else if (!m.drift && previous.drift) {
                said.add(
                        String.format(
                                Locale.ROOT,
                                "   %s: drift signal over at %,d labels, rolling %s %s",
                                key,
                                m.labeled,
                                m.metricName,
                                fmt(m.value)));
            }
            if (m.refits > previous.refits) {
                said.add(
                        said.isEmpty()
                                ? String.format(
                                        Locale.ROOT,
                                        "   grid refit on %s at %,d labels -> grid epoch %d",
                                        key,
                                        m.labeled,
                                        m.gridEpoch)
                                : "; grids refit -> grid epoch " + m.gridEpoch);
            }
            return said.isEmpty() ? null : String.join("", said);
        }

        /** The newest record over a full window (a drift makes the operator report early). */
        Metric lastFull() {
            for (int i = history.size() - 1; i >= 0; i--) {
                if (history.get(i).samples * 2 >= maxSamples) {
                    return history.get(i);
                }
            }
            return last;
        }
    }

    // ------------------------------------------------------------------------------------------

    private static Map<String, String> flags(String[] args) {
        Map<String, String> flags = new HashMap<>();
        for (int i = 1; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --flag value, got " + args[i]);
            }
            flags.put(args[i], args[i + 1]);
        }
        return flags;
    }

    private static String need(Map<String, String> flags, String name) {
        String v = flags.get(name);
        if (v == null) {
            throw new IllegalArgumentException("missing " + name);
        }
        return v;
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.3f", v);
    }

    private static String clock(long started) {
        long s = (System.currentTimeMillis() - started) / 1000;
        return String.format(Locale.ROOT, "[%d:%02d]", s / 60, s % 60);
    }
}
