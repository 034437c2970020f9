package io.kanstream.jobs.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kanstream.jobs.bench.CallTimer.Timing;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JSON other tools read: field names, units and the empty parts, without running DJL. */
class BenchReportTest {
    @TempDir Path temp;

    private static Timing timing(double samplesPerSecond, double p50Ms) {
        return new Timing(
                100, 3200, samplesPerSecond, samplesPerSecond * 2, p50Ms, p50Ms * 3, 1, 0.5, 0);
    }

    private static BenchReport report() {
        Map<String, Timing> timings = new LinkedHashMap<>();
        timings.put(ModelBench.LEARNER_TRAIN, timing(20_000, 1.6));
        timings.put(ModelBench.LEARNER_SCORE, timing(60_000, 0.5));
        timings.put(ModelBench.AUTOGRAD_TRAIN, timing(10_000, 3.2));
        timings.put(ModelBench.AUTOGRAD_SCORE, timing(30_000, 1.0));
        ModelBench.Result result =
                new ModelBench.Result(
                        "8,16,1", 32, timings, 0, 0.98, 1e-8, 400, 405, 410, List.of(), null, null);
        List<BenchReport.ModelRow> rows = List.of(BenchRun.modelRow(result));
        FlopCount.Breakdown forward = FlopCount.forward(List.of(8, 16, 1), 5, 3, 32);
        FlopCount.Breakdown training = FlopCount.training(List.of(8, 16, 1), 5, 3, 32);
        BenchReport.Flops flops =
                new BenchReport.Flops(
                        "test",
                        1024,
                        40,
                        80,
                        70,
                        160,
                        3,
                        List.of(
                                new BenchReport.FlopRow(
                                        "8,16,1",
                                        32,
                                        forward.total(),
                                        training.total(),
                                        forward.parts(),
                                        training.parts(),
                                        0.1,
                                        0.2,
                                        0.2,
                                        0.4,
                                        0.1,
                                        0.2,
                                        0.0025,
                                        0.005,
                                        0.00125,
                                        0.0025)));
        MemoryProbe.Reading reading = new MemoryProbe.Reading("end", 600, 650, 40, 500, 300);
        return new BenchReport(
                rows,
                List.of(),
                List.of(),
                List.of(),
                new BenchReport.Memory(650, 600, 40, 300, 500, List.of(reading)),
                flops,
                List.of(
                        new BenchReport.OpsRow(
                                "8,16,1",
                                32,
                                ModelBench.LEARNER_TRAIN,
                                243,
                                0,
                                1600,
                                1700,
                                6.6,
                                0.3,
                                Map.of("aten::mul", 50.0))),
                new BenchReport.EfficientKanRows(
                        EfficientKanReference.SOURCE, EfficientKanReference.FIGURES),
                BenchRun.checks(rows),
                new BenchReport.Machine(
                        "cpu",
                        2,
                        "Linux",
                        "Java 17",
                        "DJL",
                        1,
                        1,
                        "1 1 1",
                        "1 1 1",
                        "jar",
                        "glibc malloc defaults",
                        "abc",
                        "efficient-kan peer not run: test"),
                "2026-01-01T00:00:00Z",
                "kanstream bench --quick",
                "quick",
                90,
                List.of("pipeline and state are not measured yet"));
    }

    @Test
    void modelRowsCarryTheFieldsIssueSixNamesWithRatiosAgainstTheBaselineAndTheReference()
            throws Exception {
        Path file = temp.resolve("reports/bench.json");
        report().write(file);
        JsonNode json = new ObjectMapper().readTree(file.toFile());

        JsonNode row = json.get("model").get(0);
        assertThat(row.get("layers").asText()).isEqualTo("8,16,1");
        assertThat(row.get("batch").asInt()).isEqualTo(32);
        for (String field :
                List.of(
                        "train_samples_per_s",
                        "score_samples_per_s",
                        "train_p50_ms",
                        "train_p99_ms",
                        "score_p50_ms",
                        "score_p99_ms",
                        "autograd_train_samples_per_s",
                        "autograd_score_samples_per_s",
                        "train_ratio_vs_autograd",
                        "score_ratio_vs_autograd",
                        "efficient_kan_train_samples_per_s",
                        "train_ratio_vs_efficient_kan",
                        "cpu_fraction",
                        "rss_mb")) {
            assertThat(row.get(field)).as(field).isNotNull();
            assertThat(row.get(field).isNumber()).as(field + " is a number").isTrue();
        }
        assertThat(row.get("train_ratio_vs_autograd").asDouble()).isCloseTo(2.0, within(1e-9));
        assertThat(row.get("efficient_kan_train_samples_per_s").asDouble()).isEqualTo(19_300);
        assertThat(row.get("train_ratio_vs_efficient_kan").asDouble())
                .isCloseTo(20_000 / 19_300.0, within(1e-9));
    }

    @Test
    void pipelineAndStateAreEmptyListsAndTheOtherSectionsAreObjects() throws Exception {
        JsonNode json =
                BenchReport.mapper().readTree(BenchReport.mapper().writeValueAsString(report()));

        assertThat(json.get("pipeline").isArray()).isTrue();
        assertThat(json.get("pipeline")).isEmpty();
        assertThat(json.get("state").isArray()).isTrue();
        assertThat(json.get("state")).isEmpty();
        for (String section : List.of("memory", "flops", "machine")) {
            assertThat(json.get(section).isObject()).as(section).isTrue();
        }
        assertThat(json.get("memory").get("peak_vm_hwm_mb").asDouble()).isEqualTo(650);
        assertThat(json.get("flops").get("rows").get(0).get("train_flops_per_sample").asDouble())
                .isGreaterThan(
                        json.get("flops")
                                .get("rows")
                                .get(0)
                                .get("forward_flops_per_sample")
                                .asDouble());
        assertThat(json.get("date").asText()).isEqualTo("2026-01-01T00:00:00Z");
        assertThat(json.get("command").asText()).isEqualTo("kanstream bench --quick");
        assertThat(json.get("checks").get(0).has("pass")).isTrue();
    }

    @Test
    void tableSaysWhatIsNotMeasuredAndLabelsTheReferenceFigures() {
        String table = BenchTable.render(report());

        assertThat(table)
                .contains("PIPELINE  not measured in this run")
                .contains("STATE     not measured in this run");
        assertThat(table).contains("measured earlier on this machine, not in this run");
        assertThat(table).contains("8,16,1");
    }

    @Test
    void pipelineAndStateRowsCarryTheFieldsOtherToolsRead() throws Exception {
        PipelineBench.Row row =
                new PipelineBench.Row(
                        100, 50_000, 250_000, 12_000, 40_000, 0.3, 30_000, 90_000, 0.33, 500, 4_000,
                        30, 400, 900, 20, 380, 2);
        PipelineBench.StateRow state =
                new PipelineBench.StateRow(
                        10_000, 300_000_000, 30_000, 29_000, 12, 2_500, 2_000, 5, "hashmap");
        BenchReport report =
                report().withPipeline(
                                List.of(row),
                                List.of(state),
                                List.of(
                                        new BenchReport.Check(
                                                "pipeline at 100 keys", 0.3, 0.2, "×", true, null)),
                                List.of("a pipeline note"),
                                99);

        JsonNode json =
                BenchReport.mapper().readTree(BenchReport.mapper().writeValueAsString(report));
        JsonNode p = json.get("pipeline").get(0);
        assertThat(p.get("keys").asInt()).isEqualTo(100);
        assertThat(p.get("events_per_s").asDouble()).isEqualTo(12_000);
        assertThat(p.get("passthrough_events_per_s").asDouble()).isEqualTo(40_000);
        assertThat(p.get("p50_ms").asDouble()).isEqualTo(30);
        assertThat(p.get("p99_ms").asDouble()).isEqualTo(400);
        JsonNode st = json.get("state").get(0);
        assertThat(st.get("bytes_per_key").asDouble()).isEqualTo(30_000);
        assertThat(st.get("checkpoint_ms").asDouble()).isEqualTo(2_500);
        assertThat(json.get("checks")).hasSize(report().checks().size() + 1);
        assertThat(json.get("checks").get(report().checks().size()).get("cpu_fraction").isNull())
                .isTrue();
        assertThat(json.get("duration_s").asDouble()).isEqualTo(99);

        String table = BenchTable.render(report);
        assertThat(table).contains("PIPELINE  broker → job → broker", "0.30×", "STATE", "hashmap");
    }

    @Test
    void steadyRowsGoIntoTheJsonAndTheTableWithTheNewKeyRateAsItsOwnRow() throws Exception {
        PipelineBench.SteadyRow row =
                new PipelineBench.SteadyRow(
                        10_000,
                        "rocksdb",
                        210_000,
                        3_000,
                        0.05,
                        9_000,
                        60_000,
                        0.15,
                        20_000,
                        150_000,
                        0.13,
                        2,
                        "PT30S",
                        0,
                        false,
                        false,
                        new double[] {8_000, 9_000, 9_500},
                        new double[] {50_000, 60_000, 70_000});
        BenchReport report =
                report().withSteady(
                                List.of(row),
                                List.of(
                                        new BenchReport.Check(
                                                "steady", 0.4, 0.3, "×", true, null)));
        JsonNode json =
                BenchReport.mapper().readTree(BenchReport.mapper().writeValueAsString(report));
        JsonNode st = json.get("steady").get(0);
        assertThat(st.get("keys").asInt()).isEqualTo(10_000);
        assertThat(st.get("state_backend").asText()).isEqualTo("rocksdb");
        assertThat(st.get("new_key_events_per_s").asDouble()).isEqualTo(3_000);
        assertThat(st.get("ratio_vs_passthrough").asDouble()).isEqualTo(0.15);
        assertThat(st.get("round_events_per_s")).hasSize(3);
        assertThat(st.get("round_passthrough_events_per_s").get(1).asDouble()).isEqualTo(60_000);
        assertThat(json.get("checks")).hasSize(report().checks().size() + 1);

        String table = BenchTable.render(report);
        assertThat(table).contains("STEADY", "checkpoints every PT30S", "0.15×", "0.05×");
        assertThat(table.lines().filter(l -> l.contains("new keys") && l.contains("rocksdb")))
                .hasSize(1);
    }

    @Test
    void profileCountsOnlyTopLevelOpsAndSeparatesBackwardNodes() throws Exception {
        String trace =
                """
                [
                  {"name": "aten::matmul", "ph": "X", "ts": 0, "dur": 10, "tid": 1},
                  {"name": "aten::mm", "ph": "X", "ts": 1, "dur": 8, "tid": 1},
                  {"name": "aten::mul", "ph": "X", "ts": 12, "dur": 2, "tid": 1},
                  {"name": "autograd::engine::evaluate_function: MulBackward0", "ph": "X",
                   "ts": 20, "dur": 4, "tid": 1},
                  {"name": "aten::mul", "ph": "X", "ts": 21, "dur": 2, "tid": 1},
                  {"name": "[memory]", "ph": "i", "ts": 30, "tid": 1}
                ]
                """;
        OpProfile.Result result = OpProfile.summarize(new ObjectMapper().readTree(trace), 2, 20);

        assertThat(result.opsPerCall()).isEqualTo(1.5); // matmul, mul, one backward node
        assertThat(result.backwardNodesPerCall()).isEqualTo(0.5);
        assertThat(result.profiledOpMicrosPerCall()).isEqualTo(8.0);
        assertThat(result.ops().get(0).name()).isEqualTo("aten::matmul");
    }
}
