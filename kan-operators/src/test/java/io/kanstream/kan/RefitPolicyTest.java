package io.kanstream.kan;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RefitPolicyTest {
    private static final RefitPolicy POLICY = RefitPolicy.defaults();

    /** A binary 2,4,1 learner without input normalization, so inputs land where they are sent. */
    private static KanLearner learner() {
        return KanLearner.create(
                KanConfig.builder(List.of(2, 4, 1))
                        .task(Task.BINARY)
                        .normalize(false)
                        .device("cpu")
                        .seed(3)
                        .build());
    }

    /** Scores and learns n examples around (center, center), one at a time. */
    private static void feed(KanLearner learner, SplittableRandom random, int n, double center) {
        for (int s = 0; s < n; s++) {
            float[] x = {
                (float) (center + random.nextGaussian() * 0.3),
                (float) (center + random.nextGaussian() * 0.3)
            };
            learner.score(x, 1);
            learner.learn(x, new double[] {x[0] > center ? 1 : 0});
        }
    }

    @Test
    void aGridWhoseInputsStayInsideItIsNeverRefit() {
        try (KanLearner learner = learner()) {
            SplittableRandom random = new SplittableRandom(1);
            float[][] inputGrid = learner.grid(0).toArray();
            for (int round = 0; round < 10; round++) {
                feed(learner, random, 300, 0);
                RefitResult result = learner.refitIfDue(POLICY);
                if (result != null) {
                    // only the hidden layer, whose inputs grow as the network learns, may move
                    assertThat(result.change()).isLessThanOrEqualTo(POLICY.tolerance());
                }
                assertThat(learner.outsideGridFraction(0)).isLessThan(0.01);
                assertThat(learner.grid(0).toArray()).isDeepEqualTo(inputGrid);
            }
        }
    }

    @Test
    void inputsThatLeaveTheGridTriggerARefitOfTheirLayerWithinTheTolerance() {
        try (KanLearner learner = learner()) {
            SplittableRandom random = new SplittableRandom(2);
            feed(learner, random, 600, 0);
            KnotGrid hidden = learner.grid(1);
            feed(learner, random, 2_000, 3); // well beyond the grid's interior [-1, 1]
            assertThat(learner.outsideGridFraction(0)).isGreaterThan(0.5);
            assertThat(POLICY.reason(learner)).isEqualTo(RefitPolicy.Reason.OUTSIDE);
            assertThat(POLICY.layers(learner, RefitPolicy.Reason.OUTSIDE)[0]).isTrue();
            boolean hiddenDue = POLICY.layers(learner, RefitPolicy.Reason.OUTSIDE)[1];

            RefitResult result = learner.refitIfDue(POLICY);

            if (result != null) {
                assertThat(result.change()).isLessThanOrEqualTo(POLICY.tolerance());
                assertThat(learner.grid(0).interiorHigh(0)).isGreaterThan(1.5f);
                if (!hiddenDue) {
                    assertThat(learner.grid(1).toArray()).isDeepEqualTo(hidden.toArray());
                }
            } else {
                assertThat(learner.rejectedRefits()).isEqualTo(1);
                assertThat(learner.examplesSinceRefit()).isZero(); // waits another interval
            }
        }
    }

    @Test
    void aRefitThatWouldChangeTheOutputsMoreThanTheToleranceIsDeclined() {
        RefitPolicy strict = new RefitPolicy(0.2, 1, 0, 500, 0, 0, 0, 1000); // tolerance 0
        try (KanLearner learner = learner()) {
            SplittableRandom random = new SplittableRandom(3);
            feed(learner, random, 600, 0);
            feed(learner, random, 2_000, 3);
            float[] probe = {0.2f, -0.3f, 2.5f, 3.1f};
            float[] before = learner.outputs(probe, 2);
            assertThat(learner.refitIfDue(strict)).isNull();
            assertDeclinedAndUnchanged(learner, probe, before);
        }
    }

    @Test
    void aDriftsRefitKeepsToTheTolerance() {
        RefitPolicy strict = new RefitPolicy(0.2, 1, 0, 500, 0, 0, 0, 1000); // tolerance 0
        RefitPolicy loose = new RefitPolicy(0.2, 1, 0, 500, 0, 10, 0, 1000);
        try (KanLearner learner = learner()) {
            SplittableRandom random = new SplittableRandom(4);
            feed(learner, random, 2_000, 0.5);
            float[] probe = {0.2f, -0.3f, 0.9f, 0.6f};
            float[] before = learner.outputs(probe, 2);

            assertThat(learner.refitWithinTolerance(strict)).isNull();
            assertDeclinedAndUnchanged(learner, probe, before);

            feed(learner, random, 100, 0.5);
            RefitResult result = learner.refitWithinTolerance(loose);
            assertThat(result).isNotNull();
            assertThat(result.change()).isPositive().isLessThanOrEqualTo(loose.tolerance());
            assertThat(learner.gridEpoch()).isEqualTo(1);
        }
    }

    /**
     * A grid that stays off its inputs and cannot move within the tolerance is looked at after the
     * minimum interval, then after twice and four times as long, and from then on every four
     * intervals; the count of looks declined in a row travels with the learner's state (a RocksDB
     * backend decodes it on every event), and a refit that is applied starts over.
     */
    @Test
    void declinedRefitsInARowStretchTheWaitUpToTheBackoffAndAnAppliedRefitStartsOver() {
        RefitPolicy strict = new RefitPolicy(0.2, 1, 0, 100, 2, 0, 0, 1000); // tolerance 0
        try (KanLearner first = learner()) {
            SplittableRandom random = new SplittableRandom(6);
            feed(first, random, 300, 0);
            KanLearner learner = first;
            int[] examplesAtLook = new int[6];
            int looks = 0;
            for (int e = 1; e <= 2_500 && looks < examplesAtLook.length; e++) {
                feed(learner, random, 1, 3); // off the grid's interior: every look finds it due
                if (learner.refitIfDue(strict) == null && learner.rejectedRefits() > looks) {
                    examplesAtLook[looks++] = e;
                }
                // every event through the codec, as the RocksDB backend reads and writes the model
                KanLearner decoded =
                        LearnerStateCodec.decode(LearnerStateCodec.encode(learner), "cpu");
                if (learner != first) {
                    learner.close();
                }
                learner = decoded;
            }
            try (KanLearner last = learner) {
                assertThat(examplesAtLook)
                        .as("the examples at which the declined looks came")
                        .containsExactly(1, 201, 601, 1_001, 1_401, 1_801);
                assertThat(last.declinedInARow()).isEqualTo(6);
                assertThat(strict.examplesBeforeLook(last)).isEqualTo(400);
                assertThat(strict.withDeclineBackoff(0).examplesBeforeLook(last)).isEqualTo(100);

                RefitPolicy loose = new RefitPolicy(0.2, 1, 0, 100, 2, 10, 0, 1000);
                feed(last, random, 400, 3);
                assertThat(last.refitIfDue(loose)).isNotNull();
                assertThat(last.declinedInARow()).isZero();
                assertThat(loose.examplesBeforeLook(last)).isEqualTo(100);
            }
        }
    }

    /** One refit declined and counted, the grids and the outputs on {@code probe} as they were. */
    private static void assertDeclinedAndUnchanged(
            KanLearner learner, float[] probe, float[] before) {
        assertThat(learner.rejectedRefits()).isEqualTo(1);
        assertThat(learner.gridEpoch()).isZero();
        assertThat(learner.outputs(probe, 2)).containsExactly(before);
    }

    @Test
    void gridExtensionDoublesGOnceEnoughLabelsPerIntervalArrivedAndKeepsTheFunction() {
        RefitPolicy extending = POLICY.withExtension(20);
        try (KanLearner learner =
                KanLearner.create(
                        KanConfig.builder(List.of(2, 4, 1)).device("cpu").seed(3).build())) {
            SplittableRandom random = new SplittableRandom(4);
            RefitResult extension = null;
            float[] before = null;
            float[] after = null;
            float[] probe = {0.1f, 0.2f, -0.4f, 0.3f, 0.25f, -0.1f};
            for (int s = 0; s < 6_000 && extension == null; s += 10) {
                for (int e = 0; e < 10; e++) { // a smooth regression, as the toy problem
                    float[] x = {
                        (float) random.nextDouble(-1, 1), (float) random.nextDouble(-1, 1)
                    };
                    learner.score(x, 1);
                    learner.learn(x, new double[] {Math.sin(3 * x[0]) + x[1] * x[1]});
                }
                if (extending.reason(learner) == RefitPolicy.Reason.EXTEND) {
                    assertThat(learner.examples()).isGreaterThanOrEqualTo(5_000); // 1,000 x G
                    before = learner.outputs(probe, 3);
                    extension = learner.refitIfDue(extending);
                    after = learner.outputs(probe, 3);
                } else {
                    learner.refitIfDue(extending); // outside-grid refits, as the stream does
                }
            }
            assertThat(extension).as("an extension within the tolerance").isNotNull();
            assertThat(extension.gridSize()).isEqualTo(10);
            assertThat(learner.config().gridSize()).isEqualTo(10);
            assertThat(extension.change()).isLessThanOrEqualTo(extending.tolerance());
            for (int q = 0; q < after.length; q++) {
                assertThat((double) after[q])
                        .isCloseTo(before[q], org.assertj.core.api.Assertions.within(0.1));
            }
        }
    }

    @Test
    void neverMeansNever() {
        try (KanLearner learner = learner()) {
            SplittableRandom random = new SplittableRandom(5);
            feed(learner, random, 3_000, 4);
            assertThat(RefitPolicy.never().reason(learner)).isEqualTo(RefitPolicy.Reason.NONE);
            assertThat(learner.refitIfDue(RefitPolicy.never())).isNull();
        }
    }

    @Test
    void resettingTheMomentumForgetsTheDirectionAndKeepsTheScale() {
        try (KanLearner learner = learner()) {
            feed(learner, new SplittableRandom(6), 50, 0);
            long steps = learner.steps();
            float[] scale = learner.moment(1, false).clone();
            learner.resetMomentum();
            assertThat(learner.steps()).isEqualTo(steps);
            for (int q = 0; q < 3 * learner.layerCount(); q++) {
                for (float m : learner.moment(q, true)) {
                    assertThat(m).isZero();
                }
            }
            assertThat(learner.moment(1, false)).containsExactly(scale);
            assertThat(learner.optimizer.sinceReset()).isEqualTo(steps);
        }
    }

    @Test
    void restartingTheOptimizerZeroesBothMomentsAndBiasCorrectionButKeepsCountingSteps() {
        try (KanLearner learner = learner()) {
            feed(learner, new SplittableRandom(6), 50, 0);
            long steps = learner.steps();
            learner.restartOptimizer();
            assertThat(learner.steps()).isEqualTo(steps);
            for (int q = 0; q < 3 * learner.layerCount(); q++) {
                for (float m : learner.moment(q, true)) {
                    assertThat(m).isZero();
                }
                for (float v : learner.moment(q, false)) {
                    assertThat(v).isZero();
                }
            }
            assertThat(learner.optimizer.sinceReset()).isZero();
            feed(learner, new SplittableRandom(7), 1, 0);
            assertThat(learner.steps()).isEqualTo(steps + 1);
            assertThat(learner.optimizer.sinceReset()).isEqualTo(1);
        }
    }
}
