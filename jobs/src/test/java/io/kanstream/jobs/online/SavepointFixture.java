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
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed savepoints in {@code src/test/resources/savepoints/<name>/}, one per state format a
 * release wrote: what went into them, the job configuration they belong to, how they were made, and
 * the check that they still restore ({@link #restoresAndContinuesEveryKeysLearning}).
 *
 * <p>Every fixture ran the same scenario: the synthetic stream of {@link JobFixture} (4 keys,
 * regression, the default 4,8,1 model, batches of 16, a metric record every 50 labeled examples,
 * parallelism 2, hashmap state backend) on topics named after the fixture ({@code <name>-*}). Of
 * its {@value #EVENTS} events (100 per key) the first 90 per key came labeled and the last 10 per
 * key came without a label, so each key's state holds a model after 5 steps, a pending batch of 10
 * examples, 10 events awaiting their labels (with their timers), and the drift detector's window.
 *
 * <p>The writer is a test that runs only when asked, and is kept to document the fixtures, not to
 * refresh them: rerunning it on newer code writes the NEW format, and the point of a fixture is
 * that it holds the old one. It refuses to overwrite a fixture that exists. Run it with the code of
 * the release whose format the fixture is to hold:
 *
 * <pre>
 * mvn -B -o -pl jobs -am test -Dtest=SavepointFixture -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dkanstream.fixtures.write=savepoint-format-2
 * </pre>
 *
 * ({@code -am}: kan-operators from this checkout, not whichever build was last installed.) The
 * property names the fixture: {@code savepoint-<name>} writes {@code savepoints/<name>/}.
 */
@ExtendWith(LocalKafka.class)
class SavepointFixture {
    /** The property that asks for a fixture to be written, and its value's prefix. */
    static final String WRITE_PROPERTY = "kanstream.fixtures.write";

    static final String WRITE_PREFIX = "savepoint-";

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
    @EnabledIfSystemProperty(named = WRITE_PROPERTY, matches = WRITE_PREFIX + ".+")
    void writesTheSavepointFixtureNamedByTheProperty(Broker broker) throws Exception {
        String name = System.getProperty(WRITE_PROPERTY).substring(WRITE_PREFIX.length());
        Path target = fixtures().resolve(name);
        if (Files.exists(target.resolve("_metadata"))) {
            throw new IllegalStateException(
                    target
                            + " already holds a savepoint: a fixture keeps the format it was written"
                            + " in, so it is never rewritten. Name a new one.");
        }
        JobFixture f = new JobFixture(broker, name, temp.resolve("checkpoints"));
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

        copySavepoint(Path.of(URI.create(savepoint)), target);
        System.out.printf("savepoint %s copied to %s%n", savepoint, target.toAbsolutePath());
    }

    /** Where the fixtures live in the source tree (the writer writes there, not to target/). */
    private static Path fixtures() {
        return Path.of(System.getProperty("kanstream.repo.dir", ".."))
                .resolve("jobs/src/test/resources/savepoints");
    }

    /**
     * Restores the committed fixture {@code name} and checks that the job goes on where every key
     * stopped: a score for every new event and none for history, counters, pending batch and
     * awaiting events carried over.
     */
    static void restoresAndContinuesEveryKeysLearning(Broker broker, Path temp, String name)
            throws Exception {
        // moved away from where it was written and from the repository: savepoints relocate
        Path savepoint = temp.resolve("savepoint");
        URL metadata = SavepointFixture.class.getResource("/savepoints/" + name + "/_metadata");
        assertThat(metadata).as("the committed savepoint %s", name).isNotNull();
        copySavepoint(Path.of(metadata.toURI()).getParent(), savepoint);

        // the topics as the savepoint knew them: its source offsets stand right behind history
        JobFixture f = new JobFixture(broker, name, temp.resolve("checkpoints"));
        f.send(history());
        List<Label> withheld = withheldLabels();
        broker.send(
                f.labels,
                withheld.stream().map(l -> Map.entry(l.key(), EventCodec.writeLabel(l))).toList());
        int n = EVENTS;
        List<Event> next = JobFixture.synthetic(n, 2 * n, Task.REGRESSION);
        f.send(next);

        OnlineJobConfig config = config(f).restoringFrom(savepoint.toUri().toString());
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

        int before = LABELED_PER_KEY;
        int perKey = before + UNLABELED_PER_KEY + n / JobFixture.KEYS;
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
                    .allMatch(x -> x.events() >= EVENTS_PER_KEY);
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
                        .isEqualTo(EVENTS_PER_KEY + n / JobFixture.KEYS);
            }
        }
        System.out.printf(
                "%s savepoint restored: %d new scores; per key (labeled/steps/events) %s%n",
                name,
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
