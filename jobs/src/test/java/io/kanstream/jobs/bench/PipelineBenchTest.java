package io.kanstream.jobs.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;

class PipelineBenchTest {
    private static final ToDoubleFunction<Double> SELF = Double::doubleValue;

    @Test
    void aRowsMedianOfAnEvenNumberOfRoundsIsTheMeanOfTheMiddleTwoNotTheLower() {
        assertThat(PipelineBench.median(List.of(30.0, 10.0, 20.0), SELF)).isEqualTo(20.0);
        assertThat(PipelineBench.median(List.of(40.0, 10.0, 30.0, 20.0), SELF)).isEqualTo(25.0);
        assertThat(PipelineBench.median(List.of(7.0), SELF)).isEqualTo(7.0);
        assertThat(PipelineBench.median(List.<Double>of(), SELF)).isNaN();
    }
}
