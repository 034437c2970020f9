package io.kanstream.jobs.cli;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;

/** Reads durations such as {@code 500ms}, {@code 2s}, {@code 1.5m}, {@code 10min}, {@code 24h}. */
final class DurationConverter implements ITypeConverter<Duration> {
    private static final Pattern DURATION =
            Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|min|h|d)");

    @Override
    public Duration convert(String value) {
        return parse(value);
    }

    static Duration parse(String value) {
        Matcher m = DURATION.matcher(value.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    "'"
                            + value
                            + "' is not a duration: expected a number and a unit (ms, s, m, h, d),"
                            + " e.g. 500ms, 2s, 1m");
        }
        double amount = Double.parseDouble(m.group(1));
        double millis =
                switch (m.group(2)) {
                    case "ms" -> amount;
                    case "s" -> amount * 1_000;
                    case "m", "min" -> amount * 60_000;
                    case "h" -> amount * 3_600_000;
                    default -> amount * 86_400_000;
                };
        return Duration.ofMillis(Math.round(millis));
    }

    /** The shortest exact form in the units {@link #parse} reads: {@code 2s}, {@code 10m}. */
    static String format(Duration d) {
        long ms = d.toMillis();
        long[] unitMillis = {86_400_000, 3_600_000, 60_000, 1_000};
        String[] units = {"d", "h", "m", "s"};
        for (int i = 0; i < units.length; i++) {
            if (ms != 0 && ms % unitMillis[i] == 0) {
                return ms / unitMillis[i] + units[i];
            }
        }
        return ms + "ms";
    }
}
