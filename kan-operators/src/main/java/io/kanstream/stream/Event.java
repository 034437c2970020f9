package io.kanstream.stream;

import java.util.Arrays;
import java.util.Objects;

/**
 * One input to a model: what arrives on the events topic, after validation by {@link EventCodec}.
 *
 * <p>The features are copied in and out, so an event cannot change after it is built; use {@link
 * #feature(int)} or {@link #copyFeaturesInto} on hot paths to avoid the copy of {@link
 * #features()}.
 *
 * @param id unique per event; the late label is joined on it, and replays are deduplicated by it
 * @param key the model key ({@value #DEFAULT_KEY} when the record names none)
 * @param ts event time, epoch milliseconds
 * @param features the model's inputs, finite, exactly the model's input width
 * @param label the label when it travels with the event, {@code null} when it comes later (or
 *     never): a number for regression, 0/1 for binary, a class index for multiclass
 */
public record Event(String id, String key, long ts, float[] features, Double label) {

    /** The model key of events that name none. */
    public static final String DEFAULT_KEY = "default";

    public Event {
        Objects.requireNonNull(id, "event id must not be null");
        Objects.requireNonNull(key, "event key must not be null (use Event.DEFAULT_KEY)");
        Objects.requireNonNull(features, "event features must not be null");
        features = features.clone();
    }

    /** An unlabeled event. */
    public Event(String id, String key, long ts, float[] features) {
        this(id, key, ts, features, null);
    }

    /** A copy of the features. */
    @Override
    public float[] features() {
        return features.clone();
    }

    public int featureCount() {
        return features.length;
    }

    public float feature(int index) {
        return features[index];
    }

    /** Copies the features into {@code target} starting at {@code offset}, e.g. a batch row. */
    public void copyFeaturesInto(float[] target, int offset) {
        System.arraycopy(features, 0, target, offset, features.length);
    }

    public boolean isLabeled() {
        return label != null;
    }

    /** This event with a label that arrived later. */
    public Event withLabel(double newLabel) {
        return new Event(id, key, ts, features, newLabel);
    }

    // Records compare arrays by reference; events are values, so compare the contents.
    @Override
    public boolean equals(Object o) {
        return o instanceof Event e
                && id.equals(e.id)
                && key.equals(e.key)
                && ts == e.ts
                && Arrays.equals(features, e.features)
                && Objects.equals(label, e.label);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, key, ts, Arrays.hashCode(features), label);
    }

    @Override
    public String toString() {
        return "Event[id="
                + id
                + ", key="
                + key
                + ", ts="
                + ts
                + ", features="
                + Arrays.toString(features)
                + ", label="
                + label
                + "]";
    }
}
