package io.kanstream.jobs.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kanstream.stream.Event;
import io.kanstream.stream.EventCodec;
import io.kanstream.stream.EventCodecConfig;
import io.kanstream.stream.Parsed;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FuzzRecordsTest {
    private final EventCodec codec =
            new EventCodec(EventCodecConfig.builder().maxRecordBytes(65_536).build());

    @Test
    void everyKindButBitFlipsAndHugeNumbersIsRejectedByTheJobsOwnParserWithAReason() {
        FuzzRecords fuzz = new FuzzRecords(7, 4, 200_000);
        Map<FuzzRecords.Kind, int[]> outcome = new EnumMap<>(FuzzRecords.Kind.class);
        for (long i = 0; i < 800; i++) {
            FuzzRecords.Fuzz record = fuzz.record(i);
            Parsed<Event> parsed = codec.parseEvent(record.value(), 4, 1L);
            int[] counts = outcome.computeIfAbsent(record.kind(), k -> new int[2]);
            if (parsed instanceof Parsed.Accepted<Event> ok) {
                counts[0]++;
                assertThat(ok.value().id()).doesNotStartWith("s");
            } else {
                counts[1]++;
                assertThat(((Parsed.Rejected<Event>) parsed).reason()).isNotBlank();
            }
        }
        assertThat(outcome).hasSize(FuzzRecords.Kind.values().length);
        for (FuzzRecords.Kind kind : FuzzRecords.Kind.values()) {
            int[] counts = outcome.get(kind);
            assertThat(counts[0] + counts[1]).as(kind.label()).isEqualTo(100);
            if (kind == FuzzRecords.Kind.BIT_FLIPPED || kind == FuzzRecords.Kind.HUGE_NUMBERS) {
                assertThat(counts[1]).as(kind.label()).isPositive();
            } else {
                assertThat(counts[0]).as(kind.label() + " accepted").isZero();
            }
        }
    }

    @Test
    void isDeterministicForASeedAndKeepsOversizedRecordsUnderTheBrokersLimit() {
        FuzzRecords a = new FuzzRecords(3, 4, 200_000);
        FuzzRecords b = new FuzzRecords(3, 4, 200_000);
        for (long i = 0; i < 64; i++) {
            assertThat(a.record(i).value()).isEqualTo(b.record(i).value());
            if (a.record(i).kind() == FuzzRecords.Kind.OVERSIZED) {
                assertThat(a.record(i).value().length).isBetween(65_537, 1_000_000);
            }
        }
        assertThatThrownBy(() -> new FuzzRecords(3, 4, 2_000_000))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("the broker takes 1 MB");
    }
}
