package io.kanstream.jobs.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.kanstream.jobs.online.OnlineJobConfig;
import io.kanstream.stream.OnlineKanConfig;
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

    /**
     * A steady row's job: its keys all live, and the models it names: the defaults, each key's own
     * model alone ({@code :own}), or the shared model beside its slow companion ({@code
     * :companion}).
     */
    @Test
    void aSteadyRowsJobRunsTheModelsItsRowNames() {
        OnlineJobConfig base = OnlineJobConfig.builder(OnlineJobConfig.defaultLearner()).build();
        OnlineKanConfig defaults = PipelineBench.allKeysLive(base, 500, 0, false, false).learner();
        OnlineKanConfig own = PipelineBench.allKeysLive(base, 500, 0, true, false).learner();
        OnlineKanConfig companion = PipelineBench.allKeysLive(base, 500, 0, false, true).learner();
        assertThat(defaults.maxLiveKeys()).isEqualTo(500);
        assertThat(defaults.population()).isEqualTo(base.learner().population());
        assertThat(defaults.sharedCompanion()).isEqualTo(base.learner().sharedCompanion());
        assertThat(own.population()).isEqualTo(OnlineKanConfig.Population.OFF);
        assertThat(companion.population()).isEqualTo(base.learner().population());
        assertThat(companion.sharedCompanion())
                .isEqualTo(OnlineKanConfig.SLOW_SHARED_COMPANION)
                .isNotEqualTo(defaults.sharedCompanion());
    }
}
