package io.kanstream.jobs.produce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kanstream.jobs.online.OnlineJobConfig;
import io.kanstream.kan.Task;
import io.kanstream.stream.Event;
import org.junit.jupiter.api.Test;

class SyntheticDriftTest {
    @Test
    void theSameSeedAndIndexGiveTheSameEventWhateverTheOrder() {
        SyntheticDrift a = new SyntheticDrift(3, 4, 100, Task.REGRESSION, 0.1, 5);
        SyntheticDrift b = new SyntheticDrift(3, 4, 100, Task.REGRESSION, 0.1, 5);
        Event late = b.event(77, 1);
        for (int i = 0; i < 77; i++) {
            a.event(i, 1);
        }
        assertThat(a.event(77, 1)).isEqualTo(late);
        assertThat(late.id()).isEqualTo("s5-77");
        assertThat(late.key()).isEqualTo("key-2");
        assertThat(new SyntheticDrift(3, 4, 100, Task.REGRESSION, 0.1, 6).event(77, 1))
                .isNotEqualTo(late);
    }

    @Test
    void theConceptChangesAbruptlyAtTheDriftPoint() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(1);
        for (int key = 0; key < 4; key++) {
            double change = 0;
            for (int i = 0; i < 1000; i++) {
                float[] x = new float[4];
                for (int j = 0; j < 4; j++) {
                    x[j] = (float) (2 * random.nextDouble() - 1);
                }
                change +=
                        Math.abs(
                                SyntheticDrift.target(x, key, true)
                                        - SyntheticDrift.target(x, key, false));
            }
            assertThat(change / 1000).as("mean change of key %d", key).isGreaterThan(0.5);
        }
        SyntheticDrift noiseless = new SyntheticDrift(1, 4, 10, Task.REGRESSION, 0, 1);
        Event e9 = noiseless.event(9, 0);
        Event e10 = noiseless.event(10, 0);
        assertThat(e9.label()).isEqualTo(SyntheticDrift.target(e9.features(), 0, false));
        assertThat(e10.label()).isEqualTo(SyntheticDrift.target(e10.features(), 0, true));
    }

    @Test
    void binaryLabelsAreZeroOrOneAndBothOccur() {
        SyntheticDrift binary = new SyntheticDrift(2, 4, 500, Task.BINARY, 0.05, 3);
        long ones = 0;
        for (int i = 0; i < 1000; i++) {
            double label = binary.event(i, 0).label();
            assertThat(label).isIn(0.0, 1.0);
            ones += (long) label;
        }
        assertThat(ones).isBetween(200L, 800L);
    }

    @Test
    void theDefaultFeatureCountFitsTheJobsDefaultModel() {
        assertThat(new SyntheticDrift(1, 4, 0, Task.REGRESSION, 0, 0).event(0, 0).featureCount())
                .isEqualTo(OnlineJobConfig.DEFAULT_LAYERS.get(0));
        assertThatThrownBy(() -> new SyntheticDrift(1, 4, 0, Task.MULTICLASS, 0, 0))
                .hasMessageContaining("regression or binary");
    }
}
