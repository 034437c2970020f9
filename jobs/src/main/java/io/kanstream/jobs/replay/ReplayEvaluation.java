package io.kanstream.jobs.replay;

import io.kanstream.eval.Reliability;
import java.util.List;
import java.util.Map;

/**
 * Everything a replay measured, ready for the report.
 *
 * @param overall per model ({@code kan}, {@code no_change}, {@code majority}, {@code linear},
 *     {@code frozen}): cumulative figures
 * @param perKey per key: the KAN's and the no-change baseline's cumulative figures
 * @param timeline the windowed headline metric of every model at regular points
 * @param drifts row indices where a key's drift detector fired
 * @param refits row indices where a key's grid epoch grew
 * @param reliability per model ({@link ReplayEvaluator#DIAGRAMS}): the cumulative reliability
 *     diagram over all keys; empty for regression
 */
public record ReplayEvaluation(
        String headline,
        long events,
        long labeled,
        Map<String, Map<String, Double>> overall,
        Map<String, Map<String, Map<String, Double>>> perKey,
        List<TimelinePoint> timeline,
        List<Integer> drifts,
        List<Integer> refits,
        long steps,
        Map<String, Reliability.Diagram> reliability) {

    /** One point of the learning curves. */
    public record TimelinePoint(
            int row, long ts, Map<String, Double> window, Map<String, Double> cumulative) {}
}
