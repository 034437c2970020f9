package io.kanstream.jobs.online;

import static org.assertj.core.api.Assertions.assertThat;

import io.kanstream.jobs.LocalKafka;
import io.kanstream.jobs.LocalKafka.Broker;
import io.kanstream.kan.Task;
import io.kanstream.stream.Event;
import io.kanstream.stream.Label;
import io.kanstream.stream.Metric;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The savepoint in {@code src/test/resources/savepoints/format-v1/}: what went into it, the job
 * configuration it belongs to, and how it was made. {@link SavepointFormatV1Test} restores it.
 *
 * <p>The job ran on the synthetic stream of {@link JobFixture} (4 keys, regression, the default
 * 4,8,1 model, batches of 16, a metric record every 50 labeled examples, parallelism 2, hashmap
 * state backend) on topics named {@value #NAME}-*. Of its {@value #EVENTS} events (100 per key) the
 * first 90 per key came labeled and the last 10 per key came without a label, so each key's state
 * holds a model after 5 steps, a pending batch of 10 examples, 10 events awaiting their labels
 * (with their timers), and the drift detector's window.
 *
 * <p>The writer is a test that runs only when asked, and is kept to document the fixture, not to
 * refresh it: rerunning it on newer code writes the NEW format, and the point of the fixture is
 * that it holds the old one. Don't.
 *
 * <pre>
 * mvn -B -o -pl jobs -am test -Dtest=FormatV1Savepoint -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dkanstream.fixtures.write=savepoint-format-v1
 * </pre>
 *
 * ({@code -am}: kan-operators from this checkout, not whichever build was last installed.)
 */
@ExtendWith(LocalKafka.class)
class FormatV1Savepoint {
    /** Topic names and the transactional id prefix: the savepoint's source and sink state. */
    static final String NAME = "format-v1";

    static final int EVENTS = 400;

    /** Per key, the last this many events were sent without their labels. */
    static final int UNLABELED_PER_KEY = 10;

    static final int EVENTS_PER_KEY = EVENTS / JobFixture.KEYS;
    static final int LABELED_PER_KEY = EVENTS_PER_KEY - UNLABELED_PER_KEY;

    /**
     * Long enough that nothing expires, however long after the savepoint it is restored: an
     * awaiting event's timer is in processing time, and one in the past would fire on restore.
     */
    static final Duration LABEL_TTL = Duration.ofDays(3650);

    @TempDir Path temp;

    /**
     * The job's configuration, the same when writing and restoring (but for what it restores). Idle
     * keys never expire: the idle timer is in processing time, and on restore it would fire at once
     * and drop every key the savepoint holds.
     */
    static OnlineJobConfig config(JobFixture f) {
        return f.config(
                Task.REGRESSION,
                l -> l.labelTtl(LABEL_TTL).idleKeyTtl(Duration.ZERO).metricsEvery(50));
    }

    /**
     * The events that went into the savepoint, labels stripped from the last {@value
     * #UNLABELED_PER_KEY} per key. Sending them again to fresh topics puts the sources' restored
     * offsets right behind them.
     */
    static List<Event> history() {
        List<Event> out = new ArrayList<>();
        for (Event e : JobFixture.synthetic(0, EVENTS, Task.REGRESSION)) {
            boolean late = indexOf(e) >= EVENTS - UNLABELED_PER_KEY * JobFixture.KEYS;
            out.add(late ? new Event(e.id(), e.key(), e.ts(), e.features()) : e);
        }
        return out;
    }

    /** The labels the savepoint's awaiting events wait for. */
    static List<Label> withheldLabels() {
        return JobFixture.synthetic(0, EVENTS, Task.REGRESSION).stream()
                .filter(e -> indexOf(e) >= EVENTS - UNLABELED_PER_KEY * JobFixture.KEYS)
                .map(e -> new Label(e.id(), e.key(), e.label(), e.ts()))
                .toList();
    }

    /** The stream index of a synthetic event, from its id {@code s<seed>-<index>}. */
    static long indexOf(Event e) {
        return Long.parseLong(e.id().substring(e.id().lastIndexOf('-') + 1));
    }

    @Test
    @EnabledIfSystemProperty(named = "kanstream.fixtures.write", matches = "savepoint-format-v1")
    void writesTheFormatV1Savepoint(Broker broker) throws Exception {
        JobFixture f = new JobFixture(broker, NAME, temp.resolve("checkpoints"));
        OnlineJobConfig config = config(f);
        f.send(history());

        JobClient job = OnlineLearningJob.start(config, false, new Configuration());
        String savepoint;
        try {
            assertThat(f.awaitScores(EVENTS, Duration.ofMinutes(2))).isEqualTo(EVENTS);
            savepoint =
                    job.stopWithSavepoint(
                                    false, config.savepointUri(), SavepointFormatType.CANONICAL)
                            .get(2, TimeUnit.MINUTES);
        } catch (Exception e) {
            job.cancel();
            throw e;
        }

        Map<String, List<Metric>> byKey = OnlineLearningJobTest.metricsByKey(f.committedMetrics());
        byKey.forEach((key, m) -> System.out.printf("%s: metric records %s%n", key, m));
        assertThat(byKey).hasSize(JobFixture.KEYS);

        Path target =
                Path.of(System.getProperty("kanstream.repo.dir", ".."))
                        .resolve("jobs/src/test/resources/savepoints/" + NAME);
        copySavepoint(Path.of(URI.create(savepoint)), target);
        System.out.printf("savepoint %s copied to %s%n", savepoint, target.toAbsolutePath());
    }

    /** Replaces the savepoint's files in {@code target}, keeping its README. */
    static void copySavepoint(Path from, Path target) throws IOException {
        Files.createDirectories(target);
        try (Stream<Path> old = Files.walk(target)) {
            for (Path p : old.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(target) && !p.getFileName().toString().equals("README.md")) {
                    Files.delete(p);
                }
            }
        }
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : files.toList()) {
                Path to = target.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(p, to);
                }
            }
        }
    }
}
