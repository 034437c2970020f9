package io.kanstream.jobs.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class PairedTest {
    private static final List<Double> REFERENCE = List.of(1.0, 2.0, 3.0, 4.0, 5.0);

    @Test
    void aConsistentDifferenceIsMoreThanNoiseInTheDirectionTheFigureCounts() {
        // differences 0.1, 0.2, 0.1, 0.3, 0.1: mean 0.16, sd sqrt(0.008), t = 4 on 4 degrees
        Paired paired = Paired.of(REFERENCE, List.of(1.1, 2.2, 3.1, 4.3, 5.1), true);

        assertThat(paired.difference()).isCloseTo(0.16, within(1e-12));
        assertThat(paired.sd()).isCloseTo(Math.sqrt(0.008), within(1e-12));
        assertThat(paired.pValue()).isCloseTo(0.01613, within(1e-5)); // t tables, 4 df, t = 4
        assertThat(paired.ahead()).isEqualTo(5);
        assertThat(paired.verdict(true)).isEqualTo("better");
        assertThat(Paired.of(REFERENCE, List.of(1.1, 2.2, 3.1, 4.3, 5.1), false).verdict(false))
                .isEqualTo("worse");
    }

    @Test
    void differencesOfEitherSignAreATieNotAWin() {
        Paired paired = Paired.of(REFERENCE, List.of(1.3, 1.9, 3.2, 3.8, 5.1), true);

        assertThat(paired.ahead()).isEqualTo(3);
        assertThat(paired.behind()).isEqualTo(2);
        assertThat(paired.pValue()).isGreaterThan(Paired.SIGNIFICANCE);
        assertThat(paired.verdict(true)).isEqualTo("tie");
    }

    @Test
    void equalOnEverySeedIsTheSameAndOneSeedCannotBeTested() {
        assertThat(Paired.of(REFERENCE, REFERENCE, true).verdict(true)).isEqualTo("same");
        assertThat(Paired.of(List.of(1.0), List.of(2.0), true).verdict(true)).isEqualTo("one seed");
        assertThatThrownBy(() -> Paired.of(REFERENCE, List.of(1.0), true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("one value per seed");
    }
}
