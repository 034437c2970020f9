package io.kanstream.stream;

import io.kanstream.eval.DriftDetector;
import io.kanstream.eval.Prediction;
import io.kanstream.eval.PrequentialWindow;
import io.kanstream.eval.Target;
import io.kanstream.kan.Task;

/**
 * Everything about one key that changes with every event, apart from the model itself: the pending
 * mini-batch, counters, the prequential window behind the next metric record, and the times that
 * drive its timers. Serialized by {@link KeyProgressSerializer}; public for tools that read a
 * savepoint's state (through {@link OnlineKanOperator#progressStateDescriptor}), which see it
 * through the accessors below.
 */
public final class KeyProgress {
    // pending mini-batch: (batchCount, inputs) row-major and its labels
    float[] batchRows;
    double[] batchLabels;
    int batchCount;

    /** Processing time at which a partial batch is learned from; 0 when none is pending. */
    long batchDeadline;

    long events;
    long labeled;
    long awaitingDropped;

    /** Entries in the awaiting map (events waiting for labels and labels for events). */
    int awaitingCount;

    long lastSeen;

    /** The prequential figures since the last metric record, by replay's rules. */
    PrequentialWindow window = new PrequentialWindow();

    /** Watches this key's prequential errors; null when drift detection is off. */
    DriftDetector detector;

    long drifts;

    /**
     * The key's decayed losses of its own model and of the model its subtask's keys share, which
     * weigh the two in its score ({@code SharedModelMixture}); null until the key is scored beside
     * a shared model. Kept with the progress, which every event reads and writes anyway.
     */
    double[] sharedLosses;

    /** Events scored for this key. */
    public long events() {
        return events;
    }

    /** Labeled examples evaluated for this key (learned from, or pending in the batch). */
    public long labeled() {
        return labeled;
    }

    /** Labeled examples waiting in the pending mini-batch. */
    public int pendingExamples() {
        return batchCount;
    }

    /** Events and labels waiting for each other. */
    public int awaiting() {
        return awaitingCount;
    }

    /** Events whose label never came or found no room to wait. */
    public long awaitingDropped() {
        return awaitingDropped;
    }

    /** Processing time (epoch ms) the key was last seen at. */
    public long lastSeen() {
        return lastSeen;
    }

    /** Upward changes of the error its drift detector reported. */
    public long drifts() {
        return drifts;
    }

    /**
     * The decayed losses of the key's own model and of the shared model (a copy), or null when the
     * key was never scored beside a shared model.
     */
    public double[] sharedLosses() {
        return sharedLosses == null ? null : sharedLosses.clone();
    }

    KeyProgress(int inputs, int batchSize) {
        batchRows = new float[inputs * batchSize];
        batchLabels = new double[batchSize];
    }

    KeyProgress(float[] batchRows, double[] batchLabels) {
        this.batchRows = batchRows;
        this.batchLabels = batchLabels;
    }

    /** Adds a labeled example; returns true when the batch is full. */
    boolean add(float[] features, double label) {
        int inputs = features.length;
        if (batchCount == batchLabels.length) {
            throw new IllegalStateException("batch already full");
        }
        System.arraycopy(features, 0, batchRows, batchCount * inputs, inputs);
        batchLabels[batchCount] = label;
        batchCount++;
        return batchCount == batchLabels.length;
    }

    float[] takeRows(int inputs) {
        float[] rows = new float[batchCount * inputs];
        System.arraycopy(batchRows, 0, rows, 0, rows.length);
        return rows;
    }

    double[] takeLabels() {
        double[] labels = new double[batchCount];
        System.arraycopy(batchLabels, 0, labels, 0, batchCount);
        return labels;
    }

    void clearBatch() {
        batchCount = 0;
        batchDeadline = 0;
    }

    /**
     * Prequential bookkeeping of one labeled example, scored before the model learned from it.
     *
     * @param outputs the network's outputs for the example when it was scored
     */
    void evaluate(Task task, float[] outputs, double label) {
        window.add(target(task, outputs.length), prediction(task, outputs), label);
    }

    /** The prequential target of a model with this task and number of outputs. */
    public static Target target(Task task, int outputs) {
        return switch (task) {
            case REGRESSION -> Target.regression();
            case BINARY -> Target.binary();
            case MULTICLASS -> Target.multiclass(outputs);
        };
    }

    /** The prediction the outputs make, as the replay evaluator reads it from a score. */
    static Prediction prediction(Task task, float[] outputs) {
        int out = outputs.length;
        return switch (task) {
            case REGRESSION -> Prediction.of(outputs[0]);
            case BINARY -> {
                double p1 = task.score(outputs, 0, out);
                yield Prediction.ofProbabilities(new double[] {1 - p1, p1});
            }
            case MULTICLASS -> Prediction.ofProbabilities(Task.softmax(outputs, 0, out));
        };
    }

    /** The prequential figures since the last metric record (a copy). */
    public PrequentialWindow window() {
        return window.copy();
    }

    KeyProgress copy() {
        KeyProgress c = new KeyProgress(batchRows.clone(), batchLabels.clone());
        c.batchCount = batchCount;
        c.batchDeadline = batchDeadline;
        c.events = events;
        c.labeled = labeled;
        c.awaitingDropped = awaitingDropped;
        c.awaitingCount = awaitingCount;
        c.lastSeen = lastSeen;
        c.window = window.copy();
        c.drifts = drifts;
        c.detector = KeyProgressSerializer.copyDetector(detector);
        c.sharedLosses = sharedLosses == null ? null : sharedLosses.clone();
        return c;
    }
}
