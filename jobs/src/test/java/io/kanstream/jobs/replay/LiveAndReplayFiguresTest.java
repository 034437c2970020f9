package io.kanstream.jobs.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.kanstream.kan.Task;
import io.kanstream.stream.Metric;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The live operator's metric records and the replay report measure a stream by the same rules: the
 * records of one key, weighted by their samples, add up to the replay's per-key figures of the KAN
 * and of no-change, on the very scores the operator emitted.
 */
class LiveAndReplayFiguresTest {
    private static final int EVERY = 25;

    @TempDir Path temp;

    @ParameterizedTest
    @EnumSource(
            value = Task.class,
            names = {"BINARY", "REGRESSION"})
    void theLiveRecordsOfAKeyAddUpToItsReplayFigures(Task task) throws Exception {
        Path csv = ReplayTest.driftCsv(temp.resolve("stream.csv"), task, 3, 1_800, 900);
        HistoryTable table =
                HistoryTable.read(
                        csv,
                        new HistoryTable.Options("label", "key", "time", Set.of(), null, task));
        Replay.Result result =
                Replay.run(
                        table,
                        ReplaySettings.builder().drift(null).build(),
                        model -> model,
                        online -> online.metricsEvery(EVERY));
        ReplayEvaluation evaluation = result.evaluation();
        List<Metric> records = result.outputs().metrics();

        Map<String, double[]> live =
                new TreeMap<>(); // key -> samples, model sum, reference sum, loss sum
        for (Metric m : records) {
            double[] sums = live.computeIfAbsent(m.key(), k -> new double[4]);
            double n = m.metricSamples();
            boolean regression = Metric.RMSE.equals(m.metricName());
            sums[0] += n;
            sums[1] += n * (regression ? m.metricValue() * m.metricValue() : m.metricValue());
            sums[2] += n * (regression ? m.baselineValue() * m.baselineValue() : m.baselineValue());
            sums[3] += n * m.loss();
        }
        assertThat(live.keySet()).isEqualTo(evaluation.perKey().keySet()).hasSize(3);
        live.forEach(
                (key, sums) -> {
                    Map<String, Double> kan = evaluation.perKey().get(key).get("kan");
                    Map<String, Double> noChange = evaluation.perKey().get(key).get("no_change");
                    assertThat(sums[0]).as("examples of %s covered by records", key).isEqualTo(600);
                    if (task == Task.REGRESSION) {
                        double rmse = kan.get("rmse");
                        double reference = noChange.get("rmse");
                        assertThat(sums[1] / sums[0]).isCloseTo(rmse * rmse, within(1e-9));
                        assertThat(sums[2] / sums[0])
                                .isCloseTo(reference * reference, within(1e-9));
                        assertThat(sums[3] / sums[0]).isCloseTo(rmse * rmse, within(1e-9));
                    } else {
                        assertThat(sums[1] / sums[0]).isCloseTo(kan.get("accuracy"), within(1e-12));
                        assertThat(sums[2] / sums[0])
                                .isCloseTo(noChange.get("accuracy"), within(1e-12));
                        assertThat(sums[3] / sums[0]).isCloseTo(kan.get("log_loss"), within(1e-9));
                    }
                });
    }
}
