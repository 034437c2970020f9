package io.kanstream.kan;

import static io.kanstream.kan.LearnerStreams.assertRestoredGoesOnAlike;
import static io.kanstream.kan.LearnerStreams.probes;
import static io.kanstream.kan.LearnerStreams.stream;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A learner with companions: how it mixes, weighs, learns and keeps its state. */
class LearnerMixtureTest {

    private static KanConfig config(Task task, Double... rates) {
        return KanConfig.builder(List.of(4, 8, 1))
                .task(task)
                .device("cpu")
                .companionRates(List.of(rates))
                .build();
    }

    @Test
    void companionsGetTheirOwnLearningRateAndSeedAndNoCompanionsOfTheirOwn() {
        KanConfig owner = config(Task.BINARY, 3.0, 0.5);
        try (KanLearner learner = KanLearner.create(owner)) {
            assertThat(learner.companions()).isEqualTo(2);
            KanConfig fast = learner.mixture.companions[0].config();
            KanConfig slow = learner.mixture.companions[1].config();
            assertThat(fast.learningRate()).isCloseTo(3 * owner.learningRate(), within(1e-12));
            assertThat(slow.learningRate()).isCloseTo(0.5 * owner.learningRate(), within(1e-12));
            assertThat(fast.seed()).isNotEqualTo(owner.seed()).isNotEqualTo(slow.seed());
            assertThat(fast.companionRates()).isEmpty();
            assertThat(learner.memberWeights()).containsExactly(1 / 3.0, 1 / 3.0, 1 / 3.0);
        }
    }

    @Test
    void theOutputsFollowTheMemberWhoseRecentLossIsLowest() {
        for (Task task : List.of(Task.BINARY, Task.REGRESSION)) {
            try (KanLearner learner = KanLearner.create(config(task, 3.0))) {
                stream(learner, task, 200, 1);
                float[] rows = probes();
                float[] own = learner.ownOutputs(rows, 16, false);
                float[] companion = learner.mixture.companions[0].outputs(rows, 16);
                assertThat(own).isNotEqualTo(companion);

                learner.mixture.losses[0] = 0;
                learner.mixture.losses[1] = 100; // e^-100: the companion's weight is nothing
                assertThat(learner.outputs(rows, 16))
                        .as("%s, the learner ahead", task)
                        .containsExactly(own, within(1e-4f));
                learner.mixture.losses[0] = 100;
                learner.mixture.losses[1] = 0;
                assertThat(learner.outputs(rows, 16))
                        .as("%s, the companion ahead", task)
                        .containsExactly(companion, within(1e-4f));
            }
        }
    }

    @Test
    void equalWeightsMixTheMembersProbabilitiesNotTheirLogits() {
        try (KanLearner learner = KanLearner.create(config(Task.BINARY, 3.0))) {
            stream(learner, Task.BINARY, 200, 2);
            learner.mixture.losses[0] = 0;
            learner.mixture.losses[1] = 0;
            float[] rows = probes();
            float[] own = learner.ownOutputs(rows, 16, false);
            float[] companion = learner.mixture.companions[0].outputs(rows, 16);
            float[] mixed = learner.outputs(rows, 16);
            for (int s = 0; s < 16; s++) {
                double p = (Task.sigmoid(own[s]) + Task.sigmoid(companion[s])) / 2;
                assertThat(Task.sigmoid(mixed[s])).isCloseTo(p, within(1e-5));
            }
        }
    }

    @Test
    void everyLabelChargesEachMemberItsLossBeforeAnyMemberLearnsFromIt() {
        try (KanLearner learner = KanLearner.create(config(Task.BINARY, 3.0))) {
            stream(learner, Task.BINARY, 50, 3);
            long companionSteps = learner.mixture.companions[0].steps();
            float[] row = probes();
            float[] one = java.util.Arrays.copyOf(row, 4);
            double label = 1;
            double[] before = learner.mixture.losses.clone();
            double ownLoss = -Math.log(Task.sigmoid(learner.ownOutputs(one, 1, false)[0]));
            double companionLoss =
                    -Math.log(Task.sigmoid(learner.mixture.companions[0].outputs(one, 1)[0]));
            learner.learn(one, new double[] {label});

            assertThat(learner.mixture.companions[0].steps()).isEqualTo(companionSteps + 1);
            double fade = 1 - 1 / learner.config().mixtureHorizon();
            double gap = (fade * before[1] + companionLoss) - (fade * before[0] + ownLoss);
            // only the difference is kept, the smaller loss at 0
            assertThat(learner.mixture.losses[1] - learner.mixture.losses[0])
                    .isCloseTo(gap, within(1e-5));
            assertThat(Math.min(learner.mixture.losses[0], learner.mixture.losses[1])).isZero();
        }
    }

    @Test
    void aBadLabelLeavesEveryMemberAsItWas() {
        try (KanLearner learner = KanLearner.create(config(Task.BINARY, 3.0))) {
            stream(learner, Task.BINARY, 20, 4);
            byte[] before = LearnerStateCodec.encode(learner);
            assertThatThrownBy(() -> learner.learn(new float[4], new double[] {2}))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThat(LearnerStateCodec.encode(learner)).isEqualTo(before);
        }
    }

    @Test
    void theCodecKeepsTheCompanionsAndTheirWeightsExactly() {
        for (Task task : List.of(Task.BINARY, Task.REGRESSION)) {
            try (KanLearner learner = KanLearner.create(config(task, 3.0))) {
                stream(learner, task, 300, 5);
                learner.refitFromStatistics();
                assertRestoredGoesOnAlike(
                        learner,
                        task,
                        20,
                        6,
                        (copy, original) -> {
                            assertThat(copy.companions()).isEqualTo(1);
                            assertThat(copy.memberWeights())
                                    .containsExactly(original.memberWeights());
                        });
            }
        }
    }

    @Test
    void theDefaultKanStaysWithinTheBudgetWithoutFirstMoments() {
        KanConfig momentum = config(Task.BINARY).toBuilder().beta1(0.9).build();
        try (KanLearner learner = KanLearner.create(config(Task.BINARY));
                KanLearner withMomentum = KanLearner.create(momentum)) {
            stream(learner, Task.BINARY, 640, 2024);
            stream(withMomentum, Task.BINARY, 640, 2024);
            byte[] state = LearnerStateCodec.encode(learner);
            assertThat(learner.config().beta1()).isZero();
            assertThat(state).hasSizeLessThanOrEqualTo(7_000);
            // 4,8,1: 400 first moments in 6 arrays, each a length and its floats
            assertThat(LearnerStateCodec.encode(withMomentum).length - state.length)
                    .isEqualTo(400 * Float.BYTES + 6 * Integer.BYTES);
        }
    }

    @Test
    void aPoolHoldsOnlySingleKans() {
        try (KanLearner learner = KanLearner.create(config(Task.BINARY, 3.0));
                KanPool pool = KanPool.open(config(Task.BINARY), 2, "cpu")) {
            assertThat(pool.accepts(learner)).isFalse();
            assertThatThrownBy(() -> pool.score(new KanLearner[] {learner}, new float[4]))
                    .hasMessageContaining("companions");
        }
    }

    @Test
    void badCompanionSettingsAreRefusedByName() {
        assertThatThrownBy(() -> config(Task.BINARY, 0.0))
                .hasMessageContaining("companion learning-rate factor");
        assertThatThrownBy(
                        () ->
                                KanConfig.builder(List.of(4, 1))
                                        .companionRates(List.of(3.0))
                                        .mixtureHorizon(0)
                                        .build())
                .hasMessageContaining("mixtureHorizon");
    }
}
