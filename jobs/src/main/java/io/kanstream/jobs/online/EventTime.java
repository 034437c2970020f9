package io.kanstream.jobs.online;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/**
 * An event time as written by people and exports: epoch milliseconds, or an ISO-8601 date-time.
 * What an event's {@code ts} holds, a table's time column and the time flags ({@code --from},
 * {@code --to}, {@code --start-from}) all read through here, so each accepts the same forms:
 *
 * <ul>
 *   <li>a number: epoch milliseconds (or any count of one unit, in a table: only the order and the
 *       differences matter there), read exactly as a whole number; a fraction is dropped, so rows
 *       within one unit keep their file order;
 *   <li>an instant or an offset date-time: {@code 2024-11-28T08:00:00Z}, {@code
 *       2024-11-28T09:00:00.250+01:00};
 *   <li>a local date-time, {@code T} or a space between date and time: {@code 2024-11-28T08:00:00},
 *       {@code 2024-11-28 08:00:00}, read as UTC;
 *   <li>a date alone, {@code 2024-11-28}: its midnight, UTC.
 * </ul>
 *
 * A number is never read as a float: epoch milliseconds need 41 bits, and a float's 24 would merge
 * times two minutes apart.
 */
public final class EventTime {

    /** What the forms look like, for error messages. */
    public static final String FORMS =
            "epoch milliseconds or an ISO-8601 date-time such as 2024-11-28T08:00:00Z"
                    + " (no zone: UTC)";

    private EventTime() {}

    /**
     * Epoch milliseconds of {@code text}.
     *
     * @throws IllegalArgumentException naming the text and the forms accepted
     */
    public static long parse(String text) {
        String t = text == null ? "" : text.trim();
        if (t.isEmpty()) {
            throw new IllegalArgumentException("empty, expected " + FORMS);
        }
        char first = t.charAt(0);
        if (Character.isDigit(first) && !looksLikeDate(t) || first == '-' || first == '+') {
            try {
                return new BigDecimal(t).setScale(0, RoundingMode.FLOOR).longValueExact();
            } catch (NumberFormatException | ArithmeticException e) {
                throw new IllegalArgumentException("'" + text + "' is not " + FORMS);
            }
        }
        String iso = t.toUpperCase(Locale.ROOT).replace(' ', 'T');
        try {
            if (iso.indexOf('T') < 0) {
                return LocalDate.parse(iso).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
            }
            if (iso.endsWith("Z")) {
                return Instant.parse(iso).toEpochMilli();
            }
            if (hasOffset(iso)) {
                return OffsetDateTime.parse(iso).toInstant().toEpochMilli();
            }
            return LocalDateTime.parse(iso).toInstant(ZoneOffset.UTC).toEpochMilli();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("'" + text + "' is not " + FORMS);
        }
    }

    /** {@code 2024-11-28...}: four digits and a dash. */
    private static boolean looksLikeDate(String t) {
        return t.length() >= 5
                && Character.isDigit(t.charAt(1))
                && Character.isDigit(t.charAt(2))
                && Character.isDigit(t.charAt(3))
                && t.charAt(4) == '-';
    }

    /** A zone offset after the time: {@code +01:00}, {@code -0500}. */
    private static boolean hasOffset(String iso) {
        int time = iso.indexOf('T');
        return iso.indexOf('+', time) > 0 || iso.indexOf('-', time) > 0;
    }
}
