package io.kanstream.jobs.online;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EventTimeTest {
    private static final long EIGHT = 1_732_780_800_000L; // 2024-11-28T08:00:00Z

    @Test
    void numbersAreWholeUnitsReadExactly() {
        assertThat(EventTime.parse("1732780800001")).isEqualTo(EIGHT + 1);
        assertThat(EventTime.parse(" 9007199254740993 ")).isEqualTo(9_007_199_254_740_993L);
        assertThat(EventTime.parse("1732780800.75")).isEqualTo(1_732_780_800L);
        assertThat(EventTime.parse("0")).isZero();
        assertThat(EventTime.parse("-1.5")).isEqualTo(-2);
    }

    @Test
    void isoFormsAreUtcUnlessTheySayOtherwise() {
        assertThat(EventTime.parse("2024-11-28T08:00:00Z")).isEqualTo(EIGHT);
        assertThat(EventTime.parse("2024-11-28t08:00:00z")).isEqualTo(EIGHT);
        assertThat(EventTime.parse("2024-11-28T03:00:00-05:00")).isEqualTo(EIGHT);
        assertThat(EventTime.parse("2024-11-28T08:00:00.123")).isEqualTo(EIGHT + 123);
        assertThat(EventTime.parse("2024-11-28 08:00")).isEqualTo(EIGHT);
        assertThat(EventTime.parse("2024-11-28")).isEqualTo(EIGHT - 8 * 3_600_000L);
    }

    @Test
    void anythingElseIsRefusedWithTheFormsItTakes() {
        for (String bad : new String[] {"", "yesterday", "28/11/2024", "2024-13-01", "1e400x"}) {
            assertThatThrownBy(() -> EventTime.parse(bad))
                    .as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("epoch milliseconds or an ISO-8601 date-time");
        }
    }
}
