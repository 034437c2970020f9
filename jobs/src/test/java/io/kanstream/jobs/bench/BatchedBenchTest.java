package io.kanstream.jobs.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A tiny run of the batched rows: every path measured, the check passed, the JSON's fields. */
class BatchedBenchTest {
    @Test
    void aSmallRunMeasuresEveryPathAndChecksTheOutputs() throws Exception {
        BatchedBench.Settings settings =
                new BatchedBench.Settings(
                        6,
                        List.of(3, 4, 1),
                        2,
                        "cpu",
                        Duration.ofMillis(20),
                        Duration.ofMillis(30),
                        1,
                        5);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        BatchedBench.Report report =
                new BatchedBench(settings, new PrintStream(log, true, StandardCharsets.UTF_8))
                        .run();
        assertThat(BatchedBench.withinTolerance(report)).isTrue();
        assertThat(report.device()).isEqualTo("cpu");
        assertThat(report.rows())
                .extracting(r -> r.path() + " " + r.work())
                .containsExactly(
                        "batched DJL score",
                        "one DJL call per key score",
                        "host (Java) score",
                        "batched DJL step",
                        "one DJL call per key step",
                        "host (Java) step");
        assertThat(report.rows()).allSatisfy(r -> assertThat(r.eventsPerSecond()).isPositive());
        assertThat(report.ratios())
                .containsKeys(
                        "score: batched ÷ one DJL call per key",
                        "step: batched ÷ one DJL call per key");
        String table = BatchedBench.render(report);
        assertThat(table).contains("target ≤ 1e-5: met").contains("batched ÷ host");
        JsonNode json = BenchReport.mapper().valueToTree(report);
        assertThat(json.at("/settings/keys").asInt()).isEqualTo(6);
        assertThat(json.at("/settings/round_seconds").asDouble()).isEqualTo(0.03);
        assertThat(json.at("/rows/0/events_per_second").asDouble()).isPositive();
        assertThat(json.has("score_gap")).isTrue();
    }
}
