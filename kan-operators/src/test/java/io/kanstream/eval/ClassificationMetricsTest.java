package io.kanstream.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ClassificationMetricsTest {
    private static final double EXACT = 1e-12;

    // Eight binary examples, worked by hand in the assertions below.
    private static final int[] TRUE = {1, 1, 0, 1, 0, 0, 1, 1};
    private static final int[] PREDICTED = {1, 0, 0, 1, 1, 0, 1, 1};
    private static final double[] P_ONE = {0.9, 0.4, 0.4, 0.8, 0.6, 0.2, 0.6, 0.7};

    private static ClassificationMetrics handExample(MetricsConfig config) {
        ClassificationMetrics m = new ClassificationMetrics(2, config);
        for (int i = 0; i < TRUE.length; i++) {
            m.add(TRUE[i], PREDICTED[i], P_ONE[i]);
        }
        return m;
    }

    @Test
    void cumulativeFiguresMatchTheHandComputedExample() {
        ClassificationFigures f =
                handExample(new MetricsConfig(100, 0.999)).snapshot().cumulative();

        assertThat(f.weight()).isEqualTo(8);
        assertThat(f.accuracy()).isCloseTo(6 / 8.0, within(EXACT));
        // marginals: true 5 ones and 3 zeros, predicted 5 and 3 -> pc = (25 + 9) / 64
        assertThat(f.kappa()).isCloseTo((0.75 - 34 / 64.0) / (1 - 34 / 64.0), within(EXACT));
        assertThat(f.kappa()).isCloseTo(7 / 15.0, within(EXACT));
        // no-change predicts 0,1,1,0,1,0,0,1 (0 before the first label): 3 of 8 right
        assertThat(f.noChangeAccuracy()).isCloseTo(3 / 8.0, within(EXACT));
        assertThat(f.kappaTemporal()).isCloseTo((0.75 - 0.375) / (1 - 0.375), within(EXACT));
        // positives 0.9 0.4 0.8 0.6 0.7 vs negatives 0.4 0.6 0.2: 3 + 1.5 + 3 + 2.5 + 3 of 15
        assertThat(f.auc()).isCloseTo(13 / 15.0, within(EXACT));
        double logLoss =
                -(Math.log(0.9)
                                + Math.log(0.4)
                                + Math.log(0.6)
                                + Math.log(0.8)
                                + Math.log(0.4)
                                + Math.log(0.8)
                                + Math.log(0.6)
                                + Math.log(0.7))
                        / 8;
        assertThat(f.logLoss()).isCloseTo(logLoss, within(EXACT));
    }

    @Test
    void windowFiguresCoverOnlyTheLastWExamples() {
        ClassificationFigures f = handExample(new MetricsConfig(4, 0.999)).snapshot().window();

        // last four: true 0 0 1 1, predicted 1 0 1 1, P(1) 0.6 0.2 0.6 0.7
        assertThat(f.weight()).isEqualTo(4);
        assertThat(f.accuracy()).isCloseTo(0.75, within(EXACT));
        // pc = 2/4 * 1/4 + 2/4 * 3/4 = 0.5
        assertThat(f.kappa()).isCloseTo(0.5, within(EXACT));
        // no-change hits: 0 after 1 no, 0 after 0 yes, 1 after 0 no, 1 after 1 yes
        assertThat(f.noChangeAccuracy()).isCloseTo(0.5, within(EXACT));
        assertThat(f.kappaTemporal()).isCloseTo(0.5, within(EXACT));
        // 0.6 vs (0.6 tie, 0.2) = 1.5, 0.7 vs both = 2: 3.5 of 4
        assertThat(f.auc()).isCloseTo(0.875, within(EXACT));
    }

    @Test
    void fadedAccuracyWeighsEachOlderExampleByAlpha() {
        ClassificationMetrics m = new ClassificationMetrics(2, new MetricsConfig(10, 0.5));
        m.add(1, 1, 0.9);
        m.add(1, 0, 0.1);
        m.add(0, 0, 0.2);

        ClassificationFigures f = m.snapshot().fading();
        // weights 0.25, 0.5, 1 on right, wrong, right
        assertThat(f.weight()).isCloseTo(1.75, within(EXACT));
        assertThat(f.accuracy()).isCloseTo(1.25 / 1.75, within(EXACT));
    }

    @Test
    void multiclassKappaAndTemporalKappaMatchTheHandComputedExample() {
        ClassificationMetrics m = new ClassificationMetrics(3, MetricsConfig.DEFAULTS);
        int[] truth = {0, 1, 2, 2, 1, 0};
        int[] predicted = {0, 2, 2, 2, 1, 1};
        for (int i = 0; i < truth.length; i++) {
            double[] p = {0.1, 0.1, 0.1};
            p[predicted[i]] = 0.8;
            m.add(truth[i], predicted[i], p);
        }

        ClassificationFigures f = m.snapshot().cumulative();
        assertThat(f.accuracy()).isCloseTo(4 / 6.0, within(EXACT));
        // true marginals 2 2 2, predicted 1 2 3: pc = (2 + 4 + 6) / 36 = 1/3
        assertThat(f.kappa()).isCloseTo(0.5, within(EXACT));
        // no-change predicts 0 0 1 2 2 1: right twice
        assertThat(f.noChangeAccuracy()).isCloseTo(1 / 3.0, within(EXACT));
        assertThat(f.kappaTemporal()).isCloseTo(0.5, within(EXACT));
        assertThat(f.auc()).isNaN();
        assertThat(f.logLoss())
                .isCloseTo(-(4 * Math.log(0.8) + 2 * Math.log(0.1)) / 6, within(EXACT));
    }

    @Test
    void undefinedFiguresAreNaNNotExceptions() {
        ClassificationMetrics m = new ClassificationMetrics(2, new MetricsConfig(5, 0.9));
        ClassificationFigures empty = m.snapshot().window();
        assertThat(empty.weight()).isZero();
        assertThat(empty.accuracy()).isNaN();
        assertThat(empty.kappa()).isNaN();
        assertThat(empty.auc()).isNaN();

        for (int i = 0; i < 20; i++) {
            m.add(1, 1, 0.9);
        }
        MetricsSnapshot<ClassificationFigures> s = m.snapshot();
        for (ClassificationFigures f : new ClassificationFigures[] {s.cumulative(), s.window()}) {
            assertThat(f.accuracy()).isEqualTo(1.0);
            assertThat(f.kappa()).as("one class only: no room above chance").isNaN();
            assertThat(f.auc()).as("no negatives").isNaN();
        }
        assertThat(s.window().kappaTemporal()).as("no-change always right").isNaN();
        assertThat(s.fading().kappa()).isNaN();
    }

    @Test
    void logLossClipsACertainMistake() {
        ClassificationMetrics m = new ClassificationMetrics(2, MetricsConfig.DEFAULTS);
        m.add(1, 0, 0.0);

        assertThat(m.snapshot().cumulative().logLoss())
                .isCloseTo(-Math.log(ClassificationMetrics.PROBABILITY_CLIP), within(EXACT));
    }

    @Test
    void windowForgetsAnOldRunWhileCumulativeRemembersAndFadingSitsBetween() {
        double alpha = 0.99;
        ClassificationMetrics m = new ClassificationMetrics(2, new MetricsConfig(100, alpha));
        for (int i = 0; i < 1000; i++) {
            m.add(i % 2, i % 2, i % 2 == 1 ? 0.9 : 0.1);
        }
        for (int i = 0; i < 100; i++) {
            m.add(i % 2, 1 - i % 2, i % 2 == 1 ? 0.1 : 0.9);
        }

        MetricsSnapshot<ClassificationFigures> s = m.snapshot();
        assertThat(s.examples()).isEqualTo(1100);
        assertThat(s.window().accuracy()).isZero();
        assertThat(s.window().auc()).isZero();
        assertThat(s.cumulative().accuracy()).isCloseTo(1000 / 1100.0, within(EXACT));
        // right examples have weights alpha^100 .. alpha^1099
        double faded =
                Math.pow(alpha, 100) * (1 - Math.pow(alpha, 1000)) / (1 - Math.pow(alpha, 1100));
        assertThat(s.fading().accuracy()).isCloseTo(faded, within(1e-9));
        assertThat(s.fading().accuracy())
                .isGreaterThan(s.window().accuracy())
                .isLessThan(s.cumulative().accuracy());
    }

    @Test
    void windowFiguresEqualAFreshComputationOverTheLastWExamplesAfterManyPasses() {
        int w = 97;
        ClassificationMetrics m = new ClassificationMetrics(2, new MetricsConfig(w, 0.999));
        SplittableRandom random = new SplittableRandom(11);
        int n = 20_000;
        int[] truth = new int[n];
        double[] score = new double[n];
        for (int i = 0; i < n; i++) {
            truth[i] = random.nextInt(2);
            score[i] =
                    Math.min(
                            1,
                            Math.max(
                                    0, 0.5 + (truth[i] - 0.5) * 0.3 + random.nextGaussian() * 0.3));
            m.add(truth[i], score[i] >= 0.5 ? 1 : 0, score[i]);
        }

        ClassificationMetrics fresh = new ClassificationMetrics(2, new MetricsConfig(w, 0.999));
        for (int i = n - w; i < n; i++) {
            fresh.add(truth[i], score[i] >= 0.5 ? 1 : 0, score[i]);
        }
        ClassificationFigures expected = fresh.snapshot().cumulative();
        ClassificationFigures actual = m.snapshot().window();
        assertThat(actual.accuracy()).isEqualTo(expected.accuracy());
        assertThat(actual.logLoss()).isCloseTo(expected.logLoss(), within(1e-12));
        assertThat(actual.kappa()).isCloseTo(expected.kappa(), within(1e-12));
        assertThat(actual.auc()).isCloseTo(exactAuc(truth, score, n - w, n), within(1e-12));
    }

    @Test
    void cumulativeAucFromTheHistogramIsWithinItsStatedBoundOfTheExactAuc() {
        int n = 5_000;
        // a window as long as the stream makes the window AUC the exact cumulative one
        ClassificationMetrics m = new ClassificationMetrics(2, new MetricsConfig(n, 0.999));
        SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < n; i++) {
            int y = random.nextInt(2);
            double logit = 1.2 * (y - 0.5) * 2 + random.nextGaussian() * 2;
            double p = 1 / (1 + Math.exp(-logit));
            m.add(y, p >= 0.5 ? 1 : 0, p);
        }

        MetricsSnapshot<ClassificationFigures> s = m.snapshot();
        double bound = m.cumulativeAucMaxError();
        assertThat(bound).isLessThan(0.01);
        assertThat(s.cumulative().auc()).isCloseTo(s.window().auc(), within(bound));
        assertThat(s.cumulative().auc()).isCloseTo(s.window().auc(), within(0.002));
    }

    @Test
    void acceptsABaselinesPrediction() {
        ClassificationMetrics m = new ClassificationMetrics(2, MetricsConfig.DEFAULTS);
        m.add(1, Prediction.ofProbabilities(new double[] {0.3, 0.7}));

        assertThat(m.snapshot().cumulative().accuracy()).isEqualTo(1.0);
        assertThat(m.snapshot().cumulative().logLoss()).isCloseTo(-Math.log(0.7), within(EXACT));
    }

    @Test
    void rejectsInputsThatDoNotFitTheClassesWithAMessage() {
        ClassificationMetrics binary = new ClassificationMetrics(2, MetricsConfig.DEFAULTS);
        ClassificationMetrics three = new ClassificationMetrics(3, MetricsConfig.DEFAULTS);

        assertThatThrownBy(() -> binary.add(2, 0, 0.5))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("true class is 2");
        assertThatThrownBy(() -> three.add(0, 0, 0.5))
                .hasMessageContaining("pass the probability vector");
        assertThatThrownBy(() -> three.add(0, 0, new double[] {0.5, 0.5}))
                .hasMessageContaining("expected 3 class probabilities, got 2");
        assertThatThrownBy(() -> new MetricsConfig(0, 0.9)).hasMessageContaining("window");
        assertThatThrownBy(() -> new MetricsConfig(10, 1.5)).hasMessageContaining("fading");
    }

    @Test
    void restoresMidStreamAndContinuesIdentically() throws Exception {
        for (int classes : new int[] {2, 3}) {
            ClassificationMetrics original =
                    new ClassificationMetrics(classes, new MetricsConfig(50, 0.99));
            SplittableRandom random = new SplittableRandom(classes);
            feed(original, random, classes, 130);

            ClassificationMetrics restored =
                    StateBytes.copy(original::write, ClassificationMetrics::read);
            assertThat(restored.snapshot()).isEqualTo(original.snapshot());

            SplittableRandom a = new SplittableRandom(99);
            SplittableRandom b = new SplittableRandom(99);
            feed(original, a, classes, 171);
            feed(restored, b, classes, 171);
            assertThat(restored.snapshot()).isEqualTo(original.snapshot());
            assertThat(StateBytes.of(restored::write)).isEqualTo(StateBytes.of(original::write));
        }
    }

    @Test
    void refusesStateOfAnUnknownVersion() {
        byte[] state = StateBytes.of(new ClassificationMetrics(2, MetricsConfig.DEFAULTS)::write);
        state[0] = 9;

        assertThatThrownBy(() -> StateBytes.read(state, ClassificationMetrics::read))
                .hasMessageContaining("Unrecognized version or corrupt state")
                .hasMessageContaining("format 9");
    }

    private static void feed(ClassificationMetrics m, SplittableRandom random, int classes, int n) {
        for (int i = 0; i < n; i++) {
            double[] p = new double[classes];
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                p[c] = random.nextDouble();
                sum += p[c];
            }
            for (int c = 0; c < classes; c++) {
                p[c] /= sum;
            }
            m.add(random.nextInt(classes), Prediction.ofProbabilities(p));
        }
    }

    /** Brute force over all pairs. */
    private static double exactAuc(int[] truth, double[] score, int from, int to) {
        double area = 0;
        long pairs = 0;
        for (int i = from; i < to; i++) {
            for (int j = from; j < to; j++) {
                if (truth[i] == 1 && truth[j] == 0) {
                    pairs++;
                    area += score[i] > score[j] ? 1 : score[i] == score[j] ? 0.5 : 0;
                }
            }
        }
        return area / pairs;
    }
}
