package io.kanstream.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ReliabilityTest {
    private static final double EXACT = 1e-12;

    @ParameterizedTest
    @ValueSource(ints = {1_000, 10_000, 100_000})
    void aPerfectlyCalibratedSourceHasAnEceThatShrinksLikeOneOverRootN(int n) {
        Reliability r = new Reliability(2);
        SplittableRandom random = new SplittableRandom(n);
        for (int i = 0; i < n; i++) {
            double p = random.nextDouble();
            r.add(p, random.nextDouble() < p);
        }

        // Sampling noise alone leaves each bin off by about sqrt(p(1-p)/n_b); its expected
        // weighted mean is about 0.31 sqrt(bins/n), so sqrt(bins/n) leaves room without hiding
        // bias.
        double tolerance = Math.sqrt(Reliability.DEFAULT_BINS / (double) n);
        assertThat(r.ece()).isBetween(0.0, tolerance);
        assertThat(r.counted()).isEqualTo(n);
    }

    @Test
    void anOverconfidentSourceHasAnEceOfItsGap() {
        Reliability r = new Reliability(2);
        SplittableRandom random = new SplittableRandom(7);
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            r.add(0.99, random.nextDouble() < 0.7);
        }

        // one bin, observed 0.7 ± 0.0032 (one standard error) against 0.99
        assertThat(r.ece()).isCloseTo(0.29, within(0.015));
        assertThat(r.mce()).isCloseTo(r.ece(), within(EXACT));
        Reliability.Bin last = r.snapshot().bins().get(Reliability.DEFAULT_BINS - 1);
        assertThat(last.count()).isEqualTo(n);
        assertThat(last.meanPredicted()).isCloseTo(0.99, within(EXACT));
        assertThat(last.observed()).isCloseTo(0.7, within(0.015));
    }

    @Test
    void forecastsOfExactlyZeroAndOneFallInTheEndBins() {
        Reliability r = new Reliability(2, 10);
        r.add(0.0, false);
        r.add(1.0, true);
        r.add(0.1, true); // a lower edge belongs to the bin above it

        Reliability.Diagram d = r.snapshot();
        assertThat(d.bins()).hasSize(10);
        assertThat(d.bins().get(0).count()).isEqualTo(1);
        assertThat(d.bins().get(1).count()).isEqualTo(1);
        assertThat(d.bins().get(9).count()).isEqualTo(1);
        assertThat(d.bins().get(0).lower()).isZero();
        assertThat(d.bins().get(9).upper()).isEqualTo(1.0);
        // 0 and 1 are exactly right; 0.1 for an event that happened is 0.9 off, in 1 of 3
        assertThat(d.ece()).isCloseTo(0.9 / 3, within(EXACT));
        assertThat(d.mce()).isCloseTo(0.9, within(EXACT));
        assertThat(d.bins().get(5).meanPredicted()).isNaN();
        assertThat(d.bins().get(5).observed()).isNaN();
    }

    @Test
    void nanAndOutOfRangeForecastsAreCountedAndLeftOut() {
        Reliability r = new Reliability(2);
        r.add(Double.NaN, true);
        r.add(1.5, true);
        r.add(-0.01, false);
        r.add(Double.POSITIVE_INFINITY, false);
        r.add(1, Prediction.ofProbabilities(new double[] {Double.NaN, Double.NaN}));

        assertThat(r.excluded()).isEqualTo(5);
        assertThat(r.counted()).isZero();
        assertThat(r.ece()).isNaN();
        assertThat(r.mce()).isNaN();

        r.add(0.8, true);
        assertThat(r.ece()).isCloseTo(0.2, within(EXACT));
        assertThat(r.snapshot().excluded()).isEqualTo(5);
    }

    @Test
    void binaryPredictionsAreBinnedByTheProbabilityOfClassOne() {
        Reliability r = new Reliability(2, 10);
        // predicts class 0 at 0.8: a forecast of 0.2 that class 1 comes, and it did not
        r.add(0, Prediction.ofProbabilities(new double[] {0.8, 0.2}));

        Reliability.Diagram d = r.snapshot();
        assertThat(d.topLabel()).isFalse();
        assertThat(d.bins().get(2).count()).isEqualTo(1);
        assertThat(d.bins().get(2).observed()).isZero();
        assertThat(d.ece()).isCloseTo(0.2, within(EXACT));
    }

    @Test
    void multiclassPredictionsAreBinnedByTopLabelConfidenceAgainstBeingRight() {
        Reliability r = new Reliability(3, 10);
        Prediction confident = Prediction.ofProbabilities(new double[] {0.1, 0.65, 0.25});
        r.add(1, confident); // right
        r.add(2, confident); // wrong
        r.add(1, confident); // right
        r.add(1, confident); // right

        Reliability.Diagram d = r.snapshot();
        assertThat(d.topLabel()).isTrue();
        Reliability.Bin bin = d.bins().get(6);
        assertThat(bin.count()).isEqualTo(4);
        assertThat(bin.meanPredicted()).isCloseTo(0.65, within(EXACT));
        assertThat(bin.observed()).isCloseTo(0.75, within(EXACT));
        assertThat(d.ece()).isCloseTo(0.1, within(EXACT));
    }

    @Test
    void restoresAndContinuesIdentically() throws Exception {
        Reliability original = new Reliability(2, 15);
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 500; i++) {
            original.add(random.nextDouble(), random.nextBoolean());
        }
        original.add(Double.NaN, true);

        Reliability restored = StateBytes.copy(original::write, Reliability::read);
        for (Reliability r : new Reliability[] {original, restored}) {
            r.add(0.42, true);
        }

        assertThat(restored.snapshot()).isEqualTo(original.snapshot());
        assertThat(StateBytes.of(restored::write)).isEqualTo(StateBytes.of(original::write));
    }

    @Test
    void rejectsWrongInputsWithAMessage() {
        assertThatThrownBy(() -> new Reliability(2, 0)).hasMessageContaining("bins is 0");
        assertThatThrownBy(() -> new Reliability(1)).hasMessageContaining("at least 2 classes");
        assertThatThrownBy(
                        () ->
                                new Reliability(3)
                                        .add(0, Prediction.ofProbabilities(new double[] {1, 0})))
                .hasMessageContaining("expected 3 class probabilities, got 2");
        byte[] state = StateBytes.of(new Reliability(2)::write);
        state[0] = 9;
        assertThatThrownBy(() -> StateBytes.read(state, Reliability::read))
                .hasMessageContaining("Unrecognized version");
    }
}
