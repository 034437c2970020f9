package io.kanstream.jobs.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.kanstream.jobs.LocalKafka;
import io.kanstream.jobs.bench.PipelineBench.SteadyCase;
import io.kanstream.jobs.bench.PipelineBench.SteadyRow;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The steady part end to end, small: a real broker, both state backends, two rounds. */
@ExtendWith(LocalKafka.class)
class PipelineBenchSteadyTest {
    @Test
    void everyRowRunsItsRoundsOverOneBacklogAndNoJobGetsAnEventsTopicItDoesNotRead(
            LocalKafka.Broker kafka, @TempDir Path work) throws Exception {
        PipelineBench.Settings settings =
                new PipelineBench.Settings(
                        List.of(),
                        0,
                        1,
                        0,
                        Duration.ZERO,
                        List.of(),
                        2,
                        Duration.ofSeconds(2),
                        1_000,
                        SteadyCase.parseAll("hashmap:10,rocksdb:10"),
                        5,
                        Duration.ofSeconds(30),
                        2_000,
                        2);
        Set<String> before = benchTopics(kafka);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PipelineBench bench =
                new PipelineBench(
                        settings,
                        kafka.connection(),
                        work,
                        new PrintStream(log, true, StandardCharsets.UTF_8));

        List<SteadyRow> rows = bench.steady();

        assertThat(bench.failures()).as(log.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(rows)
                .extracting(SteadyRow::keys, SteadyRow::stateBackend)
                .containsExactly(tuple(10, "hashmap"), tuple(10, "rocksdb"));
        for (SteadyRow row : rows) {
            assertThat(row.roundEventsPerS()).hasSize(2);
            assertThat(Arrays.stream(row.roundEventsPerS()).min().orElseThrow()).isPositive();
            assertThat(row.roundPassthroughEventsPerS()).hasSize(2);
            assertThat(row.eventsPerS()).isPositive();
        }
        Set<String> created = benchTopics(kafka);
        created.removeAll(before);
        // the pipeline warm-up's two jobs and the backlog have events topics of their own; the
        // steady warm-up's jobs and the six measured ones (two rows and the pass-through job, two
        // rounds each) read the backlog
        assertThat(created.stream().filter(t -> t.endsWith("-events"))).hasSize(3);
        long steadyJobs =
                created.stream().filter(t -> t.matches(".*-steady-(kan|pass)-.*-scores")).count();
        assertThat(steadyJobs).isBetween(6L + 2 * 2, 6L + 2 * PipelineBench.STEADY_WARM_UP_RUNS);
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("steady warm-up 2 of at most");
    }

    private static Set<String> benchTopics(LocalKafka.Broker kafka) throws Exception {
        try (Admin admin = Admin.create(kafka.connection().clientProperties())) {
            Set<String> names = new HashSet<>();
            for (String name : admin.listTopics().names().get()) {
                if (name.startsWith("bench-")) {
                    names.add(name);
                }
            }
            return names;
        }
    }
}
