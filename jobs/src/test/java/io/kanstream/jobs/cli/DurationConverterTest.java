package io.kanstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationConverterTest {
    @Test
    void readsTheUnitsTheCommandLineDocuments() {
        assertThat(DurationConverter.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(DurationConverter.parse("2s")).isEqualTo(Duration.ofSeconds(2));
        assertThat(DurationConverter.parse("1.5m")).isEqualTo(Duration.ofSeconds(90));
        assertThat(DurationConverter.parse("10min")).isEqualTo(Duration.ofMinutes(10));
        assertThat(DurationConverter.parse("24h")).isEqualTo(Duration.ofHours(24));
        assertThat(DurationConverter.parse("0s")).isEqualTo(Duration.ZERO);
        assertThatThrownBy(() -> DurationConverter.parse("2"))
                .hasMessageContaining("expected a number and a unit");
    }

    @Test
    void writesTheShortestFormThatReadsBack() {
        for (String text : new String[] {"500ms", "2s", "90s", "10m", "1d", "1500ms"}) {
            assertThat(DurationConverter.format(DurationConverter.parse(text))).isEqualTo(text);
        }
    }
}
