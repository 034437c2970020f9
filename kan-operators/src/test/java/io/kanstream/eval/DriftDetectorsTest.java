package io.kanstream.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.DoublePredicate;
import org.junit.jupiter.api.Test;

class DriftDetectorsTest {
    private static final int CHANGE_AT = 3_000;

    /** 0/1 errors at rate 0.2, then 0.6 from {@link #CHANGE_AT} on. */
    private static double mistake(SplittableRandom random, int i) {
        return random.nextDouble() < (i < CHANGE_AT ? 0.2 : 0.6) ? 1 : 0;
    }

    /** Indexes at which the detector signalled a change. */
    private static List<Integer> detections(DoublePredicate detector, double[] stream) {
        List<Integer> at = new ArrayList<>();
        for (int i = 0; i < stream.length; i++) {
            if (detector.test(stream[i])) {
                at.add(i);
            }
        }
        return at;
    }

    private static double[] errorRateJump(long seed, int n) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] stream = new double[n];
        for (int i = 0; i < n; i++) {
            stream[i] = mistake(random, i);
        }
        return stream;
    }

    private static double[] stationary(long seed, int n, double rate) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] stream = new double[n];
        for (int i = 0; i < n; i++) {
            stream[i] = random.nextDouble() < rate ? 1 : 0;
        }
        return stream;
    }

    @Test
    void pageHinkleyDetectsAnAbruptRiseOfTheErrorRateWithinAFewHundredExamples() {
        for (long seed = 1; seed <= 5; seed++) {
            PageHinkley test = new PageHinkley();
            List<Integer> at = detections(test::add, errorRateJump(seed, CHANGE_AT + 2_000));

            assertThat(at).as("seed " + seed).isNotEmpty();
            assertThat(at).as("no alarm before the change").allMatch(i -> i >= CHANGE_AT);
            assertThat(at.get(0) - CHANGE_AT).as("delay, seed " + seed).isLessThan(300);
            assertThat(test.detections()).isEqualTo(at.size());
        }
    }

    @Test
    void pageHinkleyRaisesFewFalseAlarmsOnAStationaryStream() {
        long alarms = 0;
        for (long seed = 1; seed <= 5; seed++) {
            PageHinkley test = new PageHinkley();
            detections(test::add, stationary(seed, 20_000, 0.2));
            alarms += test.detections();
        }

        // Measured over 1,000,000 values at rate 0.2 with these (MOA's) defaults: 46 alarms, one
        // per ~22,000 values, a property of lambda 50 against Bernoulli noise.
        assertThat(alarms).as("alarms in 5 x 20,000 stationary values").isLessThanOrEqualTo(10);
    }

    @Test
    void pageHinkleyIgnoresAFallingErrorRate() {
        PageHinkley test = new PageHinkley();
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 10_000; i++) {
            test.add(random.nextDouble() < (i < 3_000 ? 0.6 : 0.2) ? 1 : 0);
        }

        assertThat(test.detections()).isZero();
    }

    @Test
    void adwinDetectsAnAbruptRiseOfTheErrorRateAndShrinksToTheNewConcept() {
        for (long seed = 1; seed <= 5; seed++) {
            Adwin adwin = new Adwin();
            double[] stream = errorRateJump(seed, CHANGE_AT + 2_000);
            List<Integer> at = detections(adwin::add, stream);

            assertThat(at).as("seed " + seed).isNotEmpty();
            assertThat(at).as("no alarm before the change").allMatch(i -> i >= CHANGE_AT);
            assertThat(at.get(0) - CHANGE_AT).as("delay, seed " + seed).isLessThan(200);
            assertThat(adwin.lastChangeWasIncrease()).isTrue();
            // the window now holds (nearly) only the new concept
            assertThat(adwin.width()).isLessThan(2_000 + 200);
            assertThat(adwin.mean()).isCloseTo(0.6, within(0.05));
        }
    }

    @Test
    void adwinDetectsAShiftOfAGaussianMeanAndReportsItsDirection() {
        Adwin adwin = new Adwin();
        SplittableRandom random = new SplittableRandom(12);
        int n = 4_000;
        double[] values = new double[n];
        int first = -1;
        for (int i = 0; i < n; i++) {
            values[i] = (i < 2_000 ? 5 : 4) + random.nextGaussian();
            if (adwin.add(values[i]) && first < 0) {
                first = i;
            }
        }

        assertThat(first).isBetween(2_000, 2_000 + 150);
        assertThat(adwin.lastChangeWasIncrease()).isFalse();
        assertThat(adwin.mean()).isCloseTo(4, within(0.1));
        // the window is exactly the last width() values
        double sum = 0;
        double squares = 0;
        for (int i = n - (int) adwin.width(); i < n; i++) {
            sum += values[i];
            squares += values[i] * values[i];
        }
        double mean = sum / adwin.width();
        assertThat(adwin.mean()).isCloseTo(mean, within(1e-12));
        assertThat(adwin.variance()).isCloseTo(squares / adwin.width() - mean * mean, within(1e-9));
    }

    @Test
    void adwinRaisesFewFalseAlarmsOnAStationaryStream() {
        long alarms = 0;
        for (long seed = 1; seed <= 5; seed++) {
            Adwin adwin = new Adwin();
            detections(adwin::add, stationary(seed, 20_000, 0.2));
            alarms += adwin.detections();
            assertThat(adwin.seen()).isEqualTo(20_000);
        }

        assertThat(alarms).as("alarms in 5 x 20,000 stationary values").isLessThanOrEqualTo(1);
    }

    @Test
    void adwinWithoutChangeKeepsEveryValueInLogarithmicMemory() {
        Adwin adwin = new Adwin(new Adwin.Config(0.002, 5, 1, 5));
        SplittableRandom random = new SplittableRandom(4);
        int n = 100_000;
        double sum = 0;
        double squares = 0;
        for (int i = 0; i < n; i++) {
            double value = random.nextGaussian();
            adwin.add(value);
            sum += value;
            squares += value * value;
        }

        assertThat(adwin.detections()).isZero();
        assertThat(adwin.width()).isEqualTo(n);
        assertThat(adwin.mean()).isCloseTo(sum / n, within(1e-12));
        double mean = sum / n;
        assertThat(adwin.variance()).isCloseTo(squares / n - mean * mean, within(1e-9));
        // at most M + 1 buckets for each of log2(n / M) sizes
        assertThat(adwin.buckets()).isLessThanOrEqualTo(6 * 15);
    }

    @Test
    void detectorsIgnoreNonFiniteValues() {
        Adwin adwin = new Adwin();
        PageHinkley test = new PageHinkley();

        assertThat(adwin.add(Double.NaN)).isFalse();
        assertThat(test.add(Double.POSITIVE_INFINITY)).isFalse();
        assertThat(adwin.width()).isZero();
        assertThat(test.count()).isZero();
    }

    @Test
    void rejectsSettingsOutsideTheirRangeWithAMessage() {
        assertThatThrownBy(() -> new Adwin.Config(0, 5, 32, 5))
                .hasMessageContaining("ADWIN delta must be in (0, 1), got 0.0");
        assertThatThrownBy(() -> new Adwin.Config(0.002, 1, 32, 5))
                .hasMessageContaining("at least 2 buckets per row, got 1");
        assertThatThrownBy(() -> new PageHinkley.Config(0.005, -1, 0.9999, 30))
                .hasMessageContaining("lambda must be a positive number, got -1.0");
        assertThatThrownBy(() -> new PageHinkley.Config(0.005, 50, 1.2, 30))
                .hasMessageContaining("alpha must be in (0, 1], got 1.2");
    }

    @Test
    void adwinRestoresMidStreamAndContinuesIdentically() throws Exception {
        double[] stream = errorRateJump(7, CHANGE_AT + 3_000);
        Adwin original = new Adwin(new Adwin.Config(0.01, 4, 7, 5));
        int cut = CHANGE_AT - 1_001; // mid-stream, between two clock ticks
        for (int i = 0; i < cut; i++) {
            original.add(stream[i]);
        }

        Adwin restored = StateBytes.copy(original::write, Adwin::read);
        for (int i = cut; i < stream.length; i++) {
            assertThat(restored.add(stream[i])).as("value " + i).isEqualTo(original.add(stream[i]));
            assertThat(restored.mean()).isEqualTo(original.mean());
        }
        assertThat(original.detections()).isPositive();
        assertThat(restored.detections()).isEqualTo(original.detections());
        assertThat(restored.width()).isEqualTo(original.width());
        assertThat(StateBytes.of(restored::write)).isEqualTo(StateBytes.of(original::write));
    }

    @Test
    void pageHinkleyRestoresMidStreamAndContinuesIdentically() throws Exception {
        double[] stream = errorRateJump(8, CHANGE_AT + 3_000);
        PageHinkley original = new PageHinkley(new PageHinkley.Config(0.005, 20, 0.999, 30));
        int cut = CHANGE_AT - 500;
        for (int i = 0; i < cut; i++) {
            original.add(stream[i]);
        }

        PageHinkley restored = StateBytes.copy(original::write, PageHinkley::read);
        for (int i = cut; i < stream.length; i++) {
            assertThat(restored.add(stream[i])).as("value " + i).isEqualTo(original.add(stream[i]));
        }
        assertThat(original.detections()).isPositive();
        assertThat(restored.detections()).isEqualTo(original.detections());
        assertThat(restored.statistic()).isEqualTo(original.statistic());
        assertThat(StateBytes.of(restored::write)).isEqualTo(StateBytes.of(original::write));
    }

    @Test
    void refusesStateOfAnUnknownVersion() {
        byte[] adwin = StateBytes.of(new Adwin()::write);
        adwin[0] = 2;
        byte[] pageHinkley = StateBytes.of(new PageHinkley()::write);
        pageHinkley[0] = 2;

        assertThatThrownBy(() -> StateBytes.read(adwin, Adwin::read))
                .hasMessageContaining("Unrecognized version or corrupt state: ADWIN format 2");
        assertThatThrownBy(() -> StateBytes.read(pageHinkley, PageHinkley::read))
                .hasMessageContaining("Unrecognized version or corrupt state");
    }
}
