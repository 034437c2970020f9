package io.kanstream.jobs.fit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kanstream.kan.KanConfig;
import io.kanstream.kan.KanLearner;
import io.kanstream.kan.RefitPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MiniBatchTrainingTest {
    private static final int ROWS = 4000;

    /** y = exp(sin(π x0) + x1²) on rows sorted by x0, as a file ordered by one column would be. */
    private static double target(float x0, float x1) {
        return Math.exp(Math.sin(Math.PI * x0) + x1 * x1);
    }

    private static float[] sortedRows(SplittableRandom random, int n) {
        float[][] rows = new float[n][];
        for (int r = 0; r < n; r++) {
            rows[r] =
                    new float[] {
                        (float) (2 * random.nextDouble() - 1), (float) (2 * random.nextDouble() - 1)
                    };
        }
        java.util.Arrays.sort(rows, (a, b) -> Float.compare(a[0], b[0]));
        float[] flat = new float[2 * n];
        for (int r = 0; r < n; r++) {
            flat[2 * r] = rows[r][0];
            flat[2 * r + 1] = rows[r][1];
        }
        return flat;
    }

    private static double[] labels(float[] x) {
        double[] y = new double[x.length / 2];
        for (int r = 0; r < y.length; r++) {
            y[r] = target(x[2 * r], x[2 * r + 1]);
        }
        return y;
    }

    private static double testRmse(MiniBatchTraining.Plan plan, List<Double> rates) {
        float[] x = sortedRows(new SplittableRandom(1), ROWS);
        double[] y = labels(x);
        float[] test = sortedRows(new SplittableRandom(2), 1000);
        double[] truth = labels(test);
        KanConfig config =
                MiniBatchTraining.offline(KanConfig.builder(List.of(2, 5, 1)).seed(3)).build();
        try (KanLearner learner = KanLearner.create(config)) {
            List<Integer> epochs = new ArrayList<>();
            MiniBatchTraining.train(
                    learner,
                    x,
                    y,
                    ROWS,
                    32,
                    plan,
                    RefitPolicy.defaults(),
                    "sorted",
                    (rows, labels, n) -> rates.add(learner.learningRateScale()),
                    (epoch, pass) -> epochs.add(epoch));
            assertThat(epochs).hasSize(plan.epochs());
            assertThat(learner.learningRateScale()).as("saved for live learning").isEqualTo(1);
            float[] out = learner.outputs(test, truth.length);
            double sum = 0;
            for (int r = 0; r < truth.length; r++) {
                sum += Math.pow(out[r] - truth[r], 2);
            }
            return Math.sqrt(sum / truth.length);
        }
    }

    @Test
    void shuffledPassesLearnARowOrderThatOnePassInOrderCannot() {
        List<Double> inOrderRates = new ArrayList<>();
        double inOrder = testRmse(MiniBatchTraining.Plan.onePassInOrder(), inOrderRates);
        List<Double> rates = new ArrayList<>();
        double defaults = testRmse(MiniBatchTraining.Plan.defaults(), rates);
        assertThat(defaults)
                .as("defaults against one pass in order (%.4f)", inOrder)
                .isLessThan(inOrder / 5);
        assertThat(inOrderRates).containsOnly(1.0);
        // the first pass's steps, all before the cooldown: the full rate
        assertThat(rates).hasSize((ROWS + 31) / 32).containsOnly(1.0);
    }

    @Test
    void theCooldownFallsLinearlyOverTheLastStepsAndNeverReachesZero() {
        MiniBatchTraining.Plan plan = new MiniBatchTraining.Plan(2, true, 0.25);
        assertThat(plan.rateFactor(0, 100)).isEqualTo(1);
        assertThat(plan.rateFactor(75, 100)).isEqualTo(1);
        assertThat(plan.rateFactor(76, 100)).isEqualTo(24 / 25.0);
        assertThat(plan.rateFactor(99, 100)).isEqualTo(1 / 25.0);
        assertThat(new MiniBatchTraining.Plan(1, false, 0).rateFactor(99, 100)).isEqualTo(1);
        assertThatThrownBy(() -> new MiniBatchTraining.Plan(0, true, 0.2))
                .hasMessageContaining("epochs");
        assertThatThrownBy(() -> new MiniBatchTraining.Plan(1, true, 1.5))
                .hasMessageContaining("cooldown");
    }

    @Test
    void aBadLabelInAShuffledBatchNamesTheFileRows() {
        float[] x = sortedRows(new SplittableRandom(1), 64);
        double[] y = labels(x);
        y[40] = Double.NaN;
        KanConfig config = KanConfig.builder(List.of(2, 3, 1)).build();
        try (KanLearner learner = KanLearner.create(config)) {
            assertThatThrownBy(
                            () ->
                                    MiniBatchTraining.train(
                                            learner,
                                            x,
                                            y,
                                            64,
                                            64,
                                            MiniBatchTraining.Plan.defaults(),
                                            RefitPolicy.defaults(),
                                            "data.csv",
                                            (rows, labels, n) -> {},
                                            (epoch, pass) -> {}))
                    .hasMessageStartingWith("data.csv the mini-batch of rows ")
                    .hasMessageContaining(", 41,");
            assertThat(learner.learningRateScale()).isEqualTo(1);
        }
    }
}
