package io.kanstream.stream;

import java.util.Objects;

/**
 * How one key's model is doing, emitted every N events or T seconds on the metrics topic.
 *
 * <p>Counters are cumulative since the key's state was created (they survive restores), so a
 * consumer gets rates by differencing two records and loses nothing when one record is lost. The
 * figures ({@code loss}, {@code metricValue}, {@code baselineValue}) cover the evaluation window
 * the operator is configured with (prequential: each example is scored before it is learned from),
 * and {@code metricSamples} says how many labeled examples that was.
 *
 * <p>Doubles are NaN when undefined (no step yet, AUC with one class seen); on the wire NaN is
 * written as JSON {@code null}.
 *
 * @param key the model key
 * @param ts the event time of the last event counted, epoch milliseconds
 * @param events events scored
 * @param labeled events whose label arrived (inline or later) and entered a mini-batch
 * @param steps gradient steps taken
 * @param skippedSteps steps skipped because the loss or a gradient was not finite
 * @param loss mean training loss over the window's steps
 * @param metricName what {@code metricValue} measures, e.g. {@value #ACCURACY}, {@value #AUC},
 *     {@value #RMSE}
 * @param metricValue the prequential figure of the model over the window
 * @param baselineValue the same figure for the no-change baseline (predict the previous label),
 *     which streams with temporal dependence make hard to beat
 * @param metricSamples labeled examples behind {@code metricValue} and {@code baselineValue}
 * @param gridEpoch grid refits so far (the model's current grid generation)
 * @param refits grid refits triggered so far, scheduled or because inputs left the grid
 * @param evictions unlabeled events dropped before their label came (TTL expired or the
 *     awaiting-label buffer was full)
 * @param drift whether the drift detector currently signals a change in this key's stream
 */
public record Metric(
        String key,
        long ts,
        long events,
        long labeled,
        long steps,
        long skippedSteps,
        double loss,
        String metricName,
        double metricValue,
        double baselineValue,
        long metricSamples,
        int gridEpoch,
        long refits,
        long evictions,
        boolean drift) {

    /** Fraction of correct predictions (binary and multiclass). */
    public static final String ACCURACY = "accuracy";

    /** Area under the ROC curve (binary). */
    public static final String AUC = "auc";

    /** Root mean squared error (regression). */
    public static final String RMSE = "rmse";

    public Metric {
        Objects.requireNonNull(key, "metric key must not be null");
        if (metricName == null || metricName.isBlank()) {
            throw new IllegalArgumentException("metricName must name the figure, e.g. accuracy");
        }
    }

    /**
     * Temporal kappa κ_t = (p − p_nc) / (1 − p_nc): how much of the room left by the no-change
     * baseline the model takes. Defined for {@value #ACCURACY} only; NaN otherwise and when the
     * baseline is perfect.
     */
    public double kappaTemporal() {
        if (!ACCURACY.equals(metricName) || baselineValue >= 1) {
            return Double.NaN;
        }
        return (metricValue - baselineValue) / (1 - baselineValue);
    }
}
