package io.kanstream.jobs.cli;

import io.kanstream.jobs.cluster.ClusterTarget;
import io.kanstream.jobs.kafka.KafkaConnection;
import io.kanstream.jobs.kafka.KafkaPreflight;
import io.kanstream.jobs.online.OnlineJobConfig;
import io.kanstream.jobs.online.OnlineLearningJob;
import io.kanstream.jobs.online.ParseInput;
import io.kanstream.jobs.online.RetainedCheckpoint;
import io.kanstream.jobs.online.StartFrom;
import io.kanstream.kan.KanConfig;
import io.kanstream.stream.EventCodecConfig;
import io.kanstream.stream.OnlineKanConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.HeartbeatManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        defaultValueProvider = RunCommand.Defaults.class,
        description = {
            "Run the streaming job: events and labels from Kafka, one score per event, models that"
                    + " learn from labels, per-key metrics and dead letters back to Kafka, exactly"
                    + " once.",
            "Runs on an embedded Flink MiniCluster, or with --target host:port on a Flink session"
                    + " cluster (the job jar is shipped with it). Started again with the same"
                    + " --checkpoint-dir, it resumes from the newest retained checkpoint. Under"
                    + " `flink run` (the job jar on a cluster) it runs on that cluster."
        })
final class RunCommand implements Callable<Integer> {
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Mixin KafkaOptions kafka;

    @Mixin RefitPolicies refits;

    @Mixin LearnerOptions.Device device;

    @Mixin LearnerOptions.Drift drift;

    @Option(names = "--events-topic", description = "Events in (default ${DEFAULT-VALUE}).")
    String eventsTopic;

    @Option(names = "--labels-topic", description = "Late labels in (default ${DEFAULT-VALUE}).")
    String labelsTopic;

    @Option(names = "--scores-topic", description = "Scores out (default ${DEFAULT-VALUE}).")
    String scoresTopic;

    @Option(names = "--metrics-topic", description = "Metrics out (default ${DEFAULT-VALUE}).")
    String metricsTopic;

    @Option(
            names = "--dead-letter-topic",
            description = "Rejected records out, with the reason (default ${DEFAULT-VALUE}).")
    String deadLetterTopic;

    @Mixin LearnerOptions.Layers layers;

    @Mixin LearnerOptions.Task task;

    @Mixin ModelOptions modelOptions;

    @Option(
            names = "--model",
            description =
                    "Warm start: every new key starts from this model file (from `fit` or"
                            + " `import`); its layers, task and learning rate apply.")
    Path model;

    @Mixin LearnerOptions.BatchSize batchSize;

    @Option(
            names = "--batch-timeout",
            converter = DurationConverter.class,
            description =
                    "Learn from a partial batch after this long; 0s waits for a full one"
                            + " (default ${DEFAULT-VALUE}).")
    Duration batchTimeout;

    @Option(
            names = "--label-ttl",
            converter = DurationConverter.class,
            description = "How long an event waits for its label (default ${DEFAULT-VALUE}).")
    Duration labelTtl;

    @Option(
            names = "--max-live-keys",
            description =
                    "Keys holding state per subtask; more evict the least recent"
                            + " (default ${DEFAULT-VALUE}).")
    int maxLiveKeys;

    @Option(
            names = "--idle-key-ttl",
            converter = DurationConverter.class,
            description = "Drop a key unseen this long; 0s never (default ${DEFAULT-VALUE}).")
    Duration idleKeyTtl;

    @Option(
            names = "--bundle-size",
            description =
                    "Process inputs of many keys together, up to this many, models of one shape"
                            + " scored and stepped in one device call (KanPool); 0 processes each"
                            + " input at once; auto: 256 on a GPU, 0 on the CPU, where it does not"
                            + " pay (docs/gpu.md) (default ${DEFAULT-VALUE}).")
    String bundleSize;

    @Option(
            names = "--bundle-latency",
            converter = DurationConverter.class,
            description =
                    "A bundle that is not full is processed after this long; checkpoints,"
                            + " watermarks and timers process it at once (default ${DEFAULT-VALUE}).")
    Duration bundleLatency;

    @Option(
            names = "--metrics-every",
            description =
                    "A key's metric record every N labeled events, and one at the end of input"
                            + " (default ${DEFAULT-VALUE}).")
    int metricsEvery;

    @Option(
            names = "--max-record-bytes",
            description = "Larger records go to the dead letters (default ${DEFAULT-VALUE}).")
    int maxRecordBytes;

    @Option(
            names = "--checkpoint-dir",
            description = "Checkpoints and savepoints: a path or URI (default ${DEFAULT-VALUE}).")
    String checkpointDir;

    @Option(
            names = "--checkpoint-interval",
            converter = DurationConverter.class,
            description =
                    "Checkpoint (and commit output) this often, e.g. 500ms, 2s, 1m"
                            + " (default ${DEFAULT-VALUE}).")
    Duration checkpointInterval;

    @Mixin LearnerOptions.Parallelism parallelism;

    @Mixin LearnerOptions.Population population;

    @Option(
            names = "--start-from",
            description =
                    "Where partitions without a restored offset start: earliest, latest, or epoch"
                            + " ms / ISO instant (default ${DEFAULT-VALUE}).")
    String startFrom;

    @Option(names = "--state-backend", description = "hashmap|rocksdb (default ${DEFAULT-VALUE}).")
    String stateBackend;

    @Option(
            names = "--transactional-id-prefix",
            description =
                    "Kafka transactional id prefix, unique per job on the cluster"
                            + " (default ${DEFAULT-VALUE}).")
    String transactionalIdPrefix;

    @Option(
            names = "--transaction-timeout",
            converter = DurationConverter.class,
            description =
                    "Kafka transaction timeout, at most the broker's 15m"
                            + " (default ${DEFAULT-VALUE}).")
    Duration transactionTimeout;

    @Option(
            names = "--restart-attempts",
            description = "Restarts after failures before giving up (default ${DEFAULT-VALUE}).")
    int restartAttempts;

    @Option(
            names = "--bounded",
            description = "Stop at the offsets that are the latest at start (a replay).")
    boolean bounded;

    @Option(
            names = "--fresh",
            description = "Ignore retained checkpoints under --checkpoint-dir: start anew.")
    boolean fresh;

    @Option(
            names = "--restore-from",
            description = "Restore from this checkpoint (chk-N) or savepoint directory.")
    String restoreFrom;

    @Option(
            names = "--create-topics",
            negatable = true,
            defaultValue = "true",
            fallbackValue = "true",
            description = "Create missing topics first (default ${DEFAULT-VALUE}).")
    boolean createTopics;

    @Option(
            names = "--partitions",
            defaultValue = "4",
            description = "Partitions of topics it creates (default ${DEFAULT-VALUE}).")
    int partitions;

    @Option(
            names = "--web-ui",
            description = "Serve Flink's web UI on http://localhost:8081 (embedded cluster).")
    boolean webUi;

    @Option(
            names = "--duration",
            converter = DurationConverter.class,
            description =
                    "Stop with a savepoint after this long (scripted runs); default: run until"
                            + " killed.")
    Duration duration;

    @Option(
            names = "--stop-when-idle",
            converter = DurationConverter.class,
            description =
                    "Stop with a savepoint once events have been read and none more for this long"
                            + " (catch up on a topic, then stop). Counts reach the client with"
                            + " heartbeats, every 2 s here: give it several.")
    Duration stopWhenIdle;

    @Option(
            names = "--progress-every",
            converter = DurationConverter.class,
            defaultValue = "10s",
            description = "Print progress this often; 0s for never (default ${DEFAULT-VALUE}).")
    Duration progressEvery;

    @Option(
            names = "--target",
            description =
                    "host:port of a Flink 2.2 session cluster's REST API (e.g. localhost:8081):"
                            + " submit the job jar there instead of running embedded. The"
                            + " checkpoint directory must be one the cluster can read.")
    String target;

    @Option(
            names = "--job-jar",
            description =
                    "With --target: the shaded job jar shipped to the cluster (default"
                            + " jobs/target/kanstream-job.jar of this checkout).")
    Path jobJar;

    @Option(
            names = "--detach",
            description =
                    "With --target: print the job id (alone, on standard output) and return once"
                            + " the job is submitted; the job keeps running on the cluster.")
    boolean detach;

    @Override
    public Integer call() throws Exception {
        ClusterTarget cluster = null;
        if (target != null) {
            cluster = ClusterTarget.parse(target, jobJar);
        } else if (jobJar != null || detach) {
            throw new IllegalArgumentException(
                    (jobJar != null ? "--job-jar" : "--detach")
                            + " only applies with --target host:port (a Flink cluster)");
        }
        if (cluster != null && webUi) {
            throw new IllegalArgumentException(
                    "--web-ui is for the embedded cluster; a cluster serves its own on "
                            + cluster.address());
        }
        OnlineJobConfig config = config();
        if (cluster != null) {
            return submit(cluster, config);
        }
        StreamExecutionEnvironment env =
                OnlineLearningJob.environment(config, webUi, new Configuration());
        if (!OnlineLearningJob.isLocal(env)) {
            return runOnCluster(env, config);
        }
        config = prepare(config);
        // accumulators (the progress lines) reach the client with task heartbeats: beat faster
        Configuration local = new Configuration();
        local.set(HeartbeatManagerOptions.HEARTBEAT_INTERVAL, Duration.ofSeconds(2));
        env = OnlineLearningJob.environment(config, webUi, local);
        OnlineLearningJob.define(env, config);
        JobClient client = env.executeAsync(OnlineLearningJob.NAME);
        say(
                "job %s running on an embedded Flink cluster, parallelism %d, %s state;"
                        + " checkpoints every %s to %s%s",
                client.getJobID(),
                config.parallelism(),
                config.stateBackend().flinkName(),
                DurationConverter.format(config.checkpointInterval()),
                config.checkpointUri(),
                webUi ? "; web UI http://localhost:8081" : "");
        return follow(client, config);
    }

    /**
     * What a run does before its job starts, embedded or on a cluster: picks the checkpoint to
     * resume from, refuses what could never finish, checks that Kafka answers with the given client
     * settings (a clear error instead of a job that retries for ever), and creates missing topics.
     */
    private OnlineJobConfig prepare(OnlineJobConfig config) throws Exception {
        config = resume(config);
        if (config.bounded() && config.restoreFrom() != null) {
            // Kafka splits restored from a checkpoint keep the stopping offsets they were saved
            // with: those of an unbounded run have none, and the job would never finish
            throw new IllegalArgumentException(
                    "--bounded cannot resume from "
                            + config.restoreFrom()
                            + ": the restored Kafka positions carry no end offsets; use"
                            + " --stop-when-idle to catch up and stop, or --fresh");
        }
        KafkaPreflight.check(config.kafka(), KafkaPreflight.TIMEOUT);
        say("kafka at %s answers (%s)", config.bootstrapServers(), describe(config.kafka()));
        if (createTopics) {
            List<String> created = OnlineLearningJob.createMissingTopics(config, partitions);
            if (!created.isEmpty()) {
                say("created topics %s (%d partitions)", created, partitions);
            }
        }
        return config;
    }

    /**
     * Submits the job jar to a session cluster over its REST API, resuming like a local run (the
     * checkpoint directory is on a disk both share), then follows the job as a local run does.
     */
    private int submit(ClusterTarget cluster, OnlineJobConfig config) throws Exception {
        config = prepare(config);
        StreamExecutionEnvironment env = cluster.environment(config);
        OnlineLearningJob.define(env, config);
        JobClient client = env.executeAsync(OnlineLearningJob.NAME);
        say(
                "job %s submitted to %s, parallelism %d, %s state; checkpoints every %s to %s",
                client.getJobID(),
                cluster.address(),
                config.parallelism(),
                config.stateBackend().flinkName(),
                DurationConverter.format(config.checkpointInterval()),
                config.checkpointUri());
        if (detach) {
            spec.commandLine().getOut().println(client.getJobID());
            spec.commandLine().getOut().flush();
            return 0;
        }
        return follow(client, config);
    }

    /** The job's configuration from the parsed options (a manifest's args are checked by it). */
    OnlineJobConfig config() throws Exception {
        CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        KanConfig kan;
        byte[] warmStart = null;
        if (model != null) {
            List<String> modelFlags = new ArrayList<>(List.of("--layers", "--task"));
            modelFlags.addAll(ModelOptions.NAMES);
            ModelFile.WarmStart file = ModelFile.warmStart(model, parsed, modelFlags);
            warmStart = file.bytes();
            kan = file.config().toBuilder().device(device.device).build();
        } else {
            kan =
                    modelOptions
                            .applyTo(KanConfig.builder(layers.layers()))
                            .task(task.task())
                            .device(device.device)
                            .build();
        }
        OnlineKanConfig learner =
                OnlineKanConfig.builder(kan)
                        .warmStart(warmStart)
                        .batchSize(batchSize.batchSize)
                        .batchTimeout(batchTimeout)
                        .labelTtl(labelTtl)
                        .maxLiveKeys(maxLiveKeys)
                        .idleKeyTtl(idleKeyTtl)
                        .metricsEvery(metricsEvery)
                        .bundle(bundleSize(), bundleLatency)
                        .population(population.population())
                        .sharedCompanion(population.sharedCompanion())
                        .refitPolicy(refits.policy())
                        .driftAction(drift.driftAction())
                        .build();
        return OnlineJobConfig.builder(learner)
                .kafka(kafka.connection())
                .eventsTopic(eventsTopic)
                .labelsTopic(labelsTopic)
                .scoresTopic(scoresTopic)
                .metricsTopic(metricsTopic)
                .deadLetterTopic(deadLetterTopic)
                .startFrom(StartFrom.parse(startFrom))
                .bounded(bounded)
                .codec(EventCodecConfig.builder().maxRecordBytes(maxRecordBytes).build())
                .parallelism(parallelism.parallelism)
                .checkpointInterval(checkpointInterval)
                .checkpointDir(checkpointDir)
                .stateBackend(OnlineJobConfig.StateBackend.parse(stateBackend))
                .transactionalIdPrefix(transactionalIdPrefix)
                .transactionTimeout(transactionTimeout)
                .restartAttempts(restartAttempts)
                .restoreFrom(restoreFrom)
                .build();
    }

    /** Picks the newest retained checkpoint unless told where to restore from, or not to. */
    private OnlineJobConfig resume(OnlineJobConfig config) {
        if (config.restoreFrom() != null) {
            say("restoring from %s (--restore-from)", config.restoreFrom());
            return config;
        }
        Path dir = config.localCheckpointDir();
        if (fresh || dir == null) {
            say("starting fresh: sources from %s", config.startFrom());
            return config;
        }
        return RetainedCheckpoint.newest(dir)
                .map(
                        found -> {
                            say("resuming from %s", found);
                            return config.restoringFrom(found.directory().toString());
                        })
                .orElseGet(
                        () -> {
                            say(
                                    "no retained checkpoint under %s: starting fresh, sources from"
                                            + " %s",
                                    dir, config.startFrom());
                            return config;
                        });
    }

    private int runOnCluster(StreamExecutionEnvironment env, OnlineJobConfig config)
            throws Exception {
        OnlineLearningJob.define(env, config);
        JobExecutionResult result = env.execute(OnlineLearningJob.NAME);
        say("job %s submitted", result.getJobID());
        return 0;
    }

    /**
     * Waits for the job, printing progress, and stops it with a savepoint after --duration or once
     * it has been idle for --stop-when-idle.
     */
    private int follow(JobClient client, OnlineJobConfig config) throws Exception {
        long started = System.nanoTime();
        long deadline = duration == null ? Long.MAX_VALUE : started + duration.toNanos();
        long tick = progressEvery.isZero() ? Long.MAX_VALUE : progressEvery.toNanos();
        long poll = stopWhenIdle == null ? tick : Math.min(tick, TimeUnit.SECONDS.toNanos(1));
        long nextLine = started + tick;
        Progress progress = new Progress(started);
        while (true) {
            long now = System.nanoTime();
            long wait = Math.max(1, Math.min(poll, deadline - now));
            try {
                client.getJobExecutionResult().get(wait, TimeUnit.NANOSECONDS);
                progress.refresh(client);
                say("job finished: %s", progress.line(config));
                return 0;
            } catch (TimeoutException e) {
                now = System.nanoTime();
                progress.refresh(client);
                String reason = null;
                if (now >= deadline) {
                    reason = "--duration " + DurationConverter.format(duration) + " reached";
                } else if (stopWhenIdle != null
                        && progress.events > 0
                        && now - progress.lastChange >= stopWhenIdle.toNanos()) {
                    reason =
                            "no new events for "
                                    + DurationConverter.format(stopWhenIdle)
                                    + " (--stop-when-idle)";
                }
                if (reason != null) {
                    say("%s, stopping with a savepoint", reason);
                    String savepoint =
                            client.stopWithSavepoint(
                                            false,
                                            config.savepointUri(),
                                            SavepointFormatType.CANONICAL)
                                    .get(5, TimeUnit.MINUTES);
                    say("stopped; savepoint %s", savepoint);
                    say("final: %s", progress.line(config));
                    return 0;
                }
                if (now >= nextLine) {
                    nextLine = now + tick;
                    say("%s", progress.line(config));
                }
            } catch (ExecutionException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                spec.commandLine()
                        .getErr()
                        .println(
                                "error: job failed: "
                                        + rootMessage(cause)
                                        + (config.restoreFrom() != null
                                                ? " (restored from "
                                                        + config.restoreFrom()
                                                        + "; --fresh starts anew)"
                                                : ""));
                return 1;
            }
        }
    }

    /** Counts from the job's accumulators, and the newest checkpoint on disk. */
    private static final class Progress {
        private long events;
        private long lastChange;
        private long lastEvents;
        private long lastNanos;
        private long labels;
        private long rejected;

        Progress(long started) {
            lastNanos = started;
            lastChange = started;
        }

        void refresh(JobClient client) {
            Map<String, Object> acc;
            try {
                acc = client.getAccumulators().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                acc = Map.of();
            }
            // counts only grow; a client that could not fetch them sees none
            long now = Math.max(events, count(acc, ParseInput.acceptedAccumulator("events")));
            if (now != events) {
                events = now;
                lastChange = System.nanoTime();
            }
            labels = Math.max(labels, count(acc, ParseInput.acceptedAccumulator("labels")));
            rejected =
                    Math.max(
                            rejected,
                            count(acc, ParseInput.rejectedAccumulator("events"))
                                    + count(acc, ParseInput.rejectedAccumulator("labels")));
        }

        String line(OnlineJobConfig config) {
            long now = System.nanoTime();
            double rate = (events - lastEvents) / Math.max((now - lastNanos) / 1e9, 1e-9);
            lastEvents = events;
            lastNanos = now;
            Path dir = config.localCheckpointDir();
            String checkpoint =
                    dir == null
                            ? ""
                            : RetainedCheckpoint.newest(dir)
                                    .map(c -> ", newest checkpoint " + c.directory().getFileName())
                                    .orElse("");
            return String.format(
                    Locale.ROOT,
                    "events %d (%.0f/s), late labels %d, dead-lettered at parse %d%s",
                    events,
                    rate,
                    labels,
                    rejected,
                    checkpoint);
        }

        private static long count(Map<String, Object> acc, String name) {
            return acc.get(name) instanceof Number n ? n.longValue() : 0;
        }
    }

    /** The protocol and user, for the line that says Kafka answered. */
    private static String describe(KafkaConnection kafka) {
        String user = kafka.user();
        return kafka.securityProtocol() + (user == null ? "" : ", user " + user);
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == t ? t.toString() : t.getMessage() + " (cause: " + root + ")";
    }

    /** A progress line; on standard error with --detach, whose standard output is the job id. */
    private int bundleSize() {
        if (bundleSize.equalsIgnoreCase("auto")) {
            return OnlineKanConfig.AUTO_BUNDLE_SIZE;
        }
        try {
            return Integer.parseInt(bundleSize.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "--bundle-size must be auto or a number of inputs, got '" + bundleSize + "'");
        }
    }

    private void say(String format, Object... args) {
        var sink = detach ? spec.commandLine().getErr() : spec.commandLine().getOut();
        sink.printf(
                Locale.ROOT,
                "%s %s%n",
                LocalTime.now().format(CLOCK),
                String.format(Locale.ROOT, format, args));
        sink.flush();
    }

    /** Shows and applies the defaults of {@link OnlineJobConfig} and the operator's config. */
    static final class Defaults implements CommandLine.IDefaultValueProvider {
        @Override
        public String defaultValue(ArgSpec arg) {
            if (!(arg instanceof OptionSpec option)) {
                return null;
            }
            OnlineJobConfig d = OnlineJobConfig.builder(OnlineJobConfig.defaultLearner()).build();
            OnlineKanConfig l = d.learner();
            Object value =
                    switch (option.longestName()) {
                        case "--events-topic" -> d.eventsTopic();
                        case "--labels-topic" -> d.labelsTopic();
                        case "--scores-topic" -> d.scoresTopic();
                        case "--metrics-topic" -> d.metricsTopic();
                        case "--dead-letter-topic" -> d.deadLetterTopic();
                        case "--batch-timeout" -> DurationConverter.format(l.batchTimeout());
                        case "--label-ttl" -> DurationConverter.format(l.labelTtl());
                        case "--max-live-keys" -> l.maxLiveKeys();
                        case "--idle-key-ttl" -> DurationConverter.format(l.idleKeyTtl());
                        case "--metrics-every" -> l.metricsEvery();
                        case "--bundle-size" ->
                                l.bundleSize() == OnlineKanConfig.AUTO_BUNDLE_SIZE
                                        ? "auto"
                                        : l.bundleSize();
                        case "--bundle-latency" -> DurationConverter.format(l.bundleLatency());
                        case "--max-record-bytes" -> d.codec().maxRecordBytes();
                        case "--checkpoint-dir" -> d.checkpointDir();
                        case "--checkpoint-interval" ->
                                DurationConverter.format(d.checkpointInterval());
                        case "--start-from" -> d.startFrom().toString();
                        case "--state-backend" -> d.stateBackend().flinkName();
                        case "--transactional-id-prefix" -> d.transactionalIdPrefix();
                        case "--transaction-timeout" ->
                                DurationConverter.format(d.transactionTimeout());
                        case "--restart-attempts" -> d.restartAttempts();
                        default -> null;
                    };
            return value == null ? null : String.valueOf(value);
        }
    }
}
