package io.kanstream.eval;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Locale;

/** A change detector on a stream of errors (0/1 mistakes, or scaled absolute errors). */
public interface DriftDetector {
    /** Adds one error; true when a change is detected. */
    boolean add(double value);

    /** Whether the last detected change made the errors larger (worth adapting to). */
    boolean lastChangeWasIncrease();

    long detections();

    void write(DataOutput out) throws IOException;

    /** The detectors to choose from. */
    enum Kind {
        ADWIN,
        PAGE_HINKLEY;

        public DriftDetector create() {
            return this == ADWIN ? new Adwin() : new PageHinkley();
        }

        public DriftDetector read(DataInput in) throws IOException {
            return this == ADWIN ? Adwin.read(in) : PageHinkley.read(in);
        }

        /** Parses {@code adwin|page-hinkley|none}; none gives null. */
        public static Kind parse(String text) {
            String value = text.trim().toLowerCase(Locale.ROOT);
            return switch (value) {
                case "adwin" -> ADWIN;
                case "page-hinkley", "pagehinkley", "ph" -> PAGE_HINKLEY;
                case "none", "off" -> null;
                default ->
                        throw new IllegalArgumentException(
                                "drift detector '"
                                        + text
                                        + "' is not one of adwin, page-hinkley, none");
            };
        }
    }
}
