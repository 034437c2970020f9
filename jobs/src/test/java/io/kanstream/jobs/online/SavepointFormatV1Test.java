package io.kanstream.jobs.online;

import static org.assertj.core.api.Assertions.assertThat;

import io.kanstream.jobs.LocalKafka;
import io.kanstream.jobs.LocalKafka.Broker;
import io.kanstream.kan.Task;
import io.kanstream.stream.Event;
import io.kanstream.stream.EventCodec;
import io.kanstream.stream.Label;
import io.kanstream.stream.Metric;
import io.kanstream.stream.Score;
import java.net.URL;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A savepoint of the job written by format version 1 (the committed {@code savepoints/format-v1},
 * see {@link FormatV1Savepoint}) still restores: every key goes on from the counters, pending batch
 * and awaiting events it had, rather than starting over. A later state format must keep this
 * passing through its migration, not by writing a new savepoint.
 */
@ExtendWith(LocalKafka.class)
class SavepointFormatV1Test {
    @TempDir Path temp;

    @Test
    void theJobRestoredFromAVersion1SavepointContinuesEveryKeysLearning(Broker broker)
            throws Exception {
        // moved away from where it was written and from the repository: savepoints relocate
        Path savepoint = temp.resolve("savepoint");
        URL metadata = getClass().getResource("/savepoints/format-v1/_metadata");
        assertThat(metadata).as("the committed savepoint").isNotNull();
        FormatV1Savepoint.copySavepoint(Path.of(metadata.toURI()).getParent(), savepoint);

        // the topics as the savepoint knew them: its source offsets stand right behind history
        JobFixture f = new JobFixture(broker, FormatV1Savepoint.NAME, temp.resolve("checkpoints"));
        f.send(FormatV1Savepoint.history());
        List<Label> withheld = FormatV1Savepoint.withheldLabels();
        broker.send(
                f.labels,
                withheld.stream().map(l -> Map.entry(l.key(), EventCodec.writeLabel(l))).toList());
        int n = FormatV1Savepoint.EVENTS;
        List<Event> next = JobFixture.synthetic(n, 2 * n, Task.REGRESSION);
        f.send(next);

        OnlineJobConfig config =
                FormatV1Savepoint.config(f).restoringFrom(savepoint.toUri().toString());
        JobClient job = OnlineLearningJob.start(config, false, new Configuration());
        try {
            assertThat(f.awaitScores(n, Duration.ofMinutes(2))).isGreaterThanOrEqualTo(n);
        } finally {
            OnlineLearningJobTest.stop(job, config);
        }

        // a score for every new event, and none for the history the savepoint had consumed
        List<Score> scores = f.committedScores();
        assertThat(scores.stream().map(Score::id).toList())
                .containsExactlyInAnyOrderElementsOf(next.stream().map(Event::id).toList());

        int before = FormatV1Savepoint.LABELED_PER_KEY;
        int perKey = before + FormatV1Savepoint.UNLABELED_PER_KEY + n / JobFixture.KEYS;
        Map<String, List<Metric>> byKey = OnlineLearningJobTest.metricsByKey(f.committedMetrics());
        assertThat(byKey).containsOnlyKeys("key-0", "key-1", "key-2", "key-3");
        for (var e : byKey.entrySet()) {
            List<Metric> m = e.getValue();
            String key = e.getKey();
            // the savepoint held 90 labeled (metric window at 40 of 50): the next record comes at
            // 100 (earlier only on a drift), where a fresh key would first report at 50
            assertThat(m.get(0).labeled())
                    .as("first labeled count of %s", key)
                    .isBetween(before + 1L, 100L);
            // steps count every labeled example through full batches of 16, the savepoint's
            // 5 steps and pending 10 examples included
            assertThat(m)
                    .as("metric records of %s", key)
                    .allMatch(x -> x.steps() == x.labeled() / JobFixture.BATCH)
                    .allMatch(x -> x.events() >= FormatV1Savepoint.EVENTS_PER_KEY);
            // the withheld labels met the events the savepoint kept waiting for them: 200 labeled
            assertThat(m.get(m.size() - 1).labeled())
                    .as("last labeled count of %s", key)
                    .isGreaterThan(perKey - 50L);
            if (m.stream().noneMatch(Metric::drift)) {
                assertThat(m.stream().map(Metric::labeled).toList())
                        .as("labeled counts of %s", key)
                        .containsExactly(100L, 150L, (long) perKey);
                assertThat(m.get(m.size() - 1).events())
                        .as("events of %s", key)
                        .isEqualTo(FormatV1Savepoint.EVENTS_PER_KEY + n / JobFixture.KEYS);
            }
        }
        System.out.printf(
                "format-v1 savepoint restored: %d new scores; per key (labeled, steps, events)"
                        + " %s%n",
                scores.size(),
                byKey.entrySet().stream()
                        .collect(
                                Collectors.toMap(
                                        Map.Entry::getKey,
                                        x ->
                                                x.getValue().stream()
                                                        .map(
                                                                r ->
                                                                        r.labeled()
                                                                                + "/"
                                                                                + r.steps()
                                                                                + "/"
                                                                                + r.events())
                                                        .toList())));
    }
}
