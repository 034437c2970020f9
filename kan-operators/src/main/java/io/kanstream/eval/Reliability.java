package io.kanstream.eval;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Calibration of predicted probabilities: equal-width bins over [0, 1], each with its count, the
 * sum of the probabilities that fell in it and how many of those events happened. Memory is three
 * arrays of {@code bins}, whatever the length of the stream; figures are cumulative.
 *
 * <p>Binary ({@code classes == 2}): the forecast is P(class 1) and the event is "the label is 1".
 * More classes: the forecast is the top label's probability and the event is "the top label is
 * right" (the confidence-vs-accuracy diagram of Guo et al. 2017), since a per-class diagram would
 * need a set of bins per class.
 *
 * <p>Bin {@code b} of {@code B} holds forecasts in [b/B, (b+1)/B); the last bin also holds 1. A
 * forecast that is NaN, infinite or outside [0, 1] is counted in {@link #excluded()} and left out
 * of every bin and figure: one broken prediction should show, not poison the diagram.
 *
 * <p>State format version 1: classes, bins, excluded, then counts, forecast sums and hits.
 */
public final class Reliability {
    private static final int VERSION = 1;
    public static final int DEFAULT_BINS = 10;

    private final int classes;
    private final long[] count; // (bins) forecasts in the bin
    private final double[] predicted; // (bins) sum of those forecasts
    private final long[] happened; // (bins) how many of them came true
    private long excluded;

    public Reliability(int classes, int bins) {
        if (classes < 2) {
            throw new IllegalArgumentException(
                    "a reliability diagram needs at least 2 classes, got " + classes);
        }
        if (bins < 1 || bins > 1000) {
            throw new IllegalArgumentException(
                    "reliability bins is " + bins + ", expected 1..1000 (10 or 15 are usual)");
        }
        this.classes = classes;
        this.count = new long[bins];
        this.predicted = new double[bins];
        this.happened = new long[bins];
    }

    public Reliability(int classes) {
        this(classes, DEFAULT_BINS);
    }

    /** Whether forecasts are top-label confidences (more than two classes) rather than P(1). */
    public boolean topLabel() {
        return classes > 2;
    }

    /** Forecasts left out because they were not a probability. */
    public long excluded() {
        return excluded;
    }

    /** Forecasts in the bins. */
    public long counted() {
        long n = 0;
        for (long c : count) {
            n += c;
        }
        return n;
    }

    /** Adds a classifier's prediction of an example whose label is {@code trueClass}. */
    public void add(int trueClass, Prediction prediction) {
        double[] p = prediction.probabilities();
        if (p.length != classes) {
            throw new IllegalArgumentException(
                    "expected " + classes + " class probabilities, got " + p.length);
        }
        if (classes == 2) {
            add(p[1], trueClass == 1);
        } else {
            int top = prediction.predictedClass();
            add(prediction.probability(top), top == trueClass);
        }
    }

    /** Adds one forecast {@code probability} of an event and whether the event happened. */
    public void add(double probability, boolean eventHappened) {
        if (!(probability >= 0 && probability <= 1)) { // also catches NaN
            excluded++;
            return;
        }
        int b = bin(probability);
        count[b]++;
        predicted[b] += probability;
        if (eventHappened) {
            happened[b]++;
        }
    }

    private int bin(double probability) {
        int bins = count.length;
        return Math.min(bins - 1, (int) (probability * bins));
    }

    /**
     * Expected calibration error: the count-weighted mean over bins of |observed frequency − mean
     * forecast|, that is Σ_b |hits_b − Σ forecasts_b| / n. NaN before any counted forecast.
     *
     * <p>Even a perfectly calibrated model scores above 0 on a finite sample: each bin's observed
     * frequency is off by about sqrt(p(1−p)/n_b), so compare models on the same stream and bins.
     */
    public double ece() {
        long n = counted();
        if (n == 0) {
            return Double.NaN;
        }
        double gap = 0;
        for (int b = 0; b < count.length; b++) {
            gap += Math.abs(happened[b] - predicted[b]);
        }
        return gap / n;
    }

    /**
     * Maximum calibration error: the largest |observed − mean forecast| of any non-empty bin.
     * Sparse bins make it noisy; read it with the bin counts. NaN before any counted forecast.
     */
    public double mce() {
        double worst = Double.NaN;
        for (int b = 0; b < count.length; b++) {
            if (count[b] > 0) {
                double gap = Math.abs(happened[b] - predicted[b]) / count[b];
                worst = Double.isNaN(worst) ? gap : Math.max(worst, gap);
            }
        }
        return worst;
    }

    /** One bin of the diagram; the means are NaN in an empty bin. */
    public record Bin(
            double lower, double upper, long count, double meanPredicted, double observed) {}

    /**
     * The diagram as it stands.
     *
     * @param topLabel forecasts are top-label confidences, not P(class 1)
     * @param counted forecasts in the bins
     * @param excluded forecasts left out (not a probability)
     */
    public record Diagram(
            boolean topLabel, long counted, long excluded, double ece, double mce, List<Bin> bins) {
        public Diagram {
            bins = List.copyOf(bins);
        }
    }

    public Diagram snapshot() {
        int bins = count.length;
        List<Bin> list = new ArrayList<>(bins);
        for (int b = 0; b < bins; b++) {
            long n = count[b];
            list.add(
                    new Bin(
                            (double) b / bins,
                            (double) (b + 1) / bins,
                            n,
                            n > 0 ? predicted[b] / n : Double.NaN,
                            n > 0 ? (double) happened[b] / n : Double.NaN));
        }
        return new Diagram(topLabel(), counted(), excluded, ece(), mce(), list);
    }

    public void write(DataOutput out) throws IOException {
        out.writeByte(VERSION);
        out.writeInt(classes);
        out.writeInt(count.length);
        out.writeLong(excluded);
        StateFormat.writeLongs(out, count);
        StateFormat.writeDoubles(out, predicted);
        StateFormat.writeLongs(out, happened);
    }

    public static Reliability read(DataInput in) throws IOException {
        int version = in.readByte();
        return switch (version) {
            case 1 -> readV1(in);
            default -> throw StateFormat.unknownVersion("reliability", version);
        };
    }

    private static Reliability readV1(DataInput in) throws IOException {
        int classes = in.readInt();
        int bins = in.readInt();
        Reliability r;
        try {
            r = new Reliability(classes, bins);
        } catch (IllegalArgumentException e) {
            throw new IOException("Corrupt state: " + e.getMessage(), e);
        }
        r.excluded = in.readLong();
        StateFormat.readLongsInto(in, r.count, "reliability counts");
        StateFormat.readDoublesInto(in, r.predicted, "reliability forecast sums");
        StateFormat.readLongsInto(in, r.happened, "reliability hits");
        return r;
    }
}
