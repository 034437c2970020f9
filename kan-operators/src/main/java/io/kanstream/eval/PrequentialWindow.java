package io.kanstream.eval;

/**
 * The prequential figures of one model over a run of examples, with the no-change reference beside
 * them: what the live job's per-key metric records carry, computed by the same rules as {@link
 * ClassificationMetrics} and the {@link NoChange} baseline that replay reports.
 *
 * <p>Each example is scored before the model learns it. Its loss is the log-loss of the true
 * class's probability (clipped as {@link ClassificationMetrics#logLoss} does) or the squared error;
 * a hit is a correct class, or for regression the squared error again. The no-change reference
 * predicts the previous label of this stream, 0 before the first ({@link NoChange#reference}), so
 * it covers every example the model does.
 *
 * <p>{@link #clear} starts a new window and keeps the previous label: windows are consecutive
 * slices of one stream. Not thread-safe.
 */
public final class PrequentialWindow {
    private long count;
    private double loss;
    private double hits;
    private double referenceHits;
    private double previousLabel = Double.NaN;

    public PrequentialWindow() {}

    /** A window restored from its fields, in the order of the accessors. */
    public PrequentialWindow(
            long count, double loss, double hits, double referenceHits, double previousLabel) {
        this.count = count;
        this.loss = loss;
        this.hits = hits;
        this.referenceHits = referenceHits;
        this.previousLabel = previousLabel;
    }

    /**
     * @param target what is predicted
     * @param prediction the model's prediction, made before it learned {@code label}
     * @param label the true class index or value
     */
    public void add(Target target, Prediction prediction, double label) {
        double reference = NoChange.reference(previousLabel);
        if (target.isClassification()) {
            loss += ClassificationMetrics.logLoss(prediction.probability((int) label));
            if (prediction.predictedClass() == (int) label) {
                hits++;
            }
            if (reference == label) {
                referenceHits++;
            }
        } else {
            double error = prediction.value() - label;
            loss += error * error;
            hits += error * error;
            double referenceError = reference - label;
            referenceHits += referenceError * referenceError;
        }
        count++;
        previousLabel = label;
    }

    /** An independent copy. */
    public PrequentialWindow copy() {
        return new PrequentialWindow(count, loss, hits, referenceHits, previousLabel);
    }

    /** Starts the next window; the no-change reference keeps its previous label. */
    public void clear() {
        count = 0;
        loss = 0;
        hits = 0;
        referenceHits = 0;
    }

    /** Examples in the window. */
    public long count() {
        return count;
    }

    /** Sum of the examples' losses. */
    public double loss() {
        return loss;
    }

    /** Correct predictions, or for regression the sum of squared errors. */
    public double hits() {
        return hits;
    }

    /** The same as {@link #hits} for the no-change reference. */
    public double referenceHits() {
        return referenceHits;
    }

    /** The stream's last label, NaN before the first. */
    public double previousLabel() {
        return previousLabel;
    }

    /** Mean loss: log-loss for classification, mean squared error for regression; NaN if empty. */
    public double meanLoss() {
        return count == 0 ? Double.NaN : loss / count;
    }

    /** Accuracy, or for regression RMSE; NaN if empty. */
    public double value(Target target) {
        return figure(target, hits);
    }

    /** The no-change reference's accuracy, or RMSE; NaN if empty. */
    public double referenceValue(Target target) {
        return figure(target, referenceHits);
    }

    private double figure(Target target, double sum) {
        if (count == 0) {
            return Double.NaN;
        }
        return target.isClassification() ? sum / count : Math.sqrt(sum / count);
    }
}
