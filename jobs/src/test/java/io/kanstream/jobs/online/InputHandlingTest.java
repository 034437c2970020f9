package io.kanstream.jobs.online;

import static org.assertj.core.api.Assertions.assertThat;

import io.kanstream.jobs.LocalKafka;
import io.kanstream.jobs.LocalKafka.Broker;
import io.kanstream.jobs.produce.EventSender;
import io.kanstream.kan.Task;
import io.kanstream.stream.DeadLetter;
import io.kanstream.stream.Event;
import io.kanstream.stream.EventCodec;
import io.kanstream.stream.EventCodecConfig;
import io.kanstream.stream.Label;
import io.kanstream.stream.Metric;
import io.kanstream.stream.Score;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.AbstractMap.SimpleEntry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** What the job does with input it cannot use, and with labels that come late or never. */
@ExtendWith(LocalKafka.class)
class InputHandlingTest {
    @TempDir Path temp;

    @Test
    void badInputGoesToTheDeadLetterTopicWithItsReasonAndEveryRecordIsAccountedFor(Broker broker)
            throws Exception {
        JobFixture f = new JobFixture(broker, "bad-input", temp.resolve("checkpoints"));
        OnlineJobConfig config =
                f.config(Task.BINARY, l -> l).toBuilder()
                        .codec(EventCodecConfig.builder().maxRecordBytes(2_048).build())
                        .bounded(true)
                        .build();

        // reason fragments the codec gives, by the record that earns them
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("{\"id\":\"bad-json\",\"features\":[0.1,0.2", "truncated");
        bad.put("{\"id\":\"bad-width\",\"features\":[1,2,3]}", "features");
        bad.put("{\"id\":\"bad-nan\",\"features\":[NaN,0,0,0]}", "NaN");
        bad.put("{\"id\":\"bad-inf\",\"features\":[1e39,0,0,0]}", "float range");
        bad.put("{\"key\":\"key-0\",\"features\":[0,0,0,0],\"label\":1}", "id is missing");
        bad.put(
                "{\"id\":\"bad-big\",\"features\":[0,0,0,0],\"pad\":\"" + "x".repeat(5_000) + "\"}",
                "larger than the limit");
        List<Event> good = JobFixture.synthetic(0, 200, Task.BINARY);
        Event waiting =
                new Event("waits-for-label", "key-1", System.currentTimeMillis(), new float[4]);

        List<Map.Entry<String, byte[]>> events = new ArrayList<>();
        good.subList(0, 100).forEach(e -> events.add(record(e.key(), EventCodec.writeEvent(e))));
        bad.keySet().forEach(raw -> events.add(record(null, raw.getBytes(StandardCharsets.UTF_8))));
        events.add(record(null, null)); // a tombstone
        events.add(record(null, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1})); // not UTF-8 text
        good.subList(100, 200).forEach(e -> events.add(record(e.key(), EventCodec.writeEvent(e))));
        events.add(record(waiting.key(), EventCodec.writeEvent(waiting)));
        broker.send(f.events, events);
        broker.send(
                f.labels,
                List.of(
                        // parses, but a binary model cannot learn a 2: the operator rejects it
                        record(
                                "key-1",
                                EventCodec.writeLabel(
                                        new Label("waits-for-label", "key-1", 2, 1L))),
                        record("key-0", "{\"id\":\"no-label\",\"key\":\"key-0\"}".getBytes())));

        JobClient job = OnlineLearningJob.start(config, false, new Configuration());
        job.getJobExecutionResult().get(5, TimeUnit.MINUTES); // finished, not failed

        List<Score> scores = f.committedScores();
        List<DeadLetter> letters = f.committedDeadLetters();
        Map<String, List<DeadLetter>> byTopic =
                letters.stream().collect(Collectors.groupingBy(d -> String.valueOf(d.topic())));
        List<DeadLetter> fromEvents = byTopic.getOrDefault(f.events, List.of());
        letters.forEach(
                d -> System.out.printf("  dead letter from %s: %s%n", d.topic(), d.reason()));
        System.out.printf(
                "bad input: %d records in on %s = %d scored + %d dead-lettered; %d label records"
                        + " dead-lettered at parse, %d by the operator%n",
                events.size(),
                f.events,
                scores.size(),
                fromEvents.size(),
                byTopic.getOrDefault(f.labels, List.of()).size(),
                byTopic.getOrDefault("null", List.of()).size());

        assertThat(scores).hasSize(good.size() + 1);
        assertThat(scores.stream().map(Score::id).distinct().count()).isEqualTo(good.size() + 1);
        assertThat(scores.size() + fromEvents.size()).isEqualTo(events.size());
        assertThat(fromEvents).hasSize(bad.size() + 2);
        for (var e : bad.entrySet()) {
            byte[] raw = e.getKey().getBytes(StandardCharsets.UTF_8);
            DeadLetter d =
                    fromEvents.stream()
                            .filter(x -> x.rawSize() == raw.length)
                            .filter(x -> e.getKey().startsWith(x.raw()))
                            .findFirst()
                            .orElseThrow(
                                    () -> new AssertionError("no dead letter for " + e.getKey()));
            assertThat(d.reason()).containsIgnoringCase(e.getValue());
            assertThat(d.partition()).isBetween(0, 3);
            assertThat(d.offset()).isNotNegative();
        }
        assertThat(fromEvents).anyMatch(d -> d.rawSize() == -1 && d.raw() == null); // tombstone
        assertThat(fromEvents).anyMatch(DeadLetter::rawBase64); // the bytes that are not text
        assertThat(byTopic.get(f.labels))
                .singleElement()
                .satisfies(d -> assertThat(d.reason()).contains("label is missing"));
        assertThat(byTopic.get("null"))
                .singleElement()
                .satisfies(d -> assertThat(d.reason()).contains("waits-for-label"));
    }

    @Test
    void delayedLabelsFromTheLabelsTopicTrainTheModelAndLabelsThatNeverComeExpire(Broker broker)
            throws Exception {
        JobFixture f = new JobFixture(broker, "late-labels", temp.resolve("checkpoints"));
        OnlineJobConfig config =
                f.config(l -> l.labelTtl(Duration.ofSeconds(10)).batchSize(8).metricsEvery(10));
        InMemoryReporter reporter = InMemoryReporter.createWithRetainedMetrics();
        int n = 400;
        List<Event> sent = JobFixture.synthetic(0, n, Task.REGRESSION);

        JobClient job =
                OnlineLearningJob.start(
                        config, false, reporter.addToConfiguration(new Configuration()));
        EventSender.Summary summary;
        long learned;
        try {
            // events unlabeled; half of their labels 300 ms later on the labels topic, half never
            summary =
                    f.send(
                            sent,
                            new EventSender.Settings(
                                    f.events, f.labels, Duration.ofMillis(300), 0.5, 0));
            assertThat(f.awaitScores(n, Duration.ofMinutes(2))).isGreaterThanOrEqualTo(n);
            await(reporter, job.getJobID(), "kanLabeled", summary.labelsSent());
            await(reporter, job.getJobID(), "kanExpiredAwaiting", summary.labelsWithheld());

            // the missing labels, after their events expired: nothing left to join, they expire too
            List<Event> withheld =
                    sent.stream().filter(e -> !EventSender.keepsLabel(e.id(), 0.5)).toList();
            broker.send(
                    f.labels,
                    withheld.stream()
                            .map(
                                    e ->
                                            record(
                                                    e.key(),
                                                    EventCodec.writeLabel(
                                                            new Label(
                                                                    e.id(),
                                                                    e.key(),
                                                                    e.label(),
                                                                    System.currentTimeMillis()))))
                            .toList());
            await(reporter, job.getJobID(), "kanExpiredAwaiting", 2 * summary.labelsWithheld());
            learned = sum(reporter, job.getJobID(), "kanLabeled");
            assertThat(learned).isEqualTo(summary.labelsSent());
            Thread.sleep(1_500); // the metrics of the last labels are committed with a checkpoint
        } finally {
            OnlineLearningJobTest.stop(job, config);
        }

        Map<String, List<Metric>> byKey = OnlineLearningJobTest.metricsByKey(f.committedMetrics());
        assertThat(byKey).hasSize(JobFixture.KEYS);
        for (var e : byKey.entrySet()) {
            Metric last = e.getValue().get(e.getValue().size() - 1);
            assertThat(last.events()).as("events of %s", e.getKey()).isLessThanOrEqualTo(n / 4);
            assertThat(last.labeled()).isGreaterThan(0);
            assertThat(last.steps()).isEqualTo(last.labeled() / 8).isGreaterThan(0);
        }
        System.out.printf(
                "late labels: %d events unlabeled, %d labels sent 300 ms later, %d never; joined"
                        + " and learned %d, expired %d events then %d too-late labels; last"
                        + " metrics per key %s%n",
                n,
                summary.labelsSent(),
                summary.labelsWithheld(),
                learned,
                summary.labelsWithheld(),
                summary.labelsWithheld(),
                byKey.entrySet().stream()
                        .collect(
                                Collectors.toMap(
                                        Map.Entry::getKey,
                                        x -> {
                                            Metric m = x.getValue().get(x.getValue().size() - 1);
                                            return "labeled " + m.labeled() + " steps " + m.steps();
                                        })));
    }

    private static Map.Entry<String, byte[]> record(String key, byte[] value) {
        return new SimpleEntry<>(key, value);
    }

    /** The sum of an operator counter over the job's subtasks. */
    private static long sum(InMemoryReporter reporter, JobID job, String name) {
        return reporter.findMetrics(job, name).values().stream()
                .filter(m -> m instanceof Counter)
                .mapToLong(m -> ((Counter) m).getCount())
                .sum();
    }

    private static void await(InMemoryReporter reporter, JobID job, String name, long expected)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (sum(reporter, job, name) < expected && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertThat(sum(reporter, job, name)).as(name).isEqualTo(expected);
    }
}
