package io.kanstream.kan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ActivationStatisticsTest {
    private static final KnotGrid GRID = KnotGrid.uniform(1, 5, 3, -1, 1);

    private static ActivationStatistics recorded(
            KnotGrid grid, double horizon, int n, java.util.function.DoubleSupplier source) {
        ActivationStatistics stats = new ActivationStatistics(new KnotGrid[] {grid}, horizon);
        for (int s = 0; s < n; s++) {
            stats.record(0, new float[] {(float) source.getAsDouble()}, grid);
            stats.advance();
        }
        return stats;
    }

    @Test
    void quantilesOfTheSummaryFollowTheInputsDistribution() {
        SplittableRandom random = new SplittableRandom(1);
        ActivationStatistics stats = recorded(GRID, 1e9, 20_000, () -> random.nextDouble(-1, 1));
        ActivationStatistics.Distribution d = stats.distribution(0, 0, GRID);
        for (double q : new double[] {0.1, 0.25, 0.5, 0.75, 0.9}) {
            assertThat(d.quantile(q)).as("quantile %s", q).isCloseTo(2 * q - 1, within(0.03));
        }
        assertThat(stats.outsideFraction(new KnotGrid[] {GRID})).isZero();
        assertThat(stats.knotMisfit(new KnotGrid[] {GRID})).isLessThan(0.03);
    }

    @Test
    void massBeyondTheGridIsPlacedAtItsMean() {
        ActivationStatistics stats = recorded(GRID, 1e9, 1_000, () -> 7.5);
        ActivationStatistics.Distribution d = stats.distribution(0, 0, GRID);
        assertThat(d.moment() / d.total()).isCloseTo(7.5, within(1e-3));
        assertThat(stats.outsideFraction(new KnotGrid[] {GRID})).isEqualTo(1.0);
        assertThat(stats.knotMisfit(new KnotGrid[] {GRID})).isGreaterThan(0.9);
    }

    @Test
    void oldInputsFadeWithTheHorizon() {
        SplittableRandom random = new SplittableRandom(2);
        ActivationStatistics stats = new ActivationStatistics(new KnotGrid[] {GRID}, 500);
        for (int s = 0; s < 5_000; s++) {
            // first at -0.5, then at +0.5: the summary forgets the first part
            double x = (s < 2_500 ? -0.5 : 0.5) + random.nextDouble(-0.05, 0.05);
            stats.record(0, new float[] {(float) x}, GRID);
            stats.advance();
        }
        ActivationStatistics.Distribution d = stats.distribution(0, 0, GRID);
        // within a span the summary knows no more than the span: [0.2, 0.6) holds the recent data
        assertThat(d.quantile(0.5)).isBetween(0.2, 0.6);
        assertThat(d.massBelow(0) / d.total()).isLessThan(0.01);
    }

    @Test
    void rebinningOntoNewKnotsKeepsMassAndMean() {
        SplittableRandom random = new SplittableRandom(3);
        ActivationStatistics stats =
                recorded(GRID, 1e9, 10_000, () -> random.nextGaussian() * 0.8 + 0.3);
        ActivationStatistics.Distribution before = stats.distribution(0, 0, GRID);
        KnotGrid finer = KnotGrid.uniform(1, 10, 3, -2, 2.5);
        stats.rebin(0, GRID, finer);
        ActivationStatistics.Distribution after = stats.distribution(0, 0, finer);
        assertThat(after.total()).isCloseTo(before.total(), within(before.total() * 1e-4));
        assertThat(after.moment() / after.total())
                .isCloseTo(before.moment() / before.total(), within(0.01));
        assertThat(after.quantile(0.5)).isCloseTo(before.quantile(0.5), within(0.02));
    }

    @Test
    void summariesAreAFewBytesPerFeatureWhateverTheStreamLength() {
        ActivationStatistics stats = recorded(GRID, 2000, 100_000, () -> 0.1);
        assertThat(stats.mass()[0]).hasSize(5 + 2 * 3 + 2);
        assertThat(stats.tails()[0]).hasSize(2);
        assertThat(stats.seenSinceRefit()).isEqualTo(100_000);
    }
}
