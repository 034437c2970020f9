package io.kanstream.jobs.online;

import static org.assertj.core.api.Assertions.assertThat;

import io.kanstream.jobs.LocalKafka;
import io.kanstream.jobs.LocalKafka.Broker;
import io.kanstream.kan.Task;
import io.kanstream.stream.Event;
import io.kanstream.stream.Metric;
import io.kanstream.stream.Score;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job end to end on a MiniCluster against a real broker: exactly-once output, failover, and
 * savepoint-restore with another parallelism.
 */
@ExtendWith(LocalKafka.class)
class OnlineLearningJobTest {
    @TempDir Path temp;

    @Test
    void scoresEveryLabeledEventExactlyOnceAndEachKeysPrequentialLossFalls(Broker broker)
            throws Exception {
        JobFixture f = new JobFixture(broker, "exactly-once", temp.resolve("checkpoints"));
        int n = 2_400;
        List<Event> sent = JobFixture.synthetic(0, n, Task.REGRESSION);
        f.send(sent);

        long t0 = System.nanoTime();
        JobClient job =
                OnlineLearningJob.start(
                        f.config(l -> l).toBuilder().bounded(true).build(),
                        false,
                        new Configuration());
        job.getJobExecutionResult().get(5, TimeUnit.MINUTES);
        double seconds = (System.nanoTime() - t0) / 1e9;

        List<Score> scores = f.committedScores();
        assertThat(scores).hasSize(n);
        assertThat(scores.stream().map(Score::id).distinct().count()).isEqualTo(n);
        assertThat(scores.stream().map(Score::id).collect(Collectors.toSet()))
                .isEqualTo(sent.stream().map(Event::id).collect(Collectors.toSet()));
        Map<String, String> keyOf = sent.stream().collect(Collectors.toMap(Event::id, Event::key));
        assertThat(scores).allMatch(s -> s.key().equals(keyOf.get(s.id())));

        Map<String, List<Metric>> byKey = metricsByKey(f.committedMetrics());
        assertThat(byKey).hasSize(JobFixture.KEYS);
        System.out.printf(
                "exactly-once: %d events in, %d scores out (%d distinct ids), bounded run %.1f s%n",
                n, scores.size(), n, seconds);
        for (var e : byKey.entrySet()) {
            List<Metric> m = e.getValue();
            double early = meanLoss(m.subList(0, 3));
            double late = meanLoss(m.subList(m.size() - 3, m.size()));
            System.out.printf(
                    "  %s: prequential MSE first 150 labeled %.4f, last 150 %.4f (%d steps)%n",
                    e.getKey(), early, late, m.get(m.size() - 1).steps());
            assertThat(late).as("late loss of %s", e.getKey()).isLessThan(early * 0.7);
        }
    }

    @Test
    void restoresFromItsCheckpointAfterAFailureAndStillScoresEveryEventOnce(Broker broker)
            throws Exception {
        JobFixture f = new JobFixture(broker, "failover", temp.resolve("checkpoints"));
        int n = 2_000;
        List<Event> sent = JobFixture.synthetic(0, n, Task.REGRESSION);
        String failAt = sent.get(n * 3 / 4).id();
        Path flag = temp.resolve("failed-once");

        f.send(sent.subList(0, n / 2));
        JobClient job =
                OnlineLearningJob.start(
                        f.config(l -> l),
                        false,
                        new Configuration(),
                        events -> events.map(new FailOnce(failAt, flag)).name("fail once"));
        try {
            // the first half is committed, so a checkpoint covers it; only then comes the rest
            assertThat(f.awaitScores(n / 2, Duration.ofMinutes(2))).isGreaterThanOrEqualTo(n / 2);
            f.send(sent.subList(n / 2, n));
            assertThat(f.awaitScores(n, Duration.ofMinutes(3))).isGreaterThanOrEqualTo(n);
            assertThat(flag).as("the injected failure happened").exists();
            // a little longer: anything doubled would be committed by the next checkpoints
            Thread.sleep(1_500);
            assertThat(job.getJobStatus().get()).isEqualTo(JobStatus.RUNNING);
        } finally {
            stop(job, f.config(l -> l));
        }

        List<Score> scores = f.committedScores();
        assertThat(scores).hasSize(n);
        assertThat(scores.stream().map(Score::id).distinct().count()).isEqualTo(n);

        // every key's metric records, read_committed: labeled 50, 100, ... each once, and the
        // step counter always equals labeled / batch: no step lost to the restore, none doubled
        Map<String, List<Metric>> byKey = metricsByKey(f.committedMetrics());
        for (var e : byKey.entrySet()) {
            List<Metric> m = e.getValue();
            int perKey = n / JobFixture.KEYS;
            assertThat(m.stream().map(Metric::labeled).toList())
                    .as("labeled counts of %s", e.getKey())
                    .isEqualTo(
                            java.util.stream.LongStream.rangeClosed(1, perKey / 50)
                                    .map(i -> i * 50)
                                    .boxed()
                                    .toList());
            assertThat(m).allMatch(x -> x.steps() == x.labeled() / JobFixture.BATCH);
        }
        System.out.printf(
                "failover: failure injected at %s (event %d of %d); %d scores committed, %d"
                        + " distinct; final steps per key %s%n",
                failAt,
                n * 3 / 4,
                n,
                scores.size(),
                n,
                byKey.entrySet().stream()
                        .collect(
                                Collectors.toMap(
                                        Map.Entry::getKey,
                                        e -> e.getValue().get(e.getValue().size() - 1).steps(),
                                        (a, b) -> a,
                                        TreeMap::new)));
    }

    @Test
    void restartedFromASavepointWithAnotherParallelismEveryModelPredictsExactlyAsBefore(
            Broker broker) throws Exception {
        JobFixture f = new JobFixture(broker, "rescale", temp.resolve("checkpoints"));
        int n = 1_600; // 400 per key: 25 full batches, nothing pending
        // each key's own model: a shared model is a subtask's, and a rescale moves keys to
        // subtasks whose shared model learned from other keys (PopulationTest's rescale)
        OnlineJobConfig config =
                f.config(l -> l.population(false)).toBuilder()
                        .stateBackend(OnlineJobConfig.StateBackend.ROCKSDB)
                        .build();
        f.send(JobFixture.synthetic(0, n, Task.REGRESSION));

        JobClient before = OnlineLearningJob.start(config, false, new Configuration());
        String savepoint;
        try {
            assertThat(f.awaitScores(n, Duration.ofMinutes(2))).isGreaterThanOrEqualTo(n);
            f.send(probes("probe-before"));
            assertThat(f.awaitScores(n + PROBES, Duration.ofMinutes(1)))
                    .isGreaterThanOrEqualTo(n + PROBES);
            savepoint =
                    before.stopWithSavepoint(
                                    false, config.savepointUri(), SavepointFormatType.CANONICAL)
                            .get(2, TimeUnit.MINUTES);
        } catch (Exception e) {
            before.cancel();
            throw e;
        }

        OnlineJobConfig after = config.withParallelism(3).restoringFrom(savepoint);
        JobClient restored = OnlineLearningJob.start(after, false, new Configuration());
        try {
            f.send(probes("probe-after"));
            assertThat(f.awaitScores(n + 2 * PROBES, Duration.ofMinutes(2)))
                    .isGreaterThanOrEqualTo(n + 2 * PROBES);
        } finally {
            stop(restored, after);
        }

        List<Score> scores = f.committedScores();
        assertThat(scores).hasSize(n + 2 * PROBES);
        Map<String, Score> byId =
                scores.stream().collect(Collectors.toMap(Score::id, Function.identity()));
        int identical = 0;
        for (int i = 0; i < PROBES; i++) {
            Score a = byId.get("probe-before-" + i);
            Score b = byId.get("probe-after-" + i);
            assertThat(b.key()).isEqualTo(a.key());
            assertThat(b.modelVersion())
                    .as("model version of %s", a.key())
                    .isEqualTo(a.modelVersion());
            assertThat(Double.doubleToRawLongBits(b.score()))
                    .as("probe %d of %s: %s before, %s after", i, a.key(), a.score(), b.score())
                    .isEqualTo(Double.doubleToRawLongBits(a.score()));
            identical++;
        }
        System.out.printf(
                "rescale: savepoint %s; parallelism 2 -> 3 (rocksdb); %d of %d probe scores"
                        + " bit-identical, model versions %s%n",
                savepoint,
                identical,
                PROBES,
                scores.stream()
                        .filter(s -> s.id().startsWith("probe-after"))
                        .collect(
                                Collectors.toMap(
                                        Score::key,
                                        Score::modelVersion,
                                        (a, b) -> a,
                                        TreeMap::new)));
    }

    private static final int PROBES = 80;

    /** The same unlabeled probe events (20 per key) under ids with the given prefix. */
    private static List<Event> probes(String prefix) {
        SplittableRandom random = new SplittableRandom(99);
        List<Event> out = new ArrayList<>();
        for (int i = 0; i < PROBES; i++) {
            float[] x = new float[4];
            for (int j = 0; j < x.length; j++) {
                x[j] = (float) (2 * random.nextDouble() - 1);
            }
            out.add(
                    new Event(
                            prefix + "-" + i,
                            "key-" + (i % JobFixture.KEYS),
                            System.currentTimeMillis(),
                            x));
        }
        return out;
    }

    static Map<String, List<Metric>> metricsByKey(List<Metric> metrics) {
        return metrics.stream()
                .collect(
                        Collectors.groupingBy(
                                Metric::key,
                                TreeMap::new,
                                Collectors.collectingAndThen(
                                        Collectors.toList(),
                                        l ->
                                                l.stream()
                                                        .sorted(
                                                                Comparator.comparingLong(
                                                                        Metric::labeled))
                                                        .toList())));
    }

    private static double meanLoss(List<Metric> metrics) {
        return metrics.stream().mapToDouble(Metric::loss).average().orElseThrow();
    }

    /** Stops with a savepoint, so the last transactions commit; cancels if that fails. */
    static void stop(JobClient job, OnlineJobConfig config) throws Exception {
        try {
            job.stopWithSavepoint(false, config.savepointUri(), SavepointFormatType.CANONICAL)
                    .get(2, TimeUnit.MINUTES);
        } catch (Exception e) {
            job.cancel().get(1, TimeUnit.MINUTES);
            throw e;
        }
    }
}
