package io.kanstream.jobs.online;

import java.io.Serializable;
import java.time.Instant;
import java.util.Locale;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;

/**
 * Where the sources start reading partitions that have no restored offset: on a first start, and
 * for partitions added later. A job restored from a checkpoint or savepoint continues from the
 * offsets in it.
 *
 * @param position which end, or a point in time
 * @param timestampMs for {@link Position#TIMESTAMP}: the first offset whose record timestamp is at
 *     or after this, epoch milliseconds
 */
public record StartFrom(Position position, long timestampMs) implements Serializable {

    /** Which offset a partition starts at. */
    public enum Position {
        EARLIEST,
        LATEST,
        TIMESTAMP
    }

    public static final StartFrom EARLIEST = new StartFrom(Position.EARLIEST, -1);
    public static final StartFrom LATEST = new StartFrom(Position.LATEST, -1);

    public StartFrom {
        if (position == null) {
            throw new IllegalArgumentException("start position must be set");
        }
        if (position == Position.TIMESTAMP && timestampMs < 0) {
            throw new IllegalArgumentException(
                    "start timestamp must be epoch milliseconds >= 0, got " + timestampMs);
        }
    }

    /**
     * Parses {@code earliest}, {@code latest}, or a time in {@link EventTime}'s forms: epoch
     * milliseconds ({@code 1732780800000}) or an ISO-8601 date-time ({@code 2024-11-28T08:00:00Z}).
     */
    public static StartFrom parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        switch (t) {
            case "earliest":
                return EARLIEST;
            case "latest":
                return LATEST;
            default:
                break;
        }
        long timestampMs;
        try {
            timestampMs = EventTime.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "start-from '" + text + "' must be earliest, latest, " + EventTime.FORMS);
        }
        return new StartFrom(Position.TIMESTAMP, timestampMs);
    }

    OffsetsInitializer offsets() {
        return switch (position) {
            case EARLIEST -> OffsetsInitializer.earliest();
            case LATEST -> OffsetsInitializer.latest();
            case TIMESTAMP -> OffsetsInitializer.timestamp(timestampMs);
        };
    }

    @Override
    public String toString() {
        return position == Position.TIMESTAMP
                ? Instant.ofEpochMilli(timestampMs).toString()
                : position.name().toLowerCase(Locale.ROOT);
    }
}
