package io.kanstream.kan;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class InputNormalizerTest {

    /**
     * A row standardized "as observed" is, to the bit, what observing it and then standardizing it
     * gives — before and after the moments saturate at their horizon, and after a warm-up that
     * stops them — and it leaves the moments as they were.
     */
    @ParameterizedTest
    @CsvSource({"1000000, 0", "40, 0", "1000000, 150", "40, 150"})
    void aRowStandardizedAsObservedIsWhatObservingItThenStandardizingGives(
            long horizon, long warmup) {
        InputNormalizer previewed = new InputNormalizer(true, 3, horizon, warmup);
        InputNormalizer observed = new InputNormalizer(true, 3, horizon, warmup);
        SplittableRandom random = new SplittableRandom(5);
        for (int e = 0; e < 400; e++) {
            // a drifting, skewed feature, a constant one, and one that wakes up late
            float[] row = {
                (float) (e / 40.0 + random.nextGaussian() * (1 + e % 7)),
                3f,
                e < 200 ? 0f : (float) random.nextGaussian() * 1e3f
            };
            long countBefore = previewed.features().count();
            double[] meanBefore = previewed.features().means();
            float[] asObserved = previewed.applyAsObserved(row);
            assertThat(previewed.features().count()).isEqualTo(countBefore);
            assertThat(previewed.features().means()).containsExactly(meanBefore);

            observed.observe(row, 1);
            assertThat(asObserved).as("row %d", e).containsExactly(observed.apply(row, 1));
            previewed.observe(row, 1);
        }
        assertThat(previewed.features().count())
                .isEqualTo(Math.min(horizon, warmup > 0 ? warmup : 400));
    }

    @ParameterizedTest
    @CsvSource({"0", "10"})
    void disabledItIsTheIdentity(long warmup) {
        InputNormalizer off = new InputNormalizer(false, 2, 1000, warmup);
        float[] row = {7f, -2f};
        assertThat(off.applyAsObserved(row)).isSameAs(row);
    }
}
