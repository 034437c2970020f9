package io.kanstream.stream;

import java.util.Objects;

/**
 * How one key's model is doing, on the metrics topic: one record every {@code metricsEvery} labeled
 * examples of the key, one when the key's drift detector signals a change, and at the end of input
 * (a bounded job, a replay, a drained stop) one for the examples since the key's last record.
 *
 * <p>Counters are cumulative since the key's state was created (they survive restores), so a
 * consumer gets rates by differencing two records and loses nothing when one record is lost. The
 * figures ({@code loss}, {@code metricValue}, {@code baselineValue}) are prequential — each example
 * scored before the model learned from it — over the labeled examples since the key's previous
 * record ({@code metricSamples} of them), computed by {@link io.kanstream.eval.PrequentialWindow}
 * with the rules replay uses, so a replay of the same stream reports the same figures.
 *
 * <p>Doubles are NaN when undefined; on the wire NaN is written as JSON {@code null}.
 *
 * @param key the model key
 * @param ts the event time of the last event counted, epoch milliseconds (in the record at the end
 *     of input: the latest label time the key's subtask took in)
 * @param events events scored
 * @param labeled events whose label arrived (inline or later) and entered a mini-batch
 * @param steps gradient steps taken
 * @param skippedSteps steps skipped because the loss or a gradient was not finite
 * @param loss the model's mean prequential loss over the window: log-loss for classification,
 *     squared error for regression
 * @param metricName what {@code metricValue} measures: {@value #ACCURACY} (classification) or
 *     {@value #RMSE} (regression)
 * @param metricValue the model's prequential figure over the window
 * @param baselineValue the same figure for the no-change baseline (predict the key's previous
 *     label, 0 before the first), which streams with temporal dependence make hard to beat
 * @param metricSamples labeled examples behind {@code loss}, {@code metricValue} and {@code
 *     baselineValue}
 * @param gridEpoch grid refits made so far (the generation of the model's knot grids)
 * @param declinedRefits refits the refit policy declined so far, because even a partial move of the
 *     knots would have changed the model's outputs more than its tolerance
 * @param awaitingDropped events that waited for a label, and labels that waited for an event,
 *     dropped so far: their time to live ran out or the key's waiting buffer was full
 * @param drift whether the drift detector signalled a change in this key's stream with this record
 * @param sharedWeight the weight of the model the key's subtask shares in the key's scores now (its
 *     own model's is 1 minus it), from the two models' decayed losses on the key's labels; NaN when
 *     the key is scored with its own model alone
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
        long declinedRefits,
        long awaitingDropped,
        boolean drift,
        double sharedWeight) {

    /** Fraction of correct predictions (binary and multiclass). */
    public static final String ACCURACY = "accuracy";

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
