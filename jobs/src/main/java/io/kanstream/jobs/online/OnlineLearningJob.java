package io.kanstream.jobs.online;

import io.kanstream.stream.Event;
import io.kanstream.stream.EventCodec;
import io.kanstream.stream.Label;
import io.kanstream.stream.Metric;
import io.kanstream.stream.OnlineKan;
import io.kanstream.stream.OutputCodec;
import io.kanstream.stream.Score;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.state.rocksdb.RocksDBConfigurableOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.LocalStreamEnvironment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.function.SerializableFunction;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.rocksdb.CompressionType;

/**
 * The streaming job: Kafka events and labels in; scores, per-key metrics and dead letters out,
 * exactly once.
 *
 * <pre>
 * events ─► KafkaSource ─► parse ─┬─────────────► OnlineKan (keyed by model key) ─► scores
 * labels ─► KafkaSource ─► parse ─┼──────────────►        │  metrics side output ─► metrics
 *                                 └ rejected ─┬───────────┘  label rejections
 *                                             └──────────────────────────────────► dead-letters
 * </pre>
 *
 * <p>Every sink is transactional (exactly once): output becomes visible to {@code read_committed}
 * consumers when the checkpoint that covers it completes. Sources read {@code read_committed} too,
 * so a job may consume another job's transactional output. Checkpoints are retained when the job is
 * cancelled or dies, so a new run can resume from the newest one ({@link RetainedCheckpoint}).
 * Operator uids are fixed: savepoints map state to operators by them.
 */
public final class OnlineLearningJob {
    /** The Flink job name. */
    public static final String NAME = "kanstream online learning";

    private OnlineLearningJob() {}

    /**
     * Flink settings for the job: checkpointing, state backend, restarts, parallelism, and the
     * checkpoint to restore when there is one.
     */
    public static Configuration flinkConfiguration(OnlineJobConfig config) {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.NAME, NAME);
        conf.set(CoreOptions.DEFAULT_PARALLELISM, config.parallelism());
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, config.checkpointInterval());
        conf.set(
                CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE,
                CheckpointingMode.EXACTLY_ONCE);
        conf.set(
                CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        // The learner is slower per record than Kafka can feed it: with a backlog (a restart, a
        // replay) the network buffers fill with records that an aligned checkpoint barrier must
        // wait behind. Debloated buffers hold about a second of processing instead of a fixed
        // amount, so checkpoints (and with them the commits of the output) keep their pace.
        conf.set(TaskManagerOptions.BUFFER_DEBLOAT_ENABLED, true);
        // A score is worth most when it is early: flush network buffers after 10 ms at the latest
        // (Flink's default, 100 ms, is tuned for throughput and sets a scoring job's latency).
        conf.set(ExecutionOptions.BUFFER_TIMEOUT, Duration.ofMillis(10));
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, config.checkpointUri());
        conf.set(CheckpointingOptions.SAVEPOINT_DIRECTORY, config.savepointUri());
        conf.set(StateBackendOptions.STATE_BACKEND, config.stateBackend().flinkName());
        if (config.stateBackend() == OnlineJobConfig.StateBackend.ROCKSDB) {
            // a checkpoint uploads the files written since the last one, not every key's model
            conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
            // Every event writes its key's model back (~7 KB of float bits that do not compress):
            // RocksDB's default Snappy tried on every flush and compaction was most of the
            // background threads' CPU, which the task threads share the cores with
            // (docs/state.md, "RocksDB").
            conf.set(
                    RocksDBConfigurableOptions.COMPRESSION_PER_LEVEL,
                    List.of(CompressionType.NO_COMPRESSION));
        }
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS,
                config.restartAttempts());
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, config.restartDelay());
        if (config.restoreFrom() != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, config.restoreFrom());
        }
        return conf;
    }

    /**
     * An environment for the job: the context's when the program runs under {@code flink run},
     * otherwise an embedded MiniCluster (with Flink's web UI on port 8081 when asked).
     *
     * @param extra settings on top of {@link #flinkConfiguration}, e.g. a metric reporter
     */
    public static StreamExecutionEnvironment environment(
            OnlineJobConfig config, boolean webUi, Configuration extra) {
        Configuration conf = flinkConfiguration(config);
        conf.addAll(extra);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        if (webUi && env instanceof LocalStreamEnvironment) {
            env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
        }
        return env;
    }

    /** Whether the environment runs the job in this process (rather than on a cluster). */
    public static boolean isLocal(StreamExecutionEnvironment env) {
        return env instanceof LocalStreamEnvironment;
    }

    /** Defines the job and starts it; the returned client follows, stops or cancels it. */
    public static JobClient start(OnlineJobConfig config, boolean webUi, Configuration extra)
            throws Exception {
        return start(config, webUi, extra, UnaryOperator.identity());
    }

    static JobClient start(
            OnlineJobConfig config,
            boolean webUi,
            Configuration extra,
            UnaryOperator<DataStream<Event>> afterParse)
            throws Exception {
        StreamExecutionEnvironment env = environment(config, webUi, extra);
        define(env, config, afterParse, true);
        return env.executeAsync(NAME);
    }

    /**
     * Starts the job with no model: the same sources, parsing, keying, sinks and JSON, but every
     * event gets a zero score at once and labels are dropped ({@link PassThrough}). What it
     * sustains is the ceiling Flink, Kafka and the serde set on this machine.
     */
    public static JobClient startPassThrough(OnlineJobConfig config, Configuration extra)
            throws Exception {
        StreamExecutionEnvironment env = environment(config, false, extra);
        define(env, config, UnaryOperator.identity(), false);
        return env.executeAsync(NAME + " (pass-through)");
    }

    /** Adds the job's sources, operators and sinks to {@code env}. */
    public static void define(StreamExecutionEnvironment env, OnlineJobConfig config) {
        define(env, config, UnaryOperator.identity(), true);
    }

    /**
     * @param afterParse applied to the parsed events before they reach the learner; tests use it to
     *     inject a failure
     * @param learn the learner scores the events; false: {@link PassThrough}, no model
     */
    static void define(
            StreamExecutionEnvironment env,
            OnlineJobConfig config,
            UnaryOperator<DataStream<Event>> afterParse,
            boolean learn) {
        EventCodec codec = new EventCodec(config.codec());
        int width = config.learner().model().inputs();

        SingleOutputStreamOperator<Event> events =
                env.fromSource(
                                source(config, config.eventsTopic(), "events"),
                                WatermarkStrategy.noWatermarks(),
                                "events: " + config.eventsTopic())
                        .uid("events-source")
                        .process(ParseInput.events(codec, width), TypeInformation.of(Event.class))
                        .uid("parse-events")
                        .name("parse events");
        SingleOutputStreamOperator<Label> labels =
                env.fromSource(
                                source(config, config.labelsTopic(), "labels"),
                                WatermarkStrategy.noWatermarks(),
                                "labels: " + config.labelsTopic())
                        .uid("labels-source")
                        .process(ParseInput.labels(codec), TypeInformation.of(Label.class))
                        .uid("parse-labels")
                        .name("parse labels");

        DataStream<Event> parsed = afterParse.apply(events);
        SingleOutputStreamOperator<Score> scores =
                learn
                        ? OnlineKan.apply(parsed, labels, config.learner())
                        : PassThrough.apply(parsed, labels);

        scores.sinkTo(
                        sink(
                                config,
                                config.scoresTopic(),
                                "scores",
                                Score::key,
                                OutputCodec::writeScore))
                .uid("scores-sink")
                .name("scores: " + config.scoresTopic());
        scores.getSideOutput(OnlineKan.METRICS)
                .sinkTo(
                        sink(
                                config,
                                config.metricsTopic(),
                                "metrics",
                                Metric::key,
                                OutputCodec::writeMetric))
                .uid("metrics-sink")
                .name("metrics: " + config.metricsTopic());
        events.getSideOutput(ParseInput.REJECTED)
                .union(
                        labels.getSideOutput(ParseInput.REJECTED),
                        scores.getSideOutput(OnlineKan.DEAD_LETTERS))
                .sinkTo(
                        sink(
                                config,
                                config.deadLetterTopic(),
                                "dead-letters",
                                d -> null,
                                OutputCodec::writeDeadLetter))
                .uid("dead-letters-sink")
                .name("dead letters: " + config.deadLetterTopic());
    }

    private static KafkaSource<RawRecord> source(
            OnlineJobConfig config, String topic, String role) {
        var builder =
                KafkaSource.<RawRecord>builder()
                        // the cluster's client settings (TLS, SASL) first: what follows is the
                        // job's own and must win
                        .setProperties(config.kafka().clientProperties())
                        .setTopics(topic)
                        .setGroupId(config.transactionalIdPrefix() + "-" + role)
                        .setClientIdPrefix(config.transactionalIdPrefix() + "-" + role)
                        .setStartingOffsets(config.startFrom().offsets())
                        .setDeserializer(new RawRecordDeserializer())
                        // another transactional producer's aborted records are never input
                        .setProperty("isolation.level", "read_committed")
                        // offsets live in the job's checkpoints; the group's are never read back
                        .setProperty("commit.offsets.on.checkpoint", "false");
        if (config.bounded()) {
            builder.setBounded(OffsetsInitializer.latest());
        }
        return builder.build();
    }

    private static <T> KafkaSink<T> sink(
            OnlineJobConfig config,
            String topic,
            String role,
            SerializableFunction<T, String> key,
            SerializableFunction<T, byte[]> value) {
        return KafkaSink.<T>builder()
                .setKafkaProducerConfig(config.kafka().clientProperties())
                .setRecordSerializer(new JsonRecordSerializer<>(topic, key, value))
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(config.transactionalIdPrefix() + "-" + role)
                .setProperty(
                        "transaction.timeout.ms",
                        Long.toString(config.transactionTimeout().toMillis()))
                .build();
    }

    /**
     * Creates whichever of the job's topics do not exist yet (so a first run on an empty broker
     * works), with {@code partitions} partitions and the broker's default replication factor.
     *
     * @return the topics that were created
     */
    public static List<String> createMissingTopics(OnlineJobConfig config, int partitions)
            throws Exception {
        Properties props = config.kafka().clientProperties();
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        Set<String> wanted =
                new LinkedHashSet<>(
                        List.of(
                                config.eventsTopic(),
                                config.labelsTopic(),
                                config.scoresTopic(),
                                config.metricsTopic(),
                                config.deadLetterTopic()));
        List<String> created = new ArrayList<>();
        try (Admin admin = Admin.create(props)) {
            Set<String> existing =
                    new HashSet<>(admin.listTopics().names().get(30, TimeUnit.SECONDS));
            for (String topic : wanted) {
                if (existing.contains(topic)) {
                    continue;
                }
                try {
                    admin.createTopics(
                                    List.of(
                                            new NewTopic(
                                                    topic,
                                                    java.util.Optional.of(partitions),
                                                    java.util.Optional.empty())))
                            .all()
                            .get(30, TimeUnit.SECONDS);
                    created.add(topic);
                } catch (java.util.concurrent.ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
        }
        return created;
    }
}
