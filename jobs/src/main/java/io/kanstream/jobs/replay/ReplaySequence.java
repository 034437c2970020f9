package io.kanstream.jobs.replay;

import io.kanstream.stream.Event;
import io.kanstream.stream.Label;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.types.Either;

/**
 * The order in which a replay shows the model events and labels: row i as an event, and its label
 * either inline ({@code labelDelay} 0) or as a separate label right after row i + labelDelay — how
 * a live stream with late labels looks, fixed in advance so a replay is deterministic.
 *
 * <p>With {@code lagLabel}, each event gets one more feature: the last label of its key that had
 * arrived before it (0 before any), the signal the no-change baseline lives on.
 */
public final class ReplaySequence {
    private ReplaySequence() {}

    /** The id of row i's event. */
    public static String id(int index) {
        return "r-" + index;
    }

    /** Parses an event id back to its row index. */
    public static int index(String id) {
        return Integer.parseInt(id.substring(2));
    }

    /**
     * @return events and labels in replay order; {@code lagValues[i]} receives row i's lag feature
     *     when lagLabel is set
     */
    public static List<Either<Event, Label>> build(
            List<HistoryRow> rows, int labelDelay, boolean lagLabel, float[] lagValues) {
        if (labelDelay < 0) {
            throw new IllegalArgumentException("label delay must be >= 0, got " + labelDelay);
        }
        List<Either<Event, Label>> sequence =
                new ArrayList<>(rows.size() * (labelDelay > 0 ? 2 : 1));
        Map<String, Double> known = new HashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            HistoryRow row = rows.get(i);
            float[] features = row.features();
            if (lagLabel) {
                float lag = known.getOrDefault(row.key(), 0.0).floatValue();
                features = java.util.Arrays.copyOf(features, features.length + 1);
                features[features.length - 1] = lag;
                if (lagValues != null) {
                    lagValues[i] = lag;
                }
            }
            Double inline = labelDelay == 0 && row.labeled() ? row.label() : null;
            sequence.add(Either.Left(new Event(id(i), row.key(), row.ts(), features, inline)));
            if (labelDelay == 0 && row.labeled()) {
                known.put(row.key(), row.label());
            }
            int due = i - labelDelay;
            if (labelDelay > 0 && due >= 0) {
                emitLabel(rows.get(due), sequence, known);
            }
        }
        if (labelDelay > 0) {
            for (int due = Math.max(0, rows.size() - labelDelay); due < rows.size(); due++) {
                emitLabel(rows.get(due), sequence, known);
            }
        }
        return sequence;
    }

    private static void emitLabel(
            HistoryRow row, List<Either<Event, Label>> sequence, Map<String, Double> known) {
        if (row.labeled()) {
            sequence.add(
                    Either.Right(new Label(id(row.index()), row.key(), row.label(), row.ts())));
            known.put(row.key(), row.label());
        }
    }
}
