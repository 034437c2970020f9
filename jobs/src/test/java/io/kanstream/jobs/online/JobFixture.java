package io.kanstream.jobs.online;

import io.kanstream.jobs.LocalKafka.Broker;
import io.kanstream.jobs.produce.EventSender;
import io.kanstream.jobs.produce.SyntheticDrift;
import io.kanstream.kan.KanConfig;
import io.kanstream.kan.Task;
import io.kanstream.stream.DeadLetter;
import io.kanstream.stream.Event;
import io.kanstream.stream.Metric;
import io.kanstream.stream.OnlineKanConfig;
import io.kanstream.stream.OutputCodec;
import io.kanstream.stream.Parsed;
import io.kanstream.stream.Score;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Topics, configurations and readers shared by the job's tests. */
final class JobFixture {
    static final int KEYS = 4;
    static final int BATCH = 16;

    final Broker broker;
    final String events;
    final String labels;
    final String scores;
    final String metrics;
    final String deadLetters;
    final Path checkpoints;
    private final String name;

    /** Fresh topics named after the test: events and scores with 4 partitions. */
    JobFixture(Broker broker, String name, Path checkpoints) {
        this.broker = broker;
        this.name = name;
        this.events = name + "-events";
        this.labels = name + "-labels";
        this.scores = name + "-scores";
        this.metrics = name + "-metrics";
        this.deadLetters = name + "-dead-letters";
        this.checkpoints = checkpoints;
        broker.createTopics(4, events, scores);
        broker.createTopics(2, labels, metrics);
        broker.createTopics(1, deadLetters);
    }

    /** A job on these topics: parallelism 2, checkpoints every 500 ms, full batches only. */
    OnlineJobConfig config(UnaryOperator<OnlineKanConfig.Builder> learner) {
        return config(Task.REGRESSION, learner);
    }

    OnlineJobConfig config(Task task, UnaryOperator<OnlineKanConfig.Builder> learner) {
        OnlineKanConfig.Builder b =
                OnlineKanConfig.builder(
                                KanConfig.builder(OnlineJobConfig.DEFAULT_LAYERS)
                                        .task(task)
                                        .build())
                        .batchSize(BATCH)
                        .batchTimeout(Duration.ZERO)
                        .metricsEvery(50);
        return OnlineJobConfig.builder(learner.apply(b).build())
                .kafka(broker.connection())
                .eventsTopic(events)
                .labelsTopic(labels)
                .scoresTopic(scores)
                .metricsTopic(metrics)
                .deadLetterTopic(deadLetters)
                .parallelism(2)
                .checkpointInterval(Duration.ofMillis(500))
                .checkpointDir(checkpoints.toString())
                .transactionalIdPrefix("it-" + name)
                .transactionTimeout(Duration.ofMinutes(1))
                .restartDelay(Duration.ofMillis(200))
                .build();
    }

    /**
     * Events {@code from} until {@code to} of the synthetic stream, labeled, no drift; event time
     * now (older records would fall to the topics' 7-day retention at once).
     */
    static List<Event> synthetic(long from, long to, Task task) {
        SyntheticDrift drift = new SyntheticDrift(KEYS, 4, Long.MAX_VALUE, task, 0.05, 7);
        List<Event> out = new ArrayList<>();
        long now = System.currentTimeMillis();
        for (long i = from; i < to; i++) {
            out.add(drift.event(i, now + i));
        }
        return out;
    }

    /** Sends events, labels inline. */
    void send(List<Event> list) {
        send(list, new EventSender.Settings(events, null, Duration.ZERO, 1, 0));
    }

    EventSender.Summary send(List<Event> list, EventSender.Settings settings) {
        try (EventSender sender = new EventSender(broker.connection(), settings)) {
            return sender.send(list.iterator(), list.size());
        }
    }

    List<Score> committedScores() {
        return parse(broker.readAllCommitted(scores), OutputCodec::parseScore);
    }

    List<Metric> committedMetrics() {
        return parse(broker.readAllCommitted(metrics), OutputCodec::parseMetric);
    }

    List<DeadLetter> committedDeadLetters() {
        return parse(broker.readAllCommitted(deadLetters), OutputCodec::parseDeadLetter);
    }

    /** Waits until at least {@code n} scores are committed; returns how many were seen. */
    int awaitScores(int n, Duration timeout) {
        return broker.readCommitted(scores, read -> read.size() >= n, timeout).size();
    }

    static <T> List<T> parse(
            List<ConsumerRecord<byte[], byte[]>> records, Function<byte[], Parsed<T>> parser) {
        return records.stream().map(r -> parser.apply(r.value()).orElseThrow()).toList();
    }
}
