package io.kanstream.stream;

import java.util.Objects;

/**
 * A label that arrives after its event, on the labels topic; joined to the event by {@code id}
 * within the key {@code key}.
 *
 * @param id the id of the event this labels
 * @param key the model key of that event ({@value Event#DEFAULT_KEY} when the record names none)
 * @param label finite: a number for regression, 0/1 for binary, a class index for multiclass
 * @param ts when the label became known, epoch milliseconds
 */
public record Label(String id, String key, double label, long ts) {
    public Label {
        Objects.requireNonNull(id, "label id must not be null");
        Objects.requireNonNull(key, "label key must not be null (use Event.DEFAULT_KEY)");
    }
}
