package io.kanstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.kanstream.kan.KanConfig;
import io.kanstream.kan.Task;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ModelOptionsTest {

    private static KanConfig parsed(String... args) {
        ModelOptions options = new ModelOptions();
        new CommandLine(options).parseArgs(args);
        return options.applyTo(KanConfig.builder(List.of(4, 8, 1)).task(Task.BINARY)).build();
    }

    @Test
    void aBinaryModelsCalibrationLearnsABiasOnlyWhenAsked() {
        assertThat(parsed().calibrationBias()).isFalse();
        assertThat(parsed("--calibration-bias").calibrationBias()).isTrue();
        assertThat(ModelOptions.NAMES).contains("--calibration-bias");
    }

    @Test
    void aStreamsYoungModelStartsFasterUnlessToldOtherwise() {
        assertThat(parsed().initialRate(1))
                .isCloseTo(3, org.assertj.core.api.Assertions.within(0.01));
        assertThat(parsed().initialRate(300)).isEqualTo(1);
        KanConfig constant = parsed("--initial-rate-factor", "1");
        assertThat(constant.initialRate(1)).isEqualTo(1);
        KanConfig longer = parsed("--initial-rate-steps", "1000");
        assertThat(longer.initialRateFactor()).isEqualTo(3);
        assertThat(longer.initialRate(500)).isEqualTo(2);
        assertThat(ModelOptions.NAMES).contains("--initial-rate-factor", "--initial-rate-steps");
    }
}
