package io.kanstream.jobs.online;

import io.kanstream.jobs.kafka.KafkaConnection;
import io.kanstream.kan.KanConfig;
import io.kanstream.stream.EventCodecConfig;
import io.kanstream.stream.OnlineKanConfig;
import java.io.Serializable;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * Everything {@link OnlineLearningJob} needs: Kafka, topics, the learner, checkpointing, state.
 * Validated on construction; the defaults live in {@link Builder} and nowhere else, so the command
 * line and the tests agree on them.
 *
 * @param kafka Kafka's bootstrap servers and client settings (TLS, SASL); its {@code toString}
 *     redacts secrets, so this record's does too
 * @param eventsTopic events in (JSON, see {@code EventCodec})
 * @param labelsTopic labels that arrive after their event
 * @param scoresTopic one score per accepted event, record key = model key
 * @param metricsTopic per-key metrics, record key = model key
 * @param deadLetterTopic records that could not be used, with the reason
 * @param startFrom where partitions without a restored offset start
 * @param bounded stop at the offsets that are the latest when the job starts (replays, tests)
 *     instead of running forever
 * @param learner the operator's settings, the model's included
 * @param codec how strictly records are read (the size limit among them)
 * @param parallelism parallel instances of every operator
 * @param checkpointInterval how often state is checkpointed, and so how often scores are committed
 *     to Kafka (read_committed consumers see them then)
 * @param checkpointDir where checkpoints (and savepoints, under {@code savepoints/}) go: a URI, or
 *     a local path
 * @param stateBackend where keyed state lives between checkpoints
 * @param transactionalIdPrefix prefix of the Kafka transactional ids of the sinks; unique per job
 *     on a Kafka cluster and the same across restarts of one job (lingering transactions of an
 *     earlier run are found and aborted by it)
 * @param transactionTimeout Kafka transaction timeout of the sinks; above the checkpoint interval
 *     and at most the broker's {@code transaction.max.timeout.ms} (15 minutes by default)
 * @param restartAttempts restarts after a failure before the job gives up (fixed delay)
 * @param restartDelay pause before each restart
 * @param restoreFrom a checkpoint or savepoint directory to restore state from, or null to start
 *     fresh
 */
public record OnlineJobConfig(
        KafkaConnection kafka,
        String eventsTopic,
        String labelsTopic,
        String scoresTopic,
        String metricsTopic,
        String deadLetterTopic,
        StartFrom startFrom,
        boolean bounded,
        OnlineKanConfig learner,
        EventCodecConfig codec,
        int parallelism,
        Duration checkpointInterval,
        String checkpointDir,
        StateBackend stateBackend,
        String transactionalIdPrefix,
        Duration transactionTimeout,
        int restartAttempts,
        Duration restartDelay,
        String restoreFrom)
        implements Serializable {

    private static final long serialVersionUID = 1L;

    /**
     * Kafka's default {@code transaction.max.timeout.ms}, which scripts/kafka-local.sh also sets.
     */
    public static final Duration BROKER_MAX_TRANSACTION_TIMEOUT = Duration.ofMinutes(15);

    /** The model of a job that names none: matches {@code kanstream produce --synthetic drift}. */
    public static final List<Integer> DEFAULT_LAYERS = List.of(4, 8, 1);

    /** Where keyed state lives between checkpoints. */
    public enum StateBackend {
        /** On the JVM heap: fastest; state must fit in memory. */
        HASHMAP,
        /** In RocksDB on local disk: state larger than memory, incremental checkpoints. */
        ROCKSDB;

        public static StateBackend parse(String text) {
            try {
                return valueOf(text.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "state backend '" + text + "' must be hashmap or rocksdb");
            }
        }

        /** The value of Flink's {@code state.backend.type}. */
        public String flinkName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public OnlineJobConfig {
        require(kafka != null, "Kafka connection must be set");
        for (String[] topic :
                new String[][] {
                    {"events topic", eventsTopic},
                    {"labels topic", labelsTopic},
                    {"scores topic", scoresTopic},
                    {"metrics topic", metricsTopic},
                    {"dead-letter topic", deadLetterTopic}
                }) {
            require(notBlank(topic[1]), topic[0] + " must be set");
        }
        require(
                !eventsTopic.equals(labelsTopic),
                "events and labels must come from different topics, both are " + eventsTopic);
        for (String output : List.of(scoresTopic, metricsTopic, deadLetterTopic)) {
            require(
                    !output.equals(eventsTopic) && !output.equals(labelsTopic),
                    "output topic "
                            + output
                            + " is also an input topic: the job would read its own"
                            + " output");
        }
        require(startFrom != null, "start-from must be set");
        require(learner != null, "learner config must be set");
        require(codec != null, "codec config must be set");
        require(parallelism >= 1, "parallelism must be at least 1, got " + parallelism);
        require(
                checkpointInterval != null && checkpointInterval.toMillis() >= 10,
                "checkpoint interval must be at least 10ms, got " + checkpointInterval);
        require(notBlank(checkpointDir), "checkpoint dir must be set");
        require(stateBackend != null, "state backend must be set");
        require(
                notBlank(transactionalIdPrefix),
                "transactional id prefix must be set (unique per job on the Kafka cluster)");
        require(
                transactionTimeout != null
                        && transactionTimeout.compareTo(checkpointInterval) > 0
                        && transactionTimeout.compareTo(BROKER_MAX_TRANSACTION_TIMEOUT) <= 0,
                "transaction timeout must be above the checkpoint interval ("
                        + checkpointInterval
                        + ") and at most the broker's transaction.max.timeout.ms (15 min), got "
                        + transactionTimeout);
        require(restartAttempts >= 0, "restart attempts must be >= 0, got " + restartAttempts);
        require(
                restartDelay != null && !restartDelay.isNegative(),
                "restart delay must not be negative");
    }

    private static boolean notBlank(String s) {
        return s != null && !s.isBlank();
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    /** Kafka's bootstrap servers, {@code host:port[,host:port...]}. */
    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** The checkpoint directory as a URI Flink understands ({@code file:///...} for a path). */
    public String checkpointUri() {
        return toUri(checkpointDir);
    }

    /** Where savepoints of this job go: {@code savepoints/} under the checkpoint directory. */
    public String savepointUri() {
        String base = checkpointUri();
        return (base.endsWith("/") ? base : base + "/") + "savepoints";
    }

    /** The checkpoint directory as a local path, or null when it is remote (s3://, hdfs://...). */
    public Path localCheckpointDir() {
        URI uri = URI.create(checkpointUri());
        return "file".equals(uri.getScheme()) ? Path.of(uri) : null;
    }

    /** This configuration, restoring from {@code path}. */
    public OnlineJobConfig restoringFrom(String path) {
        return toBuilder().restoreFrom(path).build();
    }

    /** This configuration with another parallelism. */
    public OnlineJobConfig withParallelism(int value) {
        return toBuilder().parallelism(value).build();
    }

    private static String toUri(String dir) {
        if (dir.matches("^[A-Za-z][A-Za-z0-9+.-]*://.*")) {
            return dir;
        }
        return Path.of(dir).toAbsolutePath().normalize().toUri().toString();
    }

    /** A builder with every default, for a job learning with {@code learner}. */
    public static Builder builder(OnlineKanConfig learner) {
        return new Builder(learner);
    }

    /** The default learner: {@link #DEFAULT_LAYERS}, regression, the operator's defaults. */
    public static OnlineKanConfig defaultLearner() {
        return OnlineKanConfig.builder(KanConfig.builder(DEFAULT_LAYERS).build()).build();
    }

    public Builder toBuilder() {
        return new Builder(learner)
                .kafka(kafka)
                .eventsTopic(eventsTopic)
                .labelsTopic(labelsTopic)
                .scoresTopic(scoresTopic)
                .metricsTopic(metricsTopic)
                .deadLetterTopic(deadLetterTopic)
                .startFrom(startFrom)
                .bounded(bounded)
                .codec(codec)
                .parallelism(parallelism)
                .checkpointInterval(checkpointInterval)
                .checkpointDir(checkpointDir)
                .stateBackend(stateBackend)
                .transactionalIdPrefix(transactionalIdPrefix)
                .transactionTimeout(transactionTimeout)
                .restartAttempts(restartAttempts)
                .restartDelay(restartDelay)
                .restoreFrom(restoreFrom);
    }

    /** The defaults. */
    public static final class Builder {
        private OnlineKanConfig learner;
        private KafkaConnection kafka =
                KafkaConnection.of(KafkaConnection.DEFAULT_BOOTSTRAP_SERVERS);
        private String eventsTopic = "events";
        private String labelsTopic = "labels";
        private String scoresTopic = "scores";
        private String metricsTopic = "metrics";
        private String deadLetterTopic = "dead-letters";
        private StartFrom startFrom = StartFrom.EARLIEST;
        private boolean bounded = false;
        private EventCodecConfig codec = EventCodecConfig.defaults();
        private int parallelism = 1;
        private Duration checkpointInterval = Duration.ofSeconds(2);
        private String checkpointDir = ".kanstream/checkpoints";
        private StateBackend stateBackend = StateBackend.HASHMAP;
        private String transactionalIdPrefix = "kanstream";
        private Duration transactionTimeout = Duration.ofMinutes(10);
        private int restartAttempts = 10;
        private Duration restartDelay = Duration.ofSeconds(1);
        private String restoreFrom;

        private Builder(OnlineKanConfig learner) {
            this.learner = learner;
        }

        public Builder learner(OnlineKanConfig value) {
            learner = value;
            return this;
        }

        /** Other servers, the same client settings. */
        public Builder bootstrapServers(String value) {
            kafka = kafka.withBootstrapServers(value);
            return this;
        }

        public Builder kafka(KafkaConnection value) {
            kafka = value;
            return this;
        }

        public Builder eventsTopic(String value) {
            eventsTopic = value;
            return this;
        }

        public Builder labelsTopic(String value) {
            labelsTopic = value;
            return this;
        }

        public Builder scoresTopic(String value) {
            scoresTopic = value;
            return this;
        }

        public Builder metricsTopic(String value) {
            metricsTopic = value;
            return this;
        }

        public Builder deadLetterTopic(String value) {
            deadLetterTopic = value;
            return this;
        }

        public Builder startFrom(StartFrom value) {
            startFrom = value;
            return this;
        }

        public Builder bounded(boolean value) {
            bounded = value;
            return this;
        }

        public Builder codec(EventCodecConfig value) {
            codec = value;
            return this;
        }

        public Builder parallelism(int value) {
            parallelism = value;
            return this;
        }

        public Builder checkpointInterval(Duration value) {
            checkpointInterval = value;
            return this;
        }

        public Builder checkpointDir(String value) {
            checkpointDir = value;
            return this;
        }

        public Builder stateBackend(StateBackend value) {
            stateBackend = value;
            return this;
        }

        public Builder transactionalIdPrefix(String value) {
            transactionalIdPrefix = value;
            return this;
        }

        public Builder transactionTimeout(Duration value) {
            transactionTimeout = value;
            return this;
        }

        public Builder restartAttempts(int value) {
            restartAttempts = value;
            return this;
        }

        public Builder restartDelay(Duration value) {
            restartDelay = value;
            return this;
        }

        public Builder restoreFrom(String value) {
            restoreFrom = value;
            return this;
        }

        /**
         * @throws IllegalArgumentException naming the setting that is wrong
         */
        public OnlineJobConfig build() {
            return new OnlineJobConfig(
                    kafka,
                    eventsTopic,
                    labelsTopic,
                    scoresTopic,
                    metricsTopic,
                    deadLetterTopic,
                    startFrom,
                    bounded,
                    learner,
                    codec,
                    parallelism,
                    checkpointInterval,
                    checkpointDir,
                    stateBackend,
                    transactionalIdPrefix,
                    transactionTimeout,
                    restartAttempts,
                    restartDelay,
                    restoreFrom);
        }
    }
}
