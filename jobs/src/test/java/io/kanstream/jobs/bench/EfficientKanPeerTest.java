package io.kanstream.jobs.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.kanstream.jobs.kafka.LocalBroker;
import io.kanstream.kan.EfficientKanWeights;
import io.kanstream.kan.KanConfig;
import io.kanstream.kan.KanLearner;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The efficient-kan peer: absent, it is one line and no peer; present (python3 with numpy and
 * torch), it computes kanstream's function and times both workloads inside a model bench row.
 */
class EfficientKanPeerTest {
    private static EfficientKanPeer.Start start;

    @BeforeAll
    static void startPeer() {
        start = EfficientKanPeer.start(List.of("python3", "/usr/bin/python3"), 1);
    }

    @AfterAll
    static void stopPeer() {
        if (start.peer() != null) {
            start.peer().close();
        }
    }

    @Test
    void aPythonThatCannotRunIsOneLineAndNoPeer() {
        EfficientKanPeer.Start missing = EfficientKanPeer.start("/nonexistent/bin/python3", 1);

        assertThat(missing.peer()).isNull();
        assertThat(missing.description())
                .contains("not run", "/nonexistent/bin/python3", "no ratio")
                .doesNotContain("\n");
    }

    @Test
    void thePeerScoresEfficientKansReferenceCasesAsEfficientKanAndKanstreamDo() throws Exception {
        EfficientKanPeer peer = available();
        Path dir = LocalBroker.repoDir().resolve(Path.of("data", "reference", "efficient-kan"));
        for (String name : List.of("k3g5_3-5-2", "k2g8_4-8-1")) {
            Path weights = dir.resolve(name + ".weights.npz");
            EfficientKanPeer.Scored scored =
                    peer.reference(
                            weights,
                            dir.resolve(name + ".input.csv"),
                            dir.resolve(name + ".output.csv"));
            try (KanLearner learner =
                    EfficientKanWeights.importLearner(
                            weights, KanConfig.builder(List.of(1, 1)).device("cpu"), null)) {
                float[] mine = learner.outputs(scored.rows(), scored.n());
                assertThat(scored.outputs()).hasSize(mine.length).hasSize(64 * learner.outputs());
                assertThat(ModelBench.maxAbsDiff(scored.outputs(), mine)).isLessThan(1e-5);
                assertThat(ModelBench.maxAbsDiff(scored.outputs(), scored.expected()))
                        .isLessThan(1e-5);
            }
        }
    }

    @Test
    void aBenchRowWithThePeerTimesItBesideTheLearnerFromTheSameParameters() {
        EfficientKanPeer peer = available();
        BenchSettings settings =
                new BenchSettings(
                        "test",
                        List.of(List.of(3, 4, 1)),
                        List.of(4),
                        5,
                        3,
                        Duration.ofMillis(30),
                        Duration.ofMillis(40),
                        2,
                        0,
                        Duration.ofMillis(10),
                        7);

        ModelBench.Result result = new ModelBench(List.of(3, 4, 1), 4, settings, peer).run(false);

        assertThat(result.peerFailure()).isNull();
        assertThat(result.peerMaxAbsDiff()).isLessThan(1e-5);
        for (String workload : List.of(ModelBench.PEER_TRAIN, ModelBench.PEER_SCORE)) {
            CallTimer.Timing timing = result.timing(workload);
            assertThat(timing).as(workload).isNotNull();
            assertThat(timing.calls()).as(workload).isPositive();
            assertThat(timing.samples()).isEqualTo(timing.calls() * 4);
            assertThat(timing.wallSeconds()).isGreaterThanOrEqualTo(0.08); // two rounds of 40 ms
        }
        BenchReport.ModelRow row = BenchRun.modelRow(result);
        assertThat(row.trainRatioVsPeer())
                .isEqualTo(
                        result.timing(ModelBench.LEARNER_TRAIN).samplesPerSecond()
                                / result.timing(ModelBench.PEER_TRAIN).samplesPerSecond());
        assertThat(BenchRun.peerChecks(List.of(row)))
                .extracting(BenchReport.Check::check)
                .anyMatch(c -> c.startsWith("training 3,4,1 batch 4 >= efficient-kan peer"))
                .anyMatch(c -> c.startsWith("scoring 3,4,1 batch 4 >= efficient-kan peer"))
                .anyMatch(c -> c.startsWith("efficient-kan peer = learner"));
    }

    @Test
    void aRowWithoutThePeerHasNoRatioAndNoPeerCheck() {
        Map<String, CallTimer.Timing> timings = new java.util.LinkedHashMap<>();
        CallTimer.Timing t = new CallTimer.Timing(10, 40, 400, 800, 0.1, 0.2, 0.1, 0.05, 0);
        for (String w :
                List.of(
                        ModelBench.LEARNER_TRAIN,
                        ModelBench.LEARNER_SCORE,
                        ModelBench.AUTOGRAD_TRAIN,
                        ModelBench.AUTOGRAD_SCORE)) {
            timings.put(w, t);
        }
        BenchReport.ModelRow row =
                BenchRun.modelRow(
                        new ModelBench.Result(
                                "3,4,1", 4, timings, 0, 1, 0, 1, 1, 1, List.of(), null, null));

        assertThat(row.trainRatioVsPeer()).isNull();
        assertThat(row.peerScoreSamplesPerS()).isNull();
        assertThat(BenchRun.peerChecks(List.of(row))).isEmpty();
    }

    private static EfficientKanPeer available() {
        assumeThat(start.peer())
                .as("python3 with numpy and torch (Debian: python3-torch): %s", start.description())
                .isNotNull();
        return start.peer();
    }
}
