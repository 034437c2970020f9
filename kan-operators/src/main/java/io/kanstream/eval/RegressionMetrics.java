package io.kanstream.eval;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Prequential regression figures: RMSE, MAE, R² and skill against no-change ({@link
 * RegressionFigures}), each cumulative, over an exact sliding window and faded.
 *
 * <p>Feed one {@link #add} per example, with the prediction made before the model learned the
 * label. Two reference predictors are scored alongside, prequentially: the mean of the labels
 * before the example over the same horizon (for R²) and the previous label of the stream (for the
 * skill). Over the window the mean reference is the mean of the window's labels before the example,
 * so after a change of level R² is measured against the new level, not the stream's history.
 *
 * <p>Predictions are used as given: a non-finite one makes the figures that include it non-finite.
 * Not thread-safe.
 *
 * <p>State format version 1: configuration, counters, the three tallies and the window's entries in
 * their ring order.
 */
public final class RegressionMetrics {
    private static final int VERSION = 1;

    private final MetricsConfig config;
    private long examples;
    private double previousLabel; // the no-change reference's next prediction
    private double cumulativeMean; // the cumulative mean reference's next prediction

    private final Tally cumulative = new Tally();
    private final Tally window = new Tally();
    private final Tally fading = new Tally();

    // The window as a ring of its last `size` examples; `head` is the next slot to write.
    private final double[] windowLabel; // (W)
    private final double[] windowError; // (W) prediction − label
    private final double[] windowMeanError; // (W) mean reference − label; NaN if it had none
    private final double[] windowNoChangeError; // (W) no-change reference − label; NaN if none
    private int head;
    private int size;

    public RegressionMetrics(MetricsConfig config) {
        if (config == null) {
            throw new IllegalArgumentException("regression metrics need a MetricsConfig");
        }
        this.config = config;
        int w = config.window();
        this.windowLabel = new double[w];
        this.windowError = new double[w];
        this.windowMeanError = new double[w];
        this.windowNoChangeError = new double[w];
    }

    public MetricsConfig config() {
        return config;
    }

    public long examples() {
        return examples;
    }

    /**
     * @param label the true value
     * @param predicted the model's prediction, made before it learned {@code label}
     */
    public void add(double label, double predicted) {
        if (!Double.isFinite(label)) {
            throw new IllegalArgumentException("label is " + label + ", expected a finite number");
        }
        double error = predicted - label;
        boolean first = examples == 0;
        double noChangeError = first ? Double.NaN : previousLabel - label;

        cumulative.add(label, error, first ? Double.NaN : cumulativeMean - label, noChangeError, 1);
        fading.decay(config.fadingFactor());
        fading.add(label, error, first ? Double.NaN : fading.labelMean() - label, noChangeError, 1);
        addToWindow(label, error, noChangeError);

        examples++;
        previousLabel = label;
        cumulativeMean += (label - cumulativeMean) / examples;
    }

    /** Adds a baseline's prediction of an example whose label is {@code label}. */
    public void add(double label, Prediction prediction) {
        add(label, prediction.value());
    }

    private void addToWindow(double label, double error, double noChangeError) {
        // The window never empties once filled, so its mean exists for every example but the first.
        double meanError = size == 0 ? Double.NaN : window.labelMean() - label;
        int w = config.window();
        if (size == w) {
            window.add(
                    windowLabel[head],
                    windowError[head],
                    windowMeanError[head],
                    windowNoChangeError[head],
                    -1);
        } else {
            size++;
        }
        windowLabel[head] = label;
        windowError[head] = error;
        windowMeanError[head] = meanError;
        windowNoChangeError[head] = noChangeError;
        window.add(label, error, meanError, noChangeError, 1);
        head = (head + 1) % w;
        if (head == 0) {
            // Adding and removing accumulates rounding; start the sums afresh once per pass.
            window.clear();
            for (int i = 0; i < size; i++) {
                window.add(
                        windowLabel[i],
                        windowError[i],
                        windowMeanError[i],
                        windowNoChangeError[i],
                        1);
            }
        }
    }

    /** All figures now, in O(1). */
    public MetricsSnapshot<RegressionFigures> snapshot() {
        return new MetricsSnapshot<>(
                examples, cumulative.figures(), window.figures(), fading.figures());
    }

    /**
     * Weighted sums of one horizon; weights are +1, −1 (leaving the window) or faded. The
     * references' sums cover only the examples they predicted ({@code compared}).
     */
    private static final class Tally {
        double weight;
        double labelSum;
        double absoluteErrors;
        double squaredErrors;
        double compared; // weight of examples both references predicted
        double comparedSquaredErrors; // the model's, on those examples
        double meanSquaredErrors;
        double noChangeSquaredErrors;

        void add(double label, double error, double meanError, double noChangeError, double w) {
            weight += w;
            labelSum += w * label;
            absoluteErrors += w * Math.abs(error);
            squaredErrors += w * error * error;
            if (!Double.isNaN(noChangeError) && !Double.isNaN(meanError)) {
                compared += w;
                comparedSquaredErrors += w * error * error;
                meanSquaredErrors += w * meanError * meanError;
                noChangeSquaredErrors += w * noChangeError * noChangeError;
            }
        }

        double labelMean() {
            return weight > 0 ? labelSum / weight : Double.NaN;
        }

        void decay(double alpha) {
            weight *= alpha;
            labelSum *= alpha;
            absoluteErrors *= alpha;
            squaredErrors *= alpha;
            compared *= alpha;
            comparedSquaredErrors *= alpha;
            meanSquaredErrors *= alpha;
            noChangeSquaredErrors *= alpha;
        }

        void clear() {
            weight = 0;
            labelSum = 0;
            absoluteErrors = 0;
            squaredErrors = 0;
            compared = 0;
            comparedSquaredErrors = 0;
            meanSquaredErrors = 0;
            noChangeSquaredErrors = 0;
        }

        RegressionFigures figures() {
            if (weight <= 0) {
                return new RegressionFigures(
                        0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
            }
            return new RegressionFigures(
                    weight,
                    Math.sqrt(squaredErrors / weight),
                    absoluteErrors / weight,
                    skill(meanSquaredErrors),
                    skill(noChangeSquaredErrors),
                    compared > 0 ? Math.sqrt(noChangeSquaredErrors / compared) : Double.NaN);
        }

        /** 1 − SSE / SSE(reference) on the compared examples; NaN if the reference never erred. */
        private double skill(double referenceSquaredErrors) {
            return referenceSquaredErrors > 0
                    ? 1 - comparedSquaredErrors / referenceSquaredErrors
                    : Double.NaN;
        }

        void write(DataOutput out) throws IOException {
            out.writeDouble(weight);
            out.writeDouble(labelSum);
            out.writeDouble(absoluteErrors);
            out.writeDouble(squaredErrors);
            out.writeDouble(compared);
            out.writeDouble(comparedSquaredErrors);
            out.writeDouble(meanSquaredErrors);
            out.writeDouble(noChangeSquaredErrors);
        }

        void readInto(DataInput in) throws IOException {
            weight = in.readDouble();
            labelSum = in.readDouble();
            absoluteErrors = in.readDouble();
            squaredErrors = in.readDouble();
            compared = in.readDouble();
            comparedSquaredErrors = in.readDouble();
            meanSquaredErrors = in.readDouble();
            noChangeSquaredErrors = in.readDouble();
        }
    }

    public void write(DataOutput out) throws IOException {
        out.writeByte(VERSION);
        out.writeInt(config.window());
        out.writeDouble(config.fadingFactor());
        out.writeLong(examples);
        out.writeDouble(previousLabel);
        out.writeDouble(cumulativeMean);
        cumulative.write(out);
        window.write(out);
        fading.write(out);
        out.writeInt(head);
        out.writeInt(size);
        for (int i = 0; i < size; i++) {
            out.writeDouble(windowLabel[i]);
            out.writeDouble(windowError[i]);
            out.writeDouble(windowMeanError[i]);
            out.writeDouble(windowNoChangeError[i]);
        }
    }

    public static RegressionMetrics read(DataInput in) throws IOException {
        int version = in.readByte();
        return switch (version) {
            case 1 -> readV1(in);
            default -> throw StateFormat.unknownVersion("regression metrics", version);
        };
    }

    private static RegressionMetrics readV1(DataInput in) throws IOException {
        int windowSize = in.readInt();
        double fadingFactor = in.readDouble();
        RegressionMetrics m;
        try {
            m = new RegressionMetrics(new MetricsConfig(windowSize, fadingFactor));
        } catch (IllegalArgumentException e) {
            throw new IOException("Corrupt state: " + e.getMessage(), e);
        }
        m.examples = in.readLong();
        m.previousLabel = in.readDouble();
        m.cumulativeMean = in.readDouble();
        m.cumulative.readInto(in);
        m.window.readInto(in);
        m.fading.readInto(in);
        m.head = in.readInt();
        m.size = in.readInt();
        if (m.size < 0 || m.size > windowSize || m.head < 0 || m.head >= windowSize) {
            throw new IOException(
                    "Corrupt state: window ring at "
                            + m.head
                            + " holding "
                            + m.size
                            + " of "
                            + windowSize);
        }
        for (int i = 0; i < m.size; i++) {
            m.windowLabel[i] = in.readDouble();
            m.windowError[i] = in.readDouble();
            m.windowMeanError[i] = in.readDouble();
            m.windowNoChangeError[i] = in.readDouble();
        }
        return m;
    }
}
