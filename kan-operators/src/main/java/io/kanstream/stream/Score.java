package io.kanstream.stream;

import java.util.Objects;

/**
 * What the operator emits for every event, before it learns from the event's label: the model's
 * answer, and which model gave it.
 *
 * <p>Doubles may be NaN (a model that has diverged, or a latency that was not measured); on the
 * wire they are written as JSON {@code null} and read back as NaN.
 *
 * @param id the event's id
 * @param key the event's model key
 * @param ts the event's time, epoch milliseconds
 * @param score one number per event: the prediction for regression, P(class 1) for binary, the
 *     probability of the predicted class for multiclass
 * @param prediction the predicted value, 0/1, or class index
 * @param modelVersion the number of gradient steps the scoring model had taken; two scores with the
 *     same key and version came from identical weights
 * @param gridEpoch how many times the model's knot grids had been refit
 * @param latencyMs time from the event entering the operator to its score, milliseconds (the wait
 *     in a bundle included)
 */
public record Score(
        String id,
        String key,
        long ts,
        double score,
        double prediction,
        long modelVersion,
        int gridEpoch,
        double latencyMs) {
    public Score {
        Objects.requireNonNull(id, "score id must not be null");
        Objects.requireNonNull(key, "score key must not be null");
    }
}
