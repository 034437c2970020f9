package io.kanstream.jobs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kanstream.jobs.kafka.KafkaConnection;
import io.kanstream.jobs.online.OnlineJobConfig;
import io.kanstream.jobs.online.OnlineLearningJob;
import io.kanstream.jobs.produce.EventSender;
import io.kanstream.jobs.produce.SyntheticDrift;
import io.kanstream.kan.KanConfig;
import io.kanstream.kan.KanLearner;
import io.kanstream.kan.LearnerStateCodec;
import io.kanstream.kan.Task;
import io.kanstream.stream.Event;
import io.kanstream.stream.OnlineKanConfig;
import io.kanstream.stream.OutputCodec;
import io.kanstream.stream.Score;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.ToDoubleFunction;
import org.apache.commons.math3.stat.descriptive.rank.Median;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Parts 2 and 3 of the benchmark: the whole job, broker → Flink → broker, on this machine.
 *
 * <p>For each key count the learning job and a pass-through job (same sources, parsing, keying,
 * sinks and JSON, no model; {@link OnlineLearningJob#startPassThrough}) run one after the other on
 * fresh topics of one broker:
 *
 * <ol>
 *   <li>throughput: a backlog of labeled events is produced first, the job started, and the rate
 *       read off the scores' broker append times ({@code LogAppendTime}), the first tenth left out
 *       as warm-up;
 *   <li>latency: then, the job caught up, events are produced at a steady rate, the same for both
 *       jobs, and each score's latency is its append time minus its event's timestamp (both stamped
 *       by this machine's clock), read {@code read_uncommitted}: when the score was written, not
 *       when the checkpoint committed it.
 * </ol>
 *
 * <p>The state part runs the learning job over one labeled event per key and reads Flink's own
 * statistics of the next completed checkpoint through its REST API: checkpoint size over keys, and
 * its duration.
 *
 * <p>The steady part ({@link #steady}) measures many keys once every key has its model: per key
 * count and state backend, a backlog whose first event of every key comes first (the new-key rate,
 * its own figure) and at least {@code steadyEventsPerKey} more events per key after it (the steady
 * rate), beside the pass-through job over as many events and keys in the same run.
 */
public final class PipelineBench {
    /**
     * @param keys the key counts of the pipeline rows
     * @param events backlog per throughput phase
     * @param eventsPerKey the backlog is at least this many events per key
     * @param latencyRate events/s of the latency phase, at most half the learning job's throughput
     * @param latencyTime how long the latency phase produces
     * @param stateKeys the key counts of the state rows
     * @param parallelism of both jobs
     * @param checkpointInterval of both jobs
     * @param warmupEvents backlog each job runs over once before anything is measured
     * @param steady the key counts and state backends of the steady rows
     * @param steadyEventsPerKey events per key after each key's first, at least
     * @param steadyCheckpointInterval of both jobs in the steady rows: longer than the pipeline
     *     rows', as a job holding 100,000 keys' state is run (measured here, 300 keys on RocksDB:
     *     checkpoints every 2 s held the job to a fifteenth of its rate without them)
     * @param steadyMinEvents a steady row's backlog is at least this long, so that its steady phase
     *     spans seconds even over few keys
     * @param steadyRounds how often every steady row runs, the rows' rounds interleaved (all rows
     *     once, then all again); a row's figures are the medians of its rounds
     */
    public record Settings(
            List<Integer> keys,
            long events,
            int eventsPerKey,
            double latencyRate,
            Duration latencyTime,
            List<Integer> stateKeys,
            int parallelism,
            Duration checkpointInterval,
            long warmupEvents,
            List<SteadyCase> steady,
            int steadyEventsPerKey,
            Duration steadyCheckpointInterval,
            long steadyMinEvents,
            int steadyRounds) {
        public Settings {
            steady = List.copyOf(steady);
            if (steadyEventsPerKey < 1) {
                throw new IllegalArgumentException(
                        "steady events per key must be at least 1, got " + steadyEventsPerKey);
            }
            if (steadyRounds < 1) {
                throw new IllegalArgumentException(
                        "steady rounds must be at least 1, got " + steadyRounds);
            }
            if (steadyMinEvents < 0) {
                throw new IllegalArgumentException(
                        "steady min events must be at least 0, got " + steadyMinEvents);
            }
        }

        public static Settings quick() {
            return new Settings(
                    List.of(1, 100, 10_000),
                    120_000,
                    2,
                    500,
                    Duration.ofSeconds(8),
                    List.of(10_000),
                    2,
                    Duration.ofSeconds(2),
                    250_000,
                    SteadyCase.parseAll("hashmap:100,hashmap:10000,rocksdb:100,rocksdb:100000"),
                    20,
                    Duration.ofSeconds(30),
                    600_000,
                    3);
        }

        public static Settings full() {
            return new Settings(
                    List.of(1, 100, 10_000),
                    300_000,
                    10,
                    1_000,
                    Duration.ofSeconds(30),
                    List.of(10_000, 100_000),
                    2,
                    Duration.ofSeconds(2),
                    100_000,
                    SteadyCase.parseAll(
                            "hashmap:100,hashmap:1000,hashmap:10000,"
                                    + "rocksdb:100,rocksdb:1000,rocksdb:10000,rocksdb:100000"),
                    20,
                    Duration.ofSeconds(30),
                    1_000_000,
                    3);
        }
    }

    /**
     * One steady row's key count, state backend, bundle size (0: no bundles) and whether each key
     * scores with its own model alone ({@code --no-population}), written {@code backend:keys}, then
     * {@code :bundle} or {@code :own} or both, or {@code :companion} for the shared model beside a
     * slow companion ({@code --shared-companion 0.33}). A null backend is the pass-through job.
     */
    public record SteadyCase(
            OnlineJobConfig.StateBackend backend,
            int keys,
            int bundleSize,
            boolean ownModels,
            boolean sharedCompanion) {
        public SteadyCase {
            if (keys < 1) {
                throw new IllegalArgumentException(
                        "a steady row needs at least 1 key, got " + keys);
            }
            if (bundleSize < 0) {
                throw new IllegalArgumentException(
                        "a steady row's bundle size must be >= 0, got " + bundleSize);
            }
        }

        public SteadyCase(OnlineJobConfig.StateBackend backend, int keys) {
            this(backend, keys, 0, false);
        }

        public SteadyCase(
                OnlineJobConfig.StateBackend backend, int keys, int bundleSize, boolean ownModels) {
            this(backend, keys, bundleSize, ownModels, false);
        }

        /**
         * {@code hashmap:10000,rocksdb:100000,hashmap:10000:256,hashmap:100:own}: a backend and a
         * key count, then a bundle size and {@code own} (each key's own model alone, without the
         * model a subtask's keys share by default) or {@code companion} (the shared model beside a
         * slow companion at a third of the rate) in either order.
         */
        public static List<SteadyCase> parseAll(String text) {
            List<SteadyCase> cases = new ArrayList<>();
            for (String item : text.split(",")) {
                String[] parts = item.trim().split(":");
                if (parts.length < 2 || parts.length > 4) {
                    throw new IllegalArgumentException(
                            "steady row '"
                                    + item
                                    + "' must be backend:keys, then a bundle size or 'own' (or"
                                    + " 'companion') or both, e.g. rocksdb:100000 or hashmap:100:own");
                }
                int keys = number(item, "keys", parts[1]);
                int bundle = 0;
                boolean own = false;
                boolean companion = false;
                for (int p = 2; p < parts.length; p++) {
                    if (parts[p].trim().equals("own")) {
                        own = true;
                    } else if (parts[p].trim().equals("companion")) {
                        companion = true;
                    } else {
                        bundle = number(item, "bundle size", parts[p]);
                    }
                }
                cases.add(
                        new SteadyCase(
                                OnlineJobConfig.StateBackend.parse(parts[0]),
                                keys,
                                bundle,
                                own,
                                companion));
            }
            return cases;
        }

        private static int number(String item, String what, String text) {
            try {
                return Integer.parseInt(text.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        "steady row '" + item + "': " + what + " '" + text + "' is not a number");
            }
        }
    }

    /**
     * Many keys, each with its model: one key count on one state backend beside the pass-through
     * job over as many events and keys.
     *
     * @param events the learning job's backlog: each key's first event, then the steady events
     * @param newKeyEventsPerS the rate of the first {@code keys} scores: each builds a key's model
     *     and state (over few keys, e.g. 100, a figure of milliseconds: read it at 1,000 and up)
     * @param newKeyRatioVsPassthrough that over the pass-through job's rate
     * @param eventsPerS the rate once every key has its model, the first tenth of those left out
     * @param passthroughEventsPerS the pass-through job over as many events and keys, same run
     * @param ratioVsPassthrough the steady rate over the pass-through rate
     * @param eventsPerCpuS the steady rate per second of this process's CPU time
     * @param cpuRatioVsPassthrough the same ratio per CPU second
     * @param checkpointInterval of both jobs (ISO-8601)
     * @param bundleSize the learning job's {@code --bundle-size} (0: every input processed at once)
     * @param ownModels each key's score its own model's: the job ran with {@code --no-population}
     * @param sharedCompanion the shared model learned beside a slow companion ({@code
     *     --shared-companion 0.33})
     * @param roundEventsPerS the steady rate of each round, in the order they ran; {@code
     *     eventsPerS} is their median
     * @param roundPassthroughEventsPerS the pass-through job's, likewise
     */
    public record SteadyRow(
            int keys,
            String stateBackend,
            long events,
            double newKeyEventsPerS,
            double newKeyRatioVsPassthrough,
            double eventsPerS,
            double passthroughEventsPerS,
            double ratioVsPassthrough,
            double eventsPerCpuS,
            double passthroughEventsPerCpuS,
            double cpuRatioVsPassthrough,
            int parallelism,
            String checkpointInterval,
            int bundleSize,
            boolean ownModels,
            boolean sharedCompanion,
            double[] roundEventsPerS,
            double[] roundPassthroughEventsPerS) {}

    /**
     * One key count: the learning job beside the pass-through job.
     *
     * @param events backlog of the learning job's throughput phase
     * @param passthroughEvents backlog of the pass-through job's
     * @param eventsPerS the learning job's sustained rate
     * @param passthroughEventsPerS the pass-through job's, in the same run
     * @param ratioVsPassthrough the first over the second
     * @param eventsPerCpuS the learning job's events per second of this process's CPU time (the
     *     job, and the score reader that runs alongside both jobs alike): what the code costs,
     *     whatever else held the cores
     * @param cpuRatioVsPassthrough the same ratio per CPU second
     * @param latencyRatePerS the steady rate both latency phases produced at
     * @param p50Ms the learning job's end-to-end latency, median
     * @param p99Ms its 99th percentile
     */
    public record Row(
            int keys,
            long events,
            long passthroughEvents,
            double eventsPerS,
            double passthroughEventsPerS,
            double ratioVsPassthrough,
            double eventsPerCpuS,
            double passthroughEventsPerCpuS,
            double cpuRatioVsPassthrough,
            double latencyRatePerS,
            long latencySamples,
            double p50Ms,
            double p99Ms,
            double maxMs,
            double passthroughP50Ms,
            double passthroughP99Ms,
            int parallelism) {}

    /**
     * @param keys live keys when the checkpoint was taken
     * @param checkpointBytes full size of the job's state in that checkpoint (Flink's {@code
     *     state_size})
     * @param bytesPerKey that over keys
     * @param learnerBytes one fresh learner's encoded state, the bulk of a key's state
     * @param checkpointMs the checkpoint's end-to-end duration
     * @param stateBackend where keyed state lived
     */
    public record StateRow(
            int keys,
            long checkpointBytes,
            double bytesPerKey,
            long learnerBytes,
            long checkpointId,
            double checkpointMs,
            double checkpointAsyncMs,
            double checkpointSyncMs,
            String stateBackend) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicLong RUNS = new AtomicLong();

    private final Settings settings;
    private final KafkaConnection kafka;
    private final Path workDir;
    private final PrintStream log;
    private final String runId = Long.toString(System.currentTimeMillis(), 36);
    private final List<String> failures = new ArrayList<>();
    private boolean warm;

    public PipelineBench(Settings settings, KafkaConnection kafka, Path workDir, PrintStream log) {
        this.settings = settings;
        this.kafka = kafka;
        this.workDir = workDir;
        this.log = log;
    }

    /** The learning job's model and operator settings: the job's defaults. */
    static OnlineKanConfig learner() {
        return OnlineJobConfig.defaultLearner();
    }

    public List<Row> pipeline() throws Exception {
        List<Row> rows = new ArrayList<>();
        if (!warmedUp("pipeline")) {
            return rows;
        }
        for (int keys : settings.keys()) {
            try {
                rows.add(pipelineRow(keys));
            } catch (Exception e) {
                failed("pipeline at " + keys + " keys", e);
            }
        }
        return rows;
    }

    /** Whether the warm-up ran; if not, what it failed with is one of the failures. */
    private boolean warmedUp(String part) {
        try {
            warmUp();
            return true;
        } catch (Exception e) {
            failed(part + " warm-up", e);
            return false;
        }
    }

    /** A part that failed; the others' figures stand. */
    private void failed(String part, Exception e) {
        failures.add(part + " failed: " + firstLine(e));
        log.printf("  failed: %s%n", causes(e));
    }

    /** What failed, one line each; empty when every part ran. */
    public List<String> failures() {
        return List.copyOf(failures);
    }

    /**
     * Runs both jobs once, unmeasured. The first job in a fresh JVM (and on a freshly started
     * broker) runs while the JIT compilers are busy with Flink's, Kafka's and Jackson's code, which
     * both jobs share: measured first, the learning job would pay for the pass-through job's
     * warm-up too.
     */
    private void warmUp() throws Exception {
        if (warm) {
            return;
        }
        warm = true;
        int keys = 100;
        log.printf(
                "pipeline warm-up: both jobs over %,d events each, not measured%n",
                settings.warmupEvents());
        phases(keys, settings.warmupEvents(), false, 0);
        phases(keys, settings.warmupEvents(), true, 0);
    }

    private Row pipelineRow(int keys) throws Exception {
        long n = Math.max(settings.events(), (long) settings.eventsPerKey() * keys);
        log.printf("pipeline, %,d keys: learning job over %,d events%n", keys, n);
        Phase kan = phases(keys, n, false, settings.latencyRate());
        double rate = Math.min(settings.latencyRate(), kan.eventsPerS / 2);
        if (rate < settings.latencyRate()) {
            // the learning job's latency was measured above its comfortable rate: again
            log.printf("  latency again at %.0f events/s, half the job's rate%n", rate);
            kan = phases(keys, n, false, rate);
        }
        // the pass-through job is faster: a longer backlog, so that its rate is measured over
        // seconds too
        long passN = 2 * n;
        log.printf("pipeline, %,d keys: pass-through job over %,d events%n", keys, passN);
        Phase pass = phases(keys, passN, true, rate);
        Row row =
                new Row(
                        keys,
                        n,
                        passN,
                        kan.eventsPerS,
                        pass.eventsPerS,
                        kan.eventsPerS / pass.eventsPerS,
                        kan.eventsPerCpuS,
                        pass.eventsPerCpuS,
                        kan.eventsPerCpuS / pass.eventsPerCpuS,
                        rate,
                        kan.latencies.length,
                        percentile(kan.latencies, 0.50),
                        percentile(kan.latencies, 0.99),
                        percentile(kan.latencies, 1.0),
                        percentile(pass.latencies, 0.50),
                        percentile(pass.latencies, 0.99),
                        settings.parallelism());
        log.printf(
                "  %,.0f events/s vs pass-through %,.0f (%.2f×; per CPU second %.2f×); p50"
                        + " %.1f ms, p99 %.1f ms (pass-through %.1f / %.1f) at %.0f events/s%n",
                row.eventsPerS(),
                row.passthroughEventsPerS(),
                row.ratioVsPassthrough(),
                row.cpuRatioVsPassthrough(),
                row.p50Ms(),
                row.p99Ms(),
                row.passthroughP50Ms(),
                row.passthroughP99Ms(),
                rate);
        return row;
    }

    public List<StateRow> state() throws Exception {
        long learnerBytes;
        try (KanLearner fresh = KanLearner.create(learner().model())) {
            learnerBytes = LearnerStateCodec.encode(fresh).length;
        }
        List<StateRow> rows = new ArrayList<>();
        for (int keys : settings.stateKeys()) {
            try {
                rows.add(stateRow(keys, learnerBytes));
            } catch (Exception e) {
                failed("state at " + keys + " keys", e);
            }
        }
        return rows;
    }

    private StateRow stateRow(int keys, long learnerBytes) throws Exception {
        log.printf("state, %,d keys: one labeled event per key, then a checkpoint%n", keys);
        Topics t = topics("state", keys);
        send(t, keys, keys, 0, () -> System.currentTimeMillis());
        int restPort = freePort();
        Configuration extra = new Configuration();
        extra.set(RestOptions.BIND_PORT, Integer.toString(restPort));
        extra.set(RestOptions.PORT, restPort);
        OnlineJobConfig config =
                allKeysLive(config(t, keys), keys, OnlineKanConfig.AUTO_BUNDLE_SIZE, false, false);
        JobClient job = OnlineLearningJob.start(config, false, extra);
        try {
            try (KafkaConsumer<byte[], byte[]> consumer = consumer(t.scores)) {
                collect(consumer, keys, Duration.ofMinutes(20), r -> {});
            }
            long seenAll = System.currentTimeMillis();
            JsonNode checkpoint = checkpointAfter(restPort, job, seenAll);
            long size = checkpoint.path("state_size").asLong();
            StateRow row =
                    new StateRow(
                            keys,
                            size,
                            (double) size / keys,
                            learnerBytes,
                            checkpoint.path("id").asLong(),
                            checkpoint.path("end_to_end_duration").asDouble(),
                            maxOverTasks(restPort, job, checkpoint, "async"),
                            maxOverTasks(restPort, job, checkpoint, "sync"),
                            config.stateBackend().flinkName());
            log.printf(
                    "  checkpoint %d: %,d bytes (%,.0f per key; a fresh learner encodes to"
                            + " %,d), %.0f ms%n",
                    row.checkpointId(),
                    row.checkpointBytes(),
                    row.bytesPerKey(),
                    learnerBytes,
                    row.checkpointMs());
            return row;
        } finally {
            job.cancel().get(2, TimeUnit.MINUTES);
        }
    }

    /**
     * The steady rows, in rounds: every row once, then every row again, and so on, so that each
     * row's rounds are spread over the run like every other row's, and a ratio of two rows' medians
     * compares the same stretch of the machine's time. Per key count one backlog is produced, and
     * every round of every job reads it from the start; the pass-through job runs once per key
     * count and round, shared by the backends.
     */
    public List<SteadyRow> steady() {
        List<SteadyRow> rows = new ArrayList<>();
        if (!warmedUp("steady")) {
            return rows;
        }
        List<SteadyCase> cases = settings.steady();
        List<List<SteadyPhase>> kan = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            kan.add(new ArrayList<>());
        }
        Map<Integer, List<SteadyPhase>> passThrough = new HashMap<>();
        Map<Integer, String> backlogs = new HashMap<>();
        Set<Integer> failedCases = new HashSet<>();
        try {
            steadyWarmUp(cases, backlogs);
        } catch (Exception e) {
            failed("steady warm-up", e);
            return rows;
        }
        for (int round = 1; round <= settings.steadyRounds(); round++) {
            Set<Integer> passedThisRound = new HashSet<>();
            for (int i = 0; i < cases.size(); i++) {
                SteadyCase c = cases.get(i);
                if (failedCases.contains(i)) {
                    continue;
                }
                try {
                    long n = steadyEvents(c.keys());
                    String backlog = backlogs.computeIfAbsent(c.keys(), k -> backlog(k, n));
                    log.printf("steady round %d of %d%n", round, settings.steadyRounds());
                    kan.get(i).add(steadyPhase(c, n, backlog));
                    if (passedThisRound.add(c.keys())) {
                        passThrough
                                .computeIfAbsent(c.keys(), k -> new ArrayList<>())
                                .add(steadyPhase(passThrough(c.keys()), n, backlog));
                    }
                } catch (Exception e) {
                    failed("steady at " + c.keys() + " keys on " + c.backend().flinkName(), e);
                    failedCases.add(i);
                }
            }
        }
        for (int i = 0; i < cases.size(); i++) {
            SteadyCase c = cases.get(i);
            List<SteadyPhase> passes = passThrough.get(c.keys());
            if (failedCases.contains(i) || passes == null || passes.isEmpty()) {
                continue;
            }
            SteadyRow row = steadyRow(c, kan.get(i), passes);
            log.printf(
                    "  steady %,d keys on %s, bundles of %d%s: %,.0f events/s, median of %s (%.2f×"
                            + " pass-through %,.0f, median of %s; per CPU second %.2f×); new keys"
                            + " %,.0f events/s (%.2f×)%n",
                    c.keys(),
                    row.stateBackend(),
                    row.bundleSize(),
                    modelsNote(row.ownModels(), row.sharedCompanion()),
                    row.eventsPerS(),
                    rates(row.roundEventsPerS()),
                    row.ratioVsPassthrough(),
                    row.passthroughEventsPerS(),
                    rates(row.roundPassthroughEventsPerS()),
                    row.cpuRatioVsPassthrough(),
                    row.newKeyEventsPerS(),
                    row.newKeyRatioVsPassthrough());
            rows.add(row);
        }
        return rows;
    }

    /** A row from its rounds and its key count's pass-through rounds: medians of each figure. */
    private SteadyRow steadyRow(SteadyCase c, List<SteadyPhase> kan, List<SteadyPhase> pass) {
        double newKeys = median(kan, SteadyPhase::newKeyEventsPerS);
        double rate = median(kan, SteadyPhase::eventsPerS);
        double perCpu = median(kan, SteadyPhase::eventsPerCpuS);
        double passRate = median(pass, SteadyPhase::eventsPerS);
        double passPerCpu = median(pass, SteadyPhase::eventsPerCpuS);
        return new SteadyRow(
                c.keys(),
                c.backend().flinkName(),
                steadyEvents(c.keys()),
                newKeys,
                newKeys / passRate,
                rate,
                passRate,
                rate / passRate,
                perCpu,
                passPerCpu,
                perCpu / passPerCpu,
                settings.parallelism(),
                settings.steadyCheckpointInterval().toString(),
                c.bundleSize(),
                c.ownModels(),
                c.sharedCompanion(),
                kan.stream().mapToDouble(SteadyPhase::eventsPerS).toArray(),
                pass.stream().mapToDouble(SteadyPhase::eventsPerS).toArray());
    }

    /** What a steady row's log line adds about its models: nothing for the job's defaults. */
    private static String modelsNote(boolean ownModels, boolean sharedCompanion) {
        if (ownModels) {
            return ", own models only";
        }
        return sharedCompanion ? ", shared model with a companion" : "";
    }

    /** The median of the rounds' figures: of an even number, the mean of the middle two. */
    static <T> double median(List<T> rounds, ToDoubleFunction<T> figure) {
        double[] values = rounds.stream().mapToDouble(figure).toArray();
        return values.length == 0 ? Double.NaN : new Median().evaluate(values);
    }

    private static String rates(double[] rounds) {
        StringBuilder text = new StringBuilder();
        for (double r : rounds) {
            text.append(text.length() == 0 ? "" : " / ").append(String.format("%,.0f", r));
        }
        return text.toString();
    }

    /** Most runs of the steady warm-up; it stops earlier once the learning job's rate settles. */
    static final int STEADY_WARM_UP_RUNS = 4;

    /**
     * Runs the steady row with the fewest keys, its learning job and the pass-through job, over its
     * backlog, unmeasured, until the learning job's rate rises by less than 10% from one run to the
     * next (at least two runs, at most {@link #STEADY_WARM_UP_RUNS}). After the pipeline warm-up
     * alone, the first rounds of a row still ran at about half its later rate, both jobs alike
     * (docs/performance.md), so each row's first round was lost to the median.
     */
    private void steadyWarmUp(List<SteadyCase> cases, Map<Integer, String> backlogs)
            throws Exception {
        SteadyCase first =
                cases.stream().min(Comparator.comparingInt(SteadyCase::keys)).orElse(null);
        if (first == null) {
            return;
        }
        long n = steadyEvents(first.keys());
        String backlog = backlogs.computeIfAbsent(first.keys(), k -> backlog(k, n));
        double previous = 0;
        for (int run = 1; run <= STEADY_WARM_UP_RUNS; run++) {
            log.printf("steady warm-up %d of at most %d, not measured%n", run, STEADY_WARM_UP_RUNS);
            double rate = steadyPhase(first, n, backlog).eventsPerS;
            steadyPhase(passThrough(first.keys()), n, backlog);
            if (run > 1 && rate < 1.1 * previous) {
                return;
            }
            previous = rate;
        }
    }

    /** The backlog of a key count's steady rows, produced once: its events topic. */
    private String backlog(int keys, long n) {
        Topics t = topics("steady", keys);
        log.printf("steady, %,d keys: a backlog of %,d events%n", keys, n);
        send(t, keys, n, 0, System::currentTimeMillis);
        return t.events;
    }

    /** Every key's first event, then at least the steady events per key, and the steady floor. */
    long steadyEvents(int keys) {
        return Math.max(
                settings.steadyMinEvents(), (long) keys * (1 + settings.steadyEventsPerKey()));
    }

    private record SteadyPhase(double newKeyEventsPerS, double eventsPerS, double eventsPerCpuS) {}

    /**
     * One job over a backlog of {@code n} events spread round-robin over {@code keys} keys (the
     * events topic {@code backlog}, read from its start), so the first {@code keys} events are each
     * key's first. Rates from the scores' append times in order: the first {@code keys} scores are
     * the new-key phase, the rest (its first tenth left out) the steady phase.
     *
     * @param c the learning job's row, or {@link #passThrough} for the pass-through job
     */
    private SteadyPhase steadyPhase(SteadyCase c, long n, String backlog) throws Exception {
        int keys = c.keys();
        OnlineJobConfig.StateBackend backend = c.backend();
        int bundleSize = c.bundleSize();
        String what =
                backend == null
                        ? "pass-through"
                        : "learning on "
                                + backend.flinkName()
                                + ", bundles of "
                                + bundleSize
                                + modelsNote(c.ownModels(), c.sharedCompanion());
        log.printf("steady, %,d keys: %s job over %,d events%n", keys, what, n);
        Topics t = topics(backend == null ? "steady-pass" : "steady-kan", keys, backlog);
        OnlineJobConfig config =
                allKeysLive(
                                config(t, keys),
                                keys,
                                Math.min(bundleSize, keys),
                                c.ownModels(),
                                c.sharedCompanion())
                        .toBuilder()
                        // the backlog is shared by rounds: name what is the run's own by its scores
                        .transactionalIdPrefix(t.scores)
                        .checkpointDir(workDir.resolve(t.scores).toString())
                        .checkpointInterval(settings.steadyCheckpointInterval())
                        .stateBackend(
                                backend == null ? OnlineJobConfig.StateBackend.HASHMAP : backend)
                        .build();
        Configuration extra = new Configuration();
        if (backend == OnlineJobConfig.StateBackend.ROCKSDB) {
            // RocksDB as it is run in production: memtables and block cache from managed memory
            // (the MiniCluster's default leaves it a few hundred KB and it flushes constantly);
            // the job itself turns on incremental checkpoints for RocksDB
            extra.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.ofMebiBytes(512));
        }
        JobClient job = startJob(backend == null, config, extra);
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(t.scores)) {
            int firstSteady = (int) Math.min(n - 2, keys + (n - keys) / 10);
            Appended appended = appended(consumer, n, firstSteady, Duration.ofMinutes(60));
            int lastNew = Math.min(keys, (int) n) - 1;
            double newKeySeconds = appended.seconds(0, lastNew);
            double steadySeconds = appended.seconds(firstSteady, (int) n - 1);
            long steadyCount = n - 1 - firstSteady;
            SteadyPhase phase =
                    new SteadyPhase(
                            lastNew / newKeySeconds,
                            steadyCount / steadySeconds,
                            steadyCount / appended.cpuSeconds());
            log.printf(
                    "  %s: new keys %,.0f events/s; then %,d events in %.1f s: %,.0f events/s,"
                            + " %,.0f per CPU second%n",
                    what,
                    phase.newKeyEventsPerS,
                    steadyCount,
                    steadySeconds,
                    phase.eventsPerS,
                    phase.eventsPerCpuS);
            return phase;
        } finally {
            job.cancel().get(2, TimeUnit.MINUTES);
        }
    }

    private record Phase(double eventsPerS, double eventsPerCpuS, double[] latencies) {}

    /** The job with the learner, or the pass-through job (no model). */
    private static JobClient startJob(
            boolean passThrough, OnlineJobConfig config, Configuration extra) throws Exception {
        return passThrough
                ? OnlineLearningJob.startPassThrough(config, extra)
                : OnlineLearningJob.start(config, false, extra);
    }

    /**
     * Every key stays live: the default bound (10,000 per subtask) would evict and rebuild; and the
     * given bundle size ({@link OnlineKanConfig#AUTO_BUNDLE_SIZE} for the job's default).
     */
    static OnlineJobConfig allKeysLive(
            OnlineJobConfig base,
            int keys,
            int bundleSize,
            boolean ownModels,
            boolean sharedCompanion) {
        KanConfig model = base.learner().model();
        return base.toBuilder()
                .learner(
                        OnlineKanConfig.builder(model)
                                .maxLiveKeys(keys)
                                .bundle(bundleSize, OnlineKanConfig.DEFAULT_BUNDLE_LATENCY)
                                .population(
                                        ownModels
                                                ? OnlineKanConfig.Population.OFF
                                                : base.learner().population())
                                .sharedCompanion(
                                        sharedCompanion
                                                ? OnlineKanConfig.SLOW_SHARED_COMPANION
                                                : base.learner().sharedCompanion())
                                .build())
                .build();
    }

    /** The pass-through job's phase over {@code keys} keys: a case without a backend. */
    private static SteadyCase passThrough(int keys) {
        return new SteadyCase(null, keys, 0, false);
    }

    /**
     * When the scores were appended to their topic, in order (epoch ms), and the CPU seconds this
     * process spent from the {@code from}-th score on.
     */
    private record Appended(long[] millis, double cpuSeconds) {
        /** Seconds between the {@code from}-th and the {@code to}-th score, at least 1 ms. */
        double seconds(int from, int to) {
            return Math.max(1, millis[to] - millis[from]) / 1000.0;
        }
    }

    /** Reads {@code n} scores and when each was appended, timing CPU from the {@code from}-th. */
    private static Appended appended(
            KafkaConsumer<byte[], byte[]> consumer, long n, int from, Duration timeout) {
        long[] millis = new long[(int) n];
        int[] at = {0};
        long[] cpuAtFrom = {0};
        collect(
                consumer,
                n,
                timeout,
                r -> {
                    if (at[0] == from) {
                        cpuAtFrom[0] = processCpuNanos();
                    }
                    millis[at[0]++] = r.timestamp();
                });
        double cpuSeconds = (processCpuNanos() - cpuAtFrom[0]) / 1e9;
        Arrays.sort(millis);
        return new Appended(millis, cpuSeconds);
    }

    private record Topics(
            String events, String labels, String scores, String metrics, String dlq) {}

    /**
     * Throughput from a backlog, then latency at a steady rate (none when {@code latencyRate} is
     * 0), on fresh topics.
     */
    private Phase phases(int keys, long n, boolean passThrough, double latencyRate)
            throws Exception {
        Topics t = topics(passThrough ? "pass" : "kan", keys);
        send(t, keys, n, 0, System::currentTimeMillis);
        OnlineJobConfig config = config(t, keys);
        JobClient job = startJob(passThrough, config, new Configuration());
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(t.scores)) {
            int skip = (int) (n / 10);
            Appended appended = appended(consumer, n, skip, Duration.ofMinutes(30));
            double seconds = appended.seconds(skip, (int) n - 1);
            double eventsPerS = (n - 1 - skip) / seconds;
            double eventsPerCpuS = (n - 1 - skip) / appended.cpuSeconds();
            log.printf(
                    "  %s: %,d events in %.1f s after warm-up: %,.0f events/s, %,.0f per CPU"
                            + " second%n",
                    passThrough ? "pass-through" : "learning",
                    n - 1 - skip,
                    seconds,
                    eventsPerS,
                    eventsPerCpuS);

            if (latencyRate <= 0) {
                return new Phase(eventsPerS, eventsPerCpuS, new double[0]);
            }
            long m = Math.max(1, Math.round(latencyRate * settings.latencyTime().toSeconds()));
            List<Double> latencies = new ArrayList<>();
            Thread producer =
                    new Thread(
                            () -> send(t, keys, m, latencyRate, System::currentTimeMillis),
                            "bench producer");
            producer.start();
            collect(
                    consumer,
                    m,
                    settings.latencyTime().plus(Duration.ofMinutes(5)),
                    r -> latencies.add((double) (r.timestamp() - score(r).ts())));
            producer.join();
            return new Phase(
                    eventsPerS,
                    eventsPerCpuS,
                    latencies.stream().mapToDouble(Double::doubleValue).toArray());
        } finally {
            job.cancel().get(2, TimeUnit.MINUTES);
        }
    }

    private Topics topics(String what, int keys) {
        return topics(what, keys, null);
    }

    /**
     * Fresh topics for one job; its events topic is {@code events} when given (a backlog that
     * exists already, read by several jobs), otherwise a new one.
     */
    private Topics topics(String what, int keys, String events) {
        String p = "bench-" + runId + "-" + RUNS.incrementAndGet() + "-" + what + "-" + keys + "-";
        Topics t =
                new Topics(
                        events != null ? events : p + "events",
                        p + "labels",
                        p + "scores",
                        p + "metrics",
                        p + "dead-letters");
        int partitions = 2 * settings.parallelism();
        List<NewTopic> fresh = new ArrayList<>();
        if (events == null) {
            fresh.add(new NewTopic(t.events, partitions, (short) 1));
        }
        // the broker stamps each score as it appends it
        fresh.add(
                new NewTopic(t.scores, partitions, (short) 1)
                        .configs(Map.of("message.timestamp.type", "LogAppendTime")));
        fresh.add(new NewTopic(t.labels, Optional.of(1), Optional.empty()));
        fresh.add(new NewTopic(t.metrics, Optional.of(1), Optional.empty()));
        fresh.add(new NewTopic(t.dlq, Optional.of(1), Optional.empty()));
        try (Admin admin = Admin.create(adminProps())) {
            admin.createTopics(fresh).all().get(60, TimeUnit.SECONDS);
            awaitLeaders(admin, fresh.stream().map(NewTopic::name).toList());
        } catch (Exception e) {
            throw new IllegalStateException("cannot create the bench topics " + t, e);
        }
        return t;
    }

    /**
     * Waits until every partition has a leader: an idempotent producer that writes to a partition
     * while its leader is still being elected can be left with out-of-order sequence numbers (seen
     * here with Kafka 4.1), and its flush then never returns.
     */
    private static void awaitLeaders(Admin admin, List<String> topics) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            boolean ready;
            try {
                ready =
                        admin
                                .describeTopics(topics)
                                .allTopicNames()
                                .get(30, TimeUnit.SECONDS)
                                .values()
                                .stream()
                                .flatMap(d -> d.partitions().stream())
                                .allMatch(p -> p.leader() != null && !p.leader().isEmpty());
            } catch (ExecutionException e) {
                // a topic just created may not be in the broker's metadata yet: not ready, ask
                // again
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw e;
                }
                ready = false;
            }
            if (ready) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("partitions of " + topics + " have no leader");
            }
            Thread.sleep(100);
        }
    }

    private OnlineJobConfig config(Topics t, int keys) {
        return OnlineJobConfig.builder(learner())
                .kafka(kafka)
                .eventsTopic(t.events)
                .labelsTopic(t.labels)
                .scoresTopic(t.scores)
                .metricsTopic(t.metrics)
                .deadLetterTopic(t.dlq)
                .parallelism(settings.parallelism())
                .checkpointInterval(settings.checkpointInterval())
                .checkpointDir(workDir.resolve(t.events).toString())
                .transactionalIdPrefix(t.events)
                .build();
    }

    /** Labeled events of the synthetic stream over {@code keys} keys, stamped by {@code clock}. */
    private void send(Topics t, int keys, long count, double rate, LongSupplier clock) {
        SyntheticDrift stream =
                new SyntheticDrift(keys, 4, Long.MAX_VALUE, Task.REGRESSION, 0.05, RUNS.get());
        Iterator<Event> events =
                new Iterator<>() {
                    long i;

                    @Override
                    public boolean hasNext() {
                        return i < count;
                    }

                    @Override
                    public Event next() {
                        return stream.event(i++, clock.getAsLong());
                    }
                };
        try (EventSender sender =
                new EventSender(
                        kafka, new EventSender.Settings(t.events, null, Duration.ZERO, 1, rate))) {
            sender.send(events, count);
        }
    }

    private KafkaConsumer<byte[], byte[]> consumer(String topic) {
        Properties props = kafka.clientProperties();
        // the moment a score is written, not when its checkpoint commits it
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(
                        props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions =
                consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                        .map(p -> new TopicPartition(topic, p.partition()))
                        .toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return consumer;
    }

    private static void collect(
            KafkaConsumer<byte[], byte[]> consumer,
            long n,
            Duration timeout,
            Consumer<ConsumerRecord<byte[], byte[]>> each) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long seen = 0;
        while (seen < n) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "only " + seen + " of " + n + " scores within " + timeout);
            }
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                if (seen++ < n) {
                    each.accept(r);
                }
            }
        }
    }

    private static Score score(ConsumerRecord<byte[], byte[]> r) {
        return OutputCodec.parseScore(r.value()).orElseThrow();
    }

    /** The first checkpoint that completes after {@code afterMs}, from Flink's statistics. */
    private JsonNode checkpointAfter(int restPort, JobClient job, long afterMs) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (System.nanoTime() < deadline) {
            JsonNode completed =
                    get(restPort, "/jobs/" + job.getJobID() + "/checkpoints")
                            .path("latest")
                            .path("completed");
            if (completed.path("trigger_timestamp").asLong() > afterMs) {
                return completed;
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("no checkpoint completed within 10 minutes");
    }

    /** The slowest subtask's async or sync part of a checkpoint, in ms. */
    private double maxOverTasks(int restPort, JobClient job, JsonNode checkpoint, String part)
            throws Exception {
        JsonNode details =
                get(
                        restPort,
                        "/jobs/" + job.getJobID() + "/checkpoints/details/" + checkpoint.get("id"));
        double max = 0;
        // "tasks" maps each job vertex id to that vertex's checkpoint statistics
        for (var vertices = details.path("tasks").fieldNames(); vertices.hasNext(); ) {
            String id = vertices.next();
            JsonNode subtasks =
                    get(
                                    restPort,
                                    "/jobs/"
                                            + job.getJobID()
                                            + "/checkpoints/details/"
                                            + checkpoint.get("id")
                                            + "/subtasks/"
                                            + id)
                            .path("subtasks");
            for (JsonNode s : subtasks) {
                max = Math.max(max, s.path("checkpoint").path(part).asDouble());
            }
        }
        return max;
    }

    private static JsonNode get(int port, String path) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> response =
                http.send(
                        HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                                .timeout(Duration.ofSeconds(30))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException(
                    "GET " + path + ": HTTP " + response.statusCode() + " " + response.body());
        }
        return JSON.readTree(response.body());
    }

    private Properties adminProps() {
        return kafka.clientProperties();
    }

    static double percentile(double[] values, double q) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    private static String firstLine(Exception e) {
        String message = String.valueOf(e.getMessage());
        int end = message.indexOf('\n');
        return end < 0 ? message : message.substring(0, end);
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean)
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An exception with its causes, one after another: a bench row's failure names its root. */
    private static String causes(Throwable e) {
        StringBuilder text = new StringBuilder(String.valueOf(e));
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            text.append("; caused by ").append(c);
        }
        return text.toString();
    }
}
