package io.kanstream.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BaselinesTest {
    private static final float[] NO_FEATURES = new float[0];

    @Test
    void noChangePredictsTheLastLabelWithTheRateAtWhichLabelsRepeated() {
        NoChange b = new NoChange(Target.multiclass(3));
        Prediction first = b.predict(NO_FEATURES);
        assertThat(first.predictedClass()).isZero();
        assertThat(first.probabilities()).containsExactly(1 / 3.0, 1 / 3.0, 1 / 3.0);

        for (int label : new int[] {2, 2, 1, 1}) {
            b.learn(NO_FEATURES, label);
        }

        Prediction p = b.predict(NO_FEATURES);
        assertThat(p.predictedClass()).isEqualTo(1);
        // 3 pairs, 2 repeats: (2 + 1) / (3 + 2)
        assertThat(p.probability(1)).isCloseTo(0.6, within(1e-15));
        assertThat(p.probability(0)).isCloseTo(0.2, within(1e-15));
        assertThat(p.probability(2)).isCloseTo(0.2, within(1e-15));
    }

    @Test
    void noChangeForRegressionRepeatsTheLastValue() {
        NoChange b = new NoChange(Target.regression());
        assertThat(b.predict(NO_FEATURES).value()).isZero();

        b.learn(NO_FEATURES, 4.5);
        b.learn(NO_FEATURES, -2.25);

        assertThat(b.predict(NO_FEATURES).value()).isEqualTo(-2.25);
        assertThat(b.predict(NO_FEATURES).probabilities()).isEmpty();
    }

    @Test
    void majorityClassPredictsTheMostFrequentClassWithSmoothedFrequencies() {
        MajorityClass b = new MajorityClass(Target.binary());
        assertThat(b.predict(NO_FEATURES).probabilities()).containsExactly(0.5, 0.5);

        for (int label : new int[] {1, 0, 1, 1}) {
            b.learn(NO_FEATURES, label);
        }

        Prediction p = b.predict(NO_FEATURES);
        assertThat(p.predictedClass()).isEqualTo(1);
        // (3 + 1) / (4 + 2) and (1 + 1) / (4 + 2)
        assertThat(p.probability(1)).isCloseTo(4 / 6.0, within(1e-15));
        assertThat(p.probability(0)).isCloseTo(2 / 6.0, within(1e-15));
    }

    @Test
    void majorityClassForRegressionPredictsTheRunningMean() {
        MajorityClass b = new MajorityClass(Target.regression());
        for (double y : new double[] {1, 2, 6}) {
            b.learn(NO_FEATURES, y);
        }

        assertThat(b.predict(NO_FEATURES).value()).isCloseTo(3, within(1e-15));
    }

    @Test
    void logisticRegressionLearnsALinearlySeparableStreamOnRawScaleFeatures() {
        for (OnlineLinear.Optimizer optimizer : OnlineLinear.Optimizer.values()) {
            OnlineLinear model =
                    new OnlineLinear(
                            OnlineLinear.Config.defaults(Target.binary(), 3)
                                    .withOptimizer(optimizer)
                                    .withLearningRate(0.05));
            ClassificationMetrics metrics = new ClassificationMetrics(2, MetricsConfig.DEFAULTS);
            SplittableRandom random = new SplittableRandom(17);
            for (int i = 0; i < 5_000; i++) {
                float[] x = separable(random);
                // one feature in the thousands, one in the thousandths, one pure noise
                double margin = 0.004 * (x[0] - 5_000) - 900 * (x[1] - 0.002);
                int label = margin > 0 ? 1 : 0;
                metrics.add(label, model.predict(x));
                model.learn(x, label);
            }

            MetricsSnapshot<ClassificationFigures> s = metrics.snapshot();
            assertThat(s.cumulative().accuracy()).as(optimizer.name()).isGreaterThan(0.95);
            assertThat(s.window().accuracy()).as(optimizer.name()).isGreaterThan(0.98);
            assertThat(s.window().auc()).as(optimizer.name()).isGreaterThan(0.995);
        }
    }

    private static float[] separable(SplittableRandom random) {
        while (true) {
            float[] x = {
                (float) (5_000 + 1_000 * random.nextGaussian()),
                (float) (0.002 + 0.004 * random.nextGaussian()),
                (float) random.nextGaussian()
            };
            double margin = 0.004 * (x[0] - 5_000) - 900 * (x[1] - 0.002);
            if (Math.abs(margin) > 0.3) { // a gap between the classes
                return x;
            }
        }
    }

    @Test
    void softmaxRegressionSeparatesThreeClusters() {
        OnlineLinear model =
                new OnlineLinear(OnlineLinear.Config.defaults(Target.multiclass(3), 2));
        ClassificationMetrics metrics = new ClassificationMetrics(3, MetricsConfig.DEFAULTS);
        SplittableRandom random = new SplittableRandom(4);
        double[][] centres = {{0, 0}, {100, 0}, {0, 100}};
        for (int i = 0; i < 5_000; i++) {
            int label = random.nextInt(3);
            float[] x = {
                (float) (centres[label][0] + 15 * random.nextGaussian()),
                (float) (centres[label][1] + 15 * random.nextGaussian())
            };
            metrics.add(label, model.predict(x));
            model.learn(x, label);
        }

        assertThat(metrics.snapshot().window().accuracy()).isGreaterThan(0.97);
        assertThat(metrics.snapshot().window().kappa()).isGreaterThan(0.95);
    }

    @Test
    void linearRegressionRecoversCoefficientsOfRawScaleFeatures() {
        OnlineLinear model = new OnlineLinear(OnlineLinear.Config.defaults(Target.regression(), 3));
        RegressionMetrics metrics = raw(model);

        double[] c = model.coefficients(0);
        assertThat(c[0]).isCloseTo(0.002, within(0.002 * 0.01));
        assertThat(c[1]).isCloseTo(-50, within(50 * 0.01));
        assertThat(c[2]).isCloseTo(0.1, within(0.1 * 0.01));
        assertThat(model.intercept(0)).isCloseTo(40, within(0.5));
        assertThat(metrics.snapshot().window().r2()).isGreaterThan(0.9999);
    }

    @Test
    void adamAtASmallLearningRateRecoversTheCoefficientsToo() {
        // Adam at a constant rate wanders around the optimum by about its rate in standardized
        // units; the -50 coefficient moves y by only 0.5 of its 5.8 standard deviation.
        OnlineLinear model =
                new OnlineLinear(
                        OnlineLinear.Config.defaults(Target.regression(), 3)
                                .withOptimizer(OnlineLinear.Optimizer.ADAM)
                                .withLearningRate(0.001));
        RegressionMetrics metrics = raw(model);

        double[] c = model.coefficients(0);
        assertThat(c[0]).isCloseTo(0.002, within(0.002 * 0.03));
        assertThat(c[1]).isCloseTo(-50, within(50 * 0.03));
        assertThat(c[2]).isCloseTo(0.1, within(0.1 * 0.03));
        assertThat(metrics.snapshot().window().r2()).isGreaterThan(0.999);
    }

    /** y = 40 + 0.002 x0 - 50 x1 + 0.1 x2 + noise(0.01), features on wildly different scales. */
    private static RegressionMetrics raw(OnlineLinear model) {
        SplittableRandom random = new SplittableRandom(23);
        RegressionMetrics metrics = new RegressionMetrics(MetricsConfig.DEFAULTS);
        for (int i = 0; i < 30_000; i++) {
            float[] x = {
                (float) (random.nextDouble() * 10_000),
                (float) (0.5 + 0.01 * random.nextGaussian()),
                (float) (-300 + 20 * random.nextGaussian())
            };
            double y = 40 + 0.002 * x[0] - 50 * x[1] + 0.1 * x[2] + 0.01 * random.nextGaussian();
            metrics.add(y, model.predict(x));
            model.learn(x, y);
        }
        return metrics;
    }

    @Test
    void l2ShrinksTheWeights() {
        OnlineLinear plain = new OnlineLinear(OnlineLinear.Config.defaults(Target.regression(), 1));
        OnlineLinear decayed =
                new OnlineLinear(OnlineLinear.Config.defaults(Target.regression(), 1).withL2(0.5));
        SplittableRandom random = new SplittableRandom(2);
        for (int i = 0; i < 5_000; i++) {
            float[] x = {(float) random.nextGaussian()};
            double y = 3 * x[0];
            plain.learn(x, y);
            decayed.learn(x, y);
        }

        assertThat(plain.coefficients(0)[0]).isCloseTo(3, within(0.05));
        // the minimum of (w - 1)^2 / 2 + 0.5 w^2 / 2 in standardized units is w = 1 / 1.5
        assertThat(decayed.coefficients(0)[0]).isCloseTo(3 / 1.5, within(0.1));
    }

    @Test
    void aMissingFeatureIsReadAsItsMean() {
        OnlineLinear model = new OnlineLinear(OnlineLinear.Config.defaults(Target.regression(), 2));
        SplittableRandom random = new SplittableRandom(6);
        for (int i = 0; i < 5_000; i++) {
            float[] x = {(float) random.nextGaussian(), (float) random.nextGaussian()};
            if (i % 10 == 0) {
                x[1] = Float.NaN;
            }
            model.learn(x, 2 * x[0] + (Float.isNaN(x[1]) ? 0 : x[1]));
        }

        Prediction p = model.predict(new float[] {1, Float.NaN});
        assertThat(p.value()).isFinite().isCloseTo(2, within(0.2));
    }

    @Test
    void theSameStreamGivesTheSameModelBitForBit() {
        OnlineLinear a = new OnlineLinear(OnlineLinear.Config.defaults(Target.binary(), 2));
        OnlineLinear b = new OnlineLinear(OnlineLinear.Config.defaults(Target.binary(), 2));
        SplittableRandom ra = new SplittableRandom(9);
        SplittableRandom rb = new SplittableRandom(9);
        for (int i = 0; i < 1_000; i++) {
            float[] xa = {(float) ra.nextGaussian(), (float) ra.nextGaussian()};
            float[] xb = {(float) rb.nextGaussian(), (float) rb.nextGaussian()};
            a.learn(xa, xa[0] > xa[1] ? 1 : 0);
            b.learn(xb, xb[0] > xb[1] ? 1 : 0);
        }

        assertThat(StateBytes.of(a::write)).isEqualTo(StateBytes.of(b::write));
    }

    @Test
    void rejectsLabelsAndFeatureVectorsThatDoNotFitWithAMessage() {
        OnlineLinear model = new OnlineLinear(OnlineLinear.Config.defaults(Target.binary(), 2));

        assertThatThrownBy(() -> model.learn(new float[] {1, 2}, 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("label is 2.0, expected a class index in 0..1");
        assertThatThrownBy(() -> model.predict(new float[] {1, 2, 3}))
                .hasMessageContaining("expected 2 features, got 3");
        assertThatThrownBy(() -> new MajorityClass(Target.multiclass(3)).learn(NO_FEATURES, 1.5))
                .hasMessageContaining("label is 1.5");
        assertThatThrownBy(() -> new Target(Target.binary().task(), 3))
                .hasMessageContaining("binary target has 2 classes");
        assertThatThrownBy(
                        () ->
                                OnlineLinear.Config.defaults(Target.regression(), 1)
                                        .withLearningRate(0))
                .hasMessageContaining("learning rate must be a positive number, got 0.0");
    }

    @Test
    void everyBaselineRestoresMidStreamAndContinuesIdentically() throws Exception {
        for (Target target : List.of(Target.regression(), Target.binary(), Target.multiclass(4))) {
            List<Restorable> kinds =
                    List.of(
                            new Restorable(new NoChange(target), NoChange::read),
                            new Restorable(new MajorityClass(target), MajorityClass::read),
                            new Restorable(
                                    new OnlineLinear(
                                            OnlineLinear.Config.defaults(target, 3).withL2(1e-3)),
                                    OnlineLinear::read),
                            new Restorable(
                                    new OnlineLinear(
                                            OnlineLinear.Config.defaults(target, 3)
                                                    .withOptimizer(OnlineLinear.Optimizer.SGD)),
                                    OnlineLinear::read));
            for (Restorable kind : kinds) {
                OnlineBaseline original = kind.baseline();
                feed(original, new SplittableRandom(1), 200);
                OnlineBaseline restored = StateBytes.copy(original::write, kind.reader());
                assertThat(restored.target()).isEqualTo(target);

                List<Prediction> expected = feed(original, new SplittableRandom(2), 300);
                List<Prediction> actual = feed(restored, new SplittableRandom(2), 300);
                String what = original.getClass().getSimpleName() + " " + target;
                for (int i = 0; i < expected.size(); i++) {
                    assertThat(actual.get(i).value()).as(what).isEqualTo(expected.get(i).value());
                    assertThat(actual.get(i).probabilities())
                            .as(what)
                            .containsExactly(expected.get(i).probabilities());
                }
                assertThat(StateBytes.of(restored::write))
                        .as(what)
                        .isEqualTo(StateBytes.of(original::write));
            }
        }
    }

    private record Restorable(OnlineBaseline baseline, StateBytes.Reader<OnlineBaseline> reader) {}

    private static List<Prediction> feed(OnlineBaseline b, SplittableRandom random, int n) {
        List<Prediction> predictions = new ArrayList<>();
        Target target = b.target();
        for (int i = 0; i < n; i++) {
            float[] x = {
                (float) (100 * random.nextGaussian()),
                (float) random.nextGaussian(),
                i % 7 == 0 ? Float.NaN : (float) random.nextGaussian()
            };
            double label =
                    target.isClassification()
                            ? (x[0] > 0 ? 1 : 0) + (target.classes() > 2 && x[1] > 0 ? 2 : 0)
                            : 0.3 * x[0] - x[1] + 0.1 * random.nextGaussian();
            predictions.add(b.predict(x));
            b.learn(x, label);
        }
        return predictions;
    }
}
