package io.kanstream.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.kanstream.kan.Task;
import java.io.IOException;
import java.io.InputStream;
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
        // one against the rest, ties one half: class 0 ranks its 0.8 and 0.1 against four 0.1s,
        // 6/8; class 1 its 0.1 and 0.8 against 0.1, 0.1, 0.1, 0.8, 5/8; class 2 its two 0.8s
        // against 0.1, 0.8, 0.1, 0.1, 7/8: the mean 0.75, in the window exactly as well
        assertThat(f.auc()).isCloseTo(0.75, within(EXACT));
        assertThat(m.snapshot().window().auc()).isCloseTo(0.75, within(EXACT));
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
    void multiclassAucIsEachClassAgainstTheRestAveragedExactOverTheWindow() {
        int classes = 4;
        int n = 3_000;
        int w = 97;
        ClassificationMetrics windowed =
                new ClassificationMetrics(classes, new MetricsConfig(w, 0.999));
        // a window as long as the stream makes the window AUC the exact cumulative one
        ClassificationMetrics whole =
                new ClassificationMetrics(classes, new MetricsConfig(n, 0.999));
        SplittableRandom random = new SplittableRandom(3);
        int[] truth = new int[n];
        double[][] p = new double[n][];
        for (int i = 0; i < n; i++) {
            // class 3 rarer, class 0's probability uninformative: the classes' AUCs differ
            truth[i] = random.nextInt(10) < 1 ? 3 : random.nextInt(3);
            float[] logits = new float[classes];
            for (int c = 0; c < classes; c++) {
                double signal = c == 0 ? 0 : (truth[i] == c ? 1.5 : 0);
                logits[c] = (float) (signal + random.nextGaussian());
            }
            p[i] = Task.softmax(logits, 0, classes);
            Prediction prediction = Prediction.ofProbabilities(p[i]);
            windowed.add(truth[i], prediction);
            whole.add(truth[i], prediction);
        }

        double[] perClass = new double[classes];
        double expected = 0;
        for (int c = 0; c < classes; c++) {
            perClass[c] = exactOneAgainstRest(truth, p, c, n - w, n);
            expected += perClass[c] / classes;
        }
        assertThat(perClass[0]).as("class 0 uninformative").isBetween(0.3, 0.7);
        assertThat(perClass[3]).as("class 3 ranked by its probability").isGreaterThan(0.7);
        assertThat(windowed.snapshot().window().auc()).isCloseTo(expected, within(1e-12));

        double wholeExact = 0;
        for (int c = 0; c < classes; c++) {
            wholeExact += exactOneAgainstRest(truth, p, c, 0, n) / classes;
        }
        MetricsSnapshot<ClassificationFigures> s = whole.snapshot();
        assertThat(s.window().auc()).isCloseTo(wholeExact, within(1e-12));
        double bound = whole.cumulativeAucMaxError();
        assertThat(bound).isLessThan(0.01);
        assertThat(s.cumulative().auc()).isCloseTo(wholeExact, within(bound));
    }

    @Test
    void aClassMissingFromTheWindowIsLeftOutOfTheMacroAverage() {
        ClassificationMetrics m = new ClassificationMetrics(3, new MetricsConfig(4, 0.9));
        // only classes 0 and 1 occur: class 2 has no positives, its AUC is undefined
        m.add(0, 0, new double[] {0.7, 0.2, 0.1});
        m.add(1, 1, new double[] {0.2, 0.6, 0.2});
        m.add(0, 1, new double[] {0.3, 0.5, 0.2});
        // class 0: 0.7 and 0.3 against 0.2, 2/2; class 1: 0.6 against 0.2 and 0.5, 2/2
        assertThat(m.snapshot().window().auc()).isCloseTo(1.0, within(EXACT));
        m.add(1, 0, new double[] {0.4, 0.1, 0.5});
        // class 0: 0.7 and 0.3 against 0.2 and 0.4, 3/4; class 1: 0.6 and 0.1 against 0.2 and
        // 0.5, 2/4; class 2 still without positives
        assertThat(m.snapshot().window().auc()).isCloseTo((0.75 + 0.5) / 2, within(EXACT));
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

    /**
     * Format 1, as written before multiclass AUC: {@code state/classification-metrics-v1/} holds
     * what that code wrote after {@code feed(m, new SplittableRandom(7), classes, 130)} with a
     * window of 50 and a fading factor of 0.99, for two and three classes. Two classes restore
     * whole; three restore every figure but AUC, which that format did not keep and which starts
     * afresh.
     */
    @Test
    void restoresFormatOneBytes() throws Exception {
        for (int classes : new int[] {2, 3}) {
            ClassificationMetrics restored =
                    StateBytes.read(formatOne(classes), ClassificationMetrics::read);
            ClassificationMetrics fresh =
                    new ClassificationMetrics(classes, new MetricsConfig(50, 0.99));
            feed(fresh, new SplittableRandom(7), classes, 130);

            MetricsSnapshot<ClassificationFigures> was = restored.snapshot();
            MetricsSnapshot<ClassificationFigures> now = fresh.snapshot();
            if (classes == 2) {
                assertThat(was).isEqualTo(now);
                assertThat(StateBytes.of(restored::write)).isEqualTo(StateBytes.of(fresh::write));
            } else {
                assertThat(was.cumulative().accuracy()).isEqualTo(now.cumulative().accuracy());
                assertThat(was.window().logLoss()).isEqualTo(now.window().logLoss());
                assertThat(was.fading().kappa()).isEqualTo(now.fading().kappa());
                assertThat(was.cumulative().auc()).as("no scores in format 1").isNaN();
                assertThat(was.window().auc()).isNaN();
            }

            // once the window has passed, the restored figures over it are the fresh ones
            feed(restored, new SplittableRandom(8), classes, 60);
            feed(fresh, new SplittableRandom(8), classes, 60);
            assertThat(restored.snapshot().window()).isEqualTo(fresh.snapshot().window());
            assertThat(restored.snapshot().cumulative().accuracy())
                    .isEqualTo(fresh.snapshot().cumulative().accuracy());
        }
    }

    private static byte[] formatOne(int classes) throws IOException {
        String name =
                "/state/classification-metrics-v1/classification-metrics-"
                        + classes
                        + "-classes.bin";
        try (InputStream in = ClassificationMetricsTest.class.getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            byte[] bytes = in.readAllBytes();
            assertThat(bytes[0]).as("format").isEqualTo((byte) 1);
            return bytes;
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

    /** Class c's probability against the rest, brute force over all pairs in [from, to). */
    private static double exactOneAgainstRest(int[] truth, double[][] p, int c, int from, int to) {
        int[] positive = new int[to - from];
        double[] score = new double[to - from];
        for (int i = from; i < to; i++) {
            positive[i - from] = truth[i] == c ? 1 : 0;
            score[i - from] = p[i][c];
        }
        return exactAuc(positive, score, 0, to - from);
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
