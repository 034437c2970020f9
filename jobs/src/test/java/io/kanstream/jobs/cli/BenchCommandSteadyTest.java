package io.kanstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kanstream.jobs.bench.BenchReport;
import io.kanstream.jobs.bench.PipelineBench;
import io.kanstream.jobs.bench.PipelineBench.SteadyCase;
import io.kanstream.jobs.online.OnlineJobConfig.StateBackend;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchCommandSteadyTest {
    private static PipelineBench.SteadyRow row(int keys, String backend, double eventsPerS) {
        return row(keys, backend, eventsPerS, false);
    }

    private static PipelineBench.SteadyRow row(
            int keys, String backend, double eventsPerS, boolean ownModels) {
        return new PipelineBench.SteadyRow(
                keys,
                backend,
                21L * keys,
                100,
                0.1,
                eventsPerS,
                1000,
                eventsPerS / 1000,
                eventsPerS,
                2000,
                eventsPerS / 2000,
                2,
                "PT30S",
                0,
                ownModels,
                false,
                new double[] {eventsPerS},
                new double[] {1000});
    }

    @Test
    void steadyRowsAreWrittenBackendColonKeysAndBadOnesSayWhatIsWrong() {
        assertThat(SteadyCase.parseAll("hashmap:100, rocksdb:100000"))
                .containsExactly(
                        new SteadyCase(StateBackend.HASHMAP, 100),
                        new SteadyCase(StateBackend.ROCKSDB, 100_000));
        assertThatThrownBy(() -> SteadyCase.parseAll("rocksdb"))
                .hasMessageContaining("'rocksdb' must be backend:keys");
        assertThatThrownBy(() -> SteadyCase.parseAll("rocksdb:many"))
                .hasMessageContaining("keys 'many' is not a number");
        assertThatThrownBy(() -> SteadyCase.parseAll("memory:10"))
                .hasMessageContaining("must be hashmap or rocksdb");
        assertThatThrownBy(() -> SteadyCase.parseAll("hashmap:0"))
                .hasMessageContaining("at least 1 key");
        assertThat(SteadyCase.parseAll("hashmap:100:own,hashmap:10000:256,rocksdb:100:0:own"))
                .containsExactly(
                        new SteadyCase(StateBackend.HASHMAP, 100, 0, true),
                        new SteadyCase(StateBackend.HASHMAP, 10_000, 256, false),
                        new SteadyCase(StateBackend.ROCKSDB, 100, 0, true));
        assertThat(SteadyCase.parseAll("hashmap:100:companion"))
                .containsExactly(new SteadyCase(StateBackend.HASHMAP, 100, 0, false, true));
        assertThatThrownBy(() -> SteadyCase.parseAll("hashmap:100:mine"))
                .hasMessageContaining("bundle size 'mine' is not a number");
    }

    @Test
    void theSteadyChecksCompareWithOneHundredKeysOnTheHeapOfTheSameRun() {
        List<BenchReport.Check> checks =
                BenchCommand.steadyChecks(
                        List.of(
                                row(100, "hashmap", 2000, true),
                                row(100, "hashmap", 1000),
                                row(10_000, "hashmap", 850),
                                row(10_000, "hashmap", 10, true),
                                row(10_000, "rocksdb", 100),
                                row(100_000, "rocksdb", 250)));
        // rows of each key's own model alone are neither checked nor the reference
        assertThat(checks).hasSize(2);
        assertThat(checks.get(0).check())
                .isEqualTo("steady 10,000 keys on hashmap, events/s ÷ 100 keys on hashmap");
        assertThat(checks.get(0).measured()).isEqualTo(0.85);
        assertThat(checks.get(0).pass()).isTrue();
        assertThat(checks.get(1).check())
                .isEqualTo("steady 100,000 keys on rocksdb, events/s ÷ 100 keys on hashmap");
        assertThat(checks.get(1).measured()).isEqualTo(0.25);
        assertThat(checks.get(1).pass()).isFalse();
        // without the reference row there is nothing to compare with
        assertThat(BenchCommand.steadyChecks(List.of(row(10_000, "hashmap", 850)))).isEmpty();
    }

    @Test
    void withAHundredKeysOnRocksDbTheManyKeyRowIsAlsoComparedWithItsOwnBackend() {
        List<BenchReport.Check> checks =
                BenchCommand.steadyChecks(
                        List.of(
                                row(100, "hashmap", 1000),
                                row(100, "rocksdb", 400),
                                row(100_000, "rocksdb", 140)));
        assertThat(checks)
                .extracting(BenchReport.Check::check)
                .containsExactly(
                        "steady 100,000 keys on rocksdb, events/s ÷ 100 keys on hashmap",
                        "steady 100,000 keys on rocksdb, events/s ÷ 100 keys on rocksdb");
        assertThat(checks).extracting(BenchReport.Check::measured).containsExactly(0.14, 0.35);
        assertThat(checks).extracting(BenchReport.Check::pass).containsExactly(false, true);
    }
}
