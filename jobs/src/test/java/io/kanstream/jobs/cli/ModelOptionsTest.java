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
}
