package io.kanstream.stream;

import java.util.Arrays;
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
 * @param probabilities for multiclass, every class's probability in class order (summing to 1);
 *     null for regression and binary, whose {@code score} says it all
 */
public record Score(
        String id,
        String key,
        long ts,
        double score,
        double prediction,
        long modelVersion,
        int gridEpoch,
        double latencyMs,
        double[] probabilities) {
    public Score {
        Objects.requireNonNull(id, "score id must not be null");
        Objects.requireNonNull(key, "score key must not be null");
    }

    // the probabilities compared by value, as every other field is

    @Override
    public boolean equals(Object other) {
        return other instanceof Score s
                && id.equals(s.id)
                && key.equals(s.key)
                && ts == s.ts
                && Double.compare(score, s.score) == 0
                && Double.compare(prediction, s.prediction) == 0
                && modelVersion == s.modelVersion
                && gridEpoch == s.gridEpoch
                && Double.compare(latencyMs, s.latencyMs) == 0
                && Arrays.equals(probabilities, s.probabilities);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, key, ts, score, prediction, modelVersion, gridEpoch, latencyMs) * 31
                + Arrays.hashCode(probabilities);
    }

    @Override
    public String toString() {
        return "Score[id="
                + id
                + ", key="
                + key
                + ", ts="
                + ts
                + ", score="
                + score
                + ", prediction="
                + prediction
                + ", modelVersion="
                + modelVersion
                + ", gridEpoch="
                + gridEpoch
                + ", latencyMs="
                + latencyMs
                + (probabilities == null ? "" : ", probabilities=" + Arrays.toString(probabilities))
                + "]";
    }
}
