package io.kanstream.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RegressionMetricsTest {
    private static final double EXACT = 1e-12;

    // Four examples worked by hand: errors 1, -1, 0, -1.
    private static final double[] LABELS = {1, 3, 2, 6};
    private static final double[] PREDICTIONS = {2, 2, 2, 5};

    private static RegressionMetrics handExample(MetricsConfig config) {
        RegressionMetrics m = new RegressionMetrics(config);
        for (int i = 0; i < LABELS.length; i++) {
            m.add(LABELS[i], PREDICTIONS[i]);
        }
        return m;
    }

    @Test
    void cumulativeFiguresMatchTheHandComputedExample() {
        RegressionFigures f = handExample(new MetricsConfig(10, 0.9)).snapshot().cumulative();

        assertThat(f.weight()).isEqualTo(4);
        assertThat(f.rmse()).isCloseTo(Math.sqrt(3 / 4.0), within(EXACT));
        assertThat(f.mae()).isCloseTo(3 / 4.0, within(EXACT));
        // running mean predicts 1, 2, 2 for labels 3, 2, 6: squared errors 4 + 0 + 16;
        // the model's on those examples: 1 + 0 + 1
        assertThat(f.r2()).isCloseTo(1 - 2 / 20.0, within(EXACT));
        // no change predicts 1, 3, 2: squared errors 4 + 1 + 16
        assertThat(f.skillVsNoChange()).isCloseTo(1 - 2 / 21.0, within(EXACT));
        assertThat(f.noChangeRmse()).isCloseTo(Math.sqrt(21 / 3.0), within(EXACT));
    }

    @Test
    void windowFiguresCompareWithTheMeanOfTheWindowBeforeEachExample() {
        RegressionFigures f = handExample(new MetricsConfig(2, 0.9)).snapshot().window();

        // window holds labels 2 and 6 with errors 0 and -1
        assertThat(f.weight()).isEqualTo(2);
        assertThat(f.rmse()).isCloseTo(Math.sqrt(0.5), within(EXACT));
        assertThat(f.mae()).isCloseTo(0.5, within(EXACT));
        // window means before them: (1 + 3) / 2 = 2 and (3 + 2) / 2 = 2.5
        assertThat(f.r2()).isCloseTo(1 - 1 / (0 + 3.5 * 3.5), within(EXACT));
        assertThat(f.skillVsNoChange()).isCloseTo(1 - 1 / 17.0, within(EXACT));
    }

    @Test
    void fadedFiguresWeighEachOlderExampleByAlpha() {
        RegressionFigures f = handExample(new MetricsConfig(10, 0.5)).snapshot().fading();

        // weights 1/8, 1/4, 1/2, 1
        assertThat(f.weight()).isCloseTo(1.875, within(EXACT));
        assertThat(f.rmse()).isCloseTo(Math.sqrt((0.125 + 0.25 + 0 + 1) / 1.875), within(EXACT));
        // faded means before labels 3, 2, 6: 1, (0.5 + 3) / 1.5, (0.25 + 1.5 + 2) / 1.75
        double m2 = 3.5 / 1.5;
        double m3 = 3.75 / 1.75;
        double reference = 0.25 * 4 + 0.5 * (m2 - 2) * (m2 - 2) + (m3 - 6) * (m3 - 6);
        assertThat(f.r2()).isCloseTo(1 - (0.25 + 0 + 1) / reference, within(EXACT));
        assertThat(f.skillVsNoChange())
                .isCloseTo(1 - 1.25 / (0.25 * 4 + 0.5 * 1 + 16), within(EXACT));
    }

    @Test
    void undefinedFiguresAreNaNNotExceptions() {
        RegressionMetrics m = new RegressionMetrics(MetricsConfig.DEFAULTS);
        assertThat(m.snapshot().cumulative().rmse()).isNaN();

        m.add(5, 4);
        RegressionFigures one = m.snapshot().cumulative();
        assertThat(one.rmse()).isEqualTo(1.0);
        assertThat(one.r2()).as("no reference before the first label").isNaN();

        m.add(5, 5);
        m.add(5, 6);
        RegressionFigures constant = m.snapshot().cumulative();
        assertThat(constant.r2()).as("constant labels: the mean never errs").isNaN();
        assertThat(constant.skillVsNoChange()).isNaN();
    }

    @Test
    void afterALevelShiftTheWindowRecoversWhileCumulativeRemembers() {
        RegressionMetrics m = new RegressionMetrics(new MetricsConfig(200, 0.99));
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 2000; i++) {
            double level = i < 1000 ? 0 : 10;
            double y = level + random.nextGaussian();
            // a model that knew the level all along, with noise of its own
            m.add(y, level + 0.5 * random.nextGaussian());
        }

        MetricsSnapshot<RegressionFigures> s = m.snapshot();
        // the window mean reference is at the new level, so R^2 is that of noise vs noise
        assertThat(s.window().r2()).isBetween(-0.5, 0.5);
        // the cumulative mean is far below the new level: R^2 flatters the model
        assertThat(s.cumulative().r2()).isGreaterThan(0.8);
        assertThat(s.window().rmse()).isCloseTo(Math.sqrt(1.25), within(0.15));
        assertThat(s.fading().rmse()).isCloseTo(Math.sqrt(1.25), within(0.2));
    }

    @Test
    void windowFiguresEqualAFreshComputationAfterManyPasses() {
        int w = 50;
        RegressionMetrics m = new RegressionMetrics(new MetricsConfig(w, 0.9));
        SplittableRandom random = new SplittableRandom(8);
        int n = 10_013;
        double[] y = new double[n];
        double[] p = new double[n];
        for (int i = 0; i < n; i++) {
            y[i] = 1e4 + 100 * random.nextGaussian();
            p[i] = y[i] + random.nextGaussian();
            m.add(y[i], p[i]);
        }

        double sse = 0;
        double sae = 0;
        for (int i = n - w; i < n; i++) {
            sse += (p[i] - y[i]) * (p[i] - y[i]);
            sae += Math.abs(p[i] - y[i]);
        }
        RegressionFigures f = m.snapshot().window();
        assertThat(f.rmse()).isCloseTo(Math.sqrt(sse / w), within(1e-9));
        assertThat(f.mae()).isCloseTo(sae / w, within(1e-9));
    }

    @Test
    void rejectsANonFiniteLabel() {
        RegressionMetrics m = new RegressionMetrics(MetricsConfig.DEFAULTS);

        assertThatThrownBy(() -> m.add(Double.NaN, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("label is NaN");
    }

    @Test
    void restoresMidStreamAndContinuesIdentically() throws Exception {
        RegressionMetrics original = new RegressionMetrics(new MetricsConfig(64, 0.995));
        feed(original, new SplittableRandom(1), 150);

        RegressionMetrics restored = StateBytes.copy(original::write, RegressionMetrics::read);
        assertThat(restored.snapshot()).isEqualTo(original.snapshot());

        feed(original, new SplittableRandom(2), 333);
        feed(restored, new SplittableRandom(2), 333);
        assertThat(restored.snapshot()).isEqualTo(original.snapshot());
        assertThat(StateBytes.of(restored::write)).isEqualTo(StateBytes.of(original::write));
    }

    private static void feed(RegressionMetrics m, SplittableRandom random, int n) {
        for (int i = 0; i < n; i++) {
            double y = random.nextGaussian();
            m.add(y, y + 0.3 * random.nextGaussian());
        }
    }
}
