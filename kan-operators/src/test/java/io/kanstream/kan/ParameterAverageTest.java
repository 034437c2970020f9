package io.kanstream.kan;

import static io.kanstream.kan.LearnerStreams.assertRestoredGoesOnAlike;
import static io.kanstream.kan.LearnerStreams.probes;
import static io.kanstream.kan.LearnerStreams.stream;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** A learner's parameter average: how it follows the steps, scores, weighs and is kept. */
class ParameterAverageTest {

    private static KanConfig config(Task task, List<Integer> layers, double horizon) {
        return KanConfig.builder(layers).task(task).device("cpu").averageHorizon(horizon).build();
    }

    private static KanConfig config(Task task) {
        return config(task, List.of(4, 8, 1), 100);
    }

    private static float[][] parameters(KanLearner learner) {
        HostKan host = learner.host();
        float[][] copy = new float[ParameterIndex.count(host.size())][];
        for (int q = 0; q < copy.length; q++) {
            copy[q] = host.parameter(q).clone();
        }
        return copy;
    }

    /** The network's and the average's finished outputs on raw rows, each alone. */
    private static float[][] members(KanLearner learner, float[] rows, int n) {
        return membersOn(learner, learner.normalizer.apply(rows, n), n);
    }

    private static float[][] membersOn(KanLearner learner, float[] z, int n) {
        HostKan host = learner.host();
        float[] own = host.outputs(z, n);
        learner.finish(own);
        float[] average = host.outputsWith(learner.average.parameters, z, n);
        learner.finish(average);
        return new float[][] {own, average};
    }

    @Test
    void theNetworksOwnParametersScoreExactlyWhatTheNetworkDoes() {
        // a wide layer (kept transposed for the forward pass) and a narrow one, after learning
        for (List<Integer> layers : List.of(List.of(4, 8, 1), List.of(4, 6, 3))) {
            Task task = layers.get(2) == 1 ? Task.BINARY : Task.MULTICLASS;
            try (KanLearner learner = KanLearner.create(config(task, layers, 0))) {
                stream(learner, task, 100, 1);
                learner.refitFromStatistics();
                HostKan host = learner.host();
                float[] z = probes(); // as normalized rows: only the network is compared
                assertThat(host.outputsWith(parameters(learner), z, 16))
                        .as("layers %s", layers)
                        .containsExactly(host.outputs(z, 16));
            }
        }
    }

    @Test
    void aYoungModelsAverageSpansATenthOfItsStepsUntilTheHorizonTakesOver() {
        // η = 9: after step t the average keeps 1 − 10/(t+9) of itself, never more than 1 − 1/100
        assertThat(ParameterAverage.keep(100, 1)).isZero(); // the first step's average: the step
        assertThat(ParameterAverage.keep(100, 11)).isEqualTo(0.5f);
        assertThat(ParameterAverage.keep(100, 31)).isEqualTo(0.75f);
        assertThat(ParameterAverage.keep(100, 990)).isLessThan(0.99f);
        assertThat(ParameterAverage.keep(100, 991)).isEqualTo(0.99f);
        assertThat(ParameterAverage.keep(100, 1_000_000)).isEqualTo(0.99f);
        float last = 0;
        for (long t = 1; t < 2_000; t++) {
            assertThat(ParameterAverage.keep(100, t)).isGreaterThanOrEqualTo(last);
            last = ParameterAverage.keep(100, t);
        }
    }

    @Test
    void eachStepMovesTheAverageTowardsTheNewParametersByItsShare() {
        try (KanLearner learner = KanLearner.create(config(Task.BINARY))) {
            stream(learner, Task.BINARY, 30, 2);
            float[][] average = learner.average.parameters;
            float[][] before = new float[average.length][];
            for (int q = 0; q < before.length; q++) {
                before[q] = average[q].clone();
            }
            SplittableRandom random = new SplittableRandom(7);
            float[] row = FormatV1Fixtures.rows(random, 1);
            learner.learn(row, FormatV1Fixtures.labels(Task.BINARY, row, random));
            float[][] now = parameters(learner);
            float keep = 0.75f; // the 31st step: 1 − 10/40
            for (int q = 0; q < now.length; q++) {
                for (int j = 0; j < now[q].length; j++) {
                    assertThat(average[q][j])
                            .as("parameter %d[%d]", q, j)
                            .isEqualTo(keep * before[q][j] + (1 - keep) * now[q][j]);
                }
            }
            assertThat(average[0]).isNotEqualTo(now[0]); // it lags the network
        }
    }

    @Test
    void aRefitStartsTheAverageAgainFromTheRefitNetwork() {
        try (KanLearner learner = KanLearner.create(config(Task.REGRESSION))) {
            stream(learner, Task.REGRESSION, 200, 3);
            learner.refitFromStatistics();
            float[][] now = parameters(learner);
            for (int q = 0; q < now.length; q++) {
                assertThat(learner.average.parameters[q]).containsExactly(now[q]);
            }
        }
    }

    @Test
    void theOutputsMixTheNetworkAndItsAverageByTheirRecentLosses() {
        try (KanLearner learner = KanLearner.create(config(Task.BINARY))) {
            stream(learner, Task.BINARY, 300, 4);
            float[] rows = probes();
            float[][] members = members(learner, rows, 16);
            float[] own = members[0];
            float[] average = members[1];
            assertThat(own).isNotEqualTo(average);

            learner.average.losses[0] = 0;
            learner.average.losses[1] = 100;
            assertThat(learner.outputs(rows, 16)).containsExactly(own, within(1e-4f));
            learner.average.losses[0] = 100;
            learner.average.losses[1] = 0;
            assertThat(learner.outputs(rows, 16)).containsExactly(average, within(1e-4f));
            learner.average.losses[0] = 0;
            learner.average.losses[1] = 0;
            float[] mixed = learner.outputs(rows, 16);
            for (int s = 0; s < 16; s++) {
                double p = (Task.sigmoid(own[s]) + Task.sigmoid(average[s])) / 2;
                assertThat(Task.sigmoid(mixed[s])).isCloseTo(p, within(1e-5));
            }
        }
    }

    @Test
    void everyLabelChargesBothMembersTheirLossBeforeTheStep() {
        try (KanLearner learner = KanLearner.create(config(Task.BINARY))) {
            stream(learner, Task.BINARY, 50, 5);
            float[] one = java.util.Arrays.copyOf(probes(), 4);
            // on the row as the step sees it: standardized once the normalizer has taken it
            float[][] members = membersOn(learner, learner.normalizer.applyAsObserved(one), 1);
            float[] own = members[0];
            float[] average = members[1];
            double[] before = learner.average.losses.clone();
            learner.learn(one, new double[] {1});

            double fade = 1 - 1 / learner.config().mixtureHorizon();
            double ownLoss = -Math.log(Task.sigmoid(own[0]));
            double averageLoss = -Math.log(Task.sigmoid(average[0]));
            double gap = (fade * before[1] + averageLoss) - (fade * before[0] + ownLoss);
            double[] losses = learner.average.losses;
            assertThat(losses[1] - losses[0]).isCloseTo(gap, within(1e-5));
            assertThat(Math.min(losses[0], losses[1])).isZero();
        }
    }

    @Test
    void aLabelRightAfterItsScoreReusesTheScoredOutputsExactly() {
        for (Task task : List.of(Task.BINARY, Task.REGRESSION)) {
            try (KanLearner reusing = KanLearner.create(config(task));
                    KanLearner recomputing = KanLearner.create(config(task))) {
                SplittableRandom random = new SplittableRandom(10);
                float[] other = java.util.Arrays.copyOf(probes(), 4);
                for (int e = 0; e < 200; e++) {
                    float[] row = FormatV1Fixtures.rows(random, 1);
                    double[] label = FormatV1Fixtures.labels(task, row, random);
                    reusing.scoreBeforeItsStep(row);
                    reusing.learn(row, label);
                    recomputing.scoreBeforeItsStep(row);
                    recomputing.outputs(other, 1); // another row in between: computed anew
                    recomputing.learn(row, label);
                }
                assertThat(LearnerStateCodec.encode(reusing))
                        .as("%s", task)
                        .isEqualTo(LearnerStateCodec.encode(recomputing));
            }
        }
    }

    @Test
    void theCodecKeepsTheAverageAndItsWeightsExactly() {
        for (Task task : List.of(Task.BINARY, Task.REGRESSION)) {
            try (KanLearner learner = KanLearner.create(config(task))) {
                stream(learner, task, 300, 6);
                assertRestoredGoesOnAlike(
                        learner,
                        task,
                        50,
                        7,
                        (copy, original) ->
                                assertThat(copy.average.losses)
                                        .containsExactly(original.average.losses));
            }
        }
    }

    @Test
    void stepsOnTheDeviceAreAveragedInWhenTheHostIsNextRead() {
        try (KanLearner onHost = KanLearner.create(config(Task.BINARY));
                KanLearner onDevice = KanLearner.create(config(Task.BINARY))) {
            stream(onHost, Task.BINARY, 30, 8);
            stream(onDevice, Task.BINARY, 30, 8);
            onDevice.alwaysOnDevice();
            stream(onHost, Task.BINARY, 1, 10);
            stream(onDevice, Task.BINARY, 1, 10);
            // the 31st step on either side: one keep, the host's own blend; the device's sums
            // differ by ulps
            float[][] host = onHost.currentAverage().parameters;
            float[][] device = onDevice.currentAverage().parameters;
            for (int q = 0; q < host.length; q++) {
                assertThat(device[q]).as("parameter %d", q).containsExactly(host[q], within(1e-5f));
            }
        }
    }

    @Test
    void noAverageMeansTheNetworkAlone() {
        try (KanLearner learner = KanLearner.create(config(Task.BINARY, List.of(4, 8, 1), 0))) {
            stream(learner, Task.BINARY, 50, 9);
            assertThat(learner.average).isNull();
            float[] rows = probes();
            float[] z = learner.normalizer.apply(rows, 16);
            float[] own = learner.host().outputs(z, 16);
            learner.finish(own);
            assertThat(learner.outputs(rows, 16)).containsExactly(own);
        }
    }
}
