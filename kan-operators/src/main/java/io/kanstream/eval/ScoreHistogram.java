package io.kanstream.eval;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Bounded-memory AUC: weighted counts of positive and negative examples per bin of the score, the
 * bins evenly spaced in logit(score) over [−16, 16] (512 bins, 1/16 logit each; the end bins also
 * take everything beyond). Bins in logit space keep confident scores near 0 and 1 apart, where most
 * of them fall. AUC needs only the order of the scores, and any monotone transform keeps it.
 *
 * <p>Pairs in the same bin count one half, as exact ties would; the error against the exact AUC is
 * at most half the weight of the pairs of opposite classes that share a bin, and is reported by
 * {@link #maxError()}. A NaN score falls in the bin of 0.5.
 *
 * <p>Fading multiplies every stored weight by α per example; instead of touching every bin, each
 * new example is added with weight α^−t and all bins are rescaled when that grows large.
 */
final class ScoreHistogram {
    static final int BINS = 512;
    static final double LOGIT_RANGE = 16;
    private static final double RESCALE_AT = 1e150;

    private final double[] positive = new double[BINS];
    private final double[] negative = new double[BINS];
    private double inflation = 1; // weight of a new example relative to the stored ones

    void add(double score, boolean isPositive) {
        int b = bin(score);
        if (isPositive) {
            positive[b] += inflation;
        } else {
            negative[b] += inflation;
        }
    }

    /** Ages every stored example by one step of fading factor {@code alpha}. */
    void decay(double alpha) {
        inflation /= alpha;
        if (inflation > RESCALE_AT) {
            for (int b = 0; b < BINS; b++) {
                positive[b] /= inflation;
                negative[b] /= inflation;
            }
            inflation = 1;
        }
    }

    /** P(score of a positive > score of a negative), same-bin pairs one half; NaN without both. */
    double auc() {
        double negativesBelow = 0;
        double area = 0;
        double positives = 0;
        for (int b = 0; b < BINS; b++) {
            area += positive[b] * (negativesBelow + 0.5 * negative[b]);
            negativesBelow += negative[b];
            positives += positive[b];
        }
        double pairs = positives * negativesBelow;
        return pairs > 0 ? area / pairs : Double.NaN;
    }

    /** The largest possible difference between {@link #auc()} and the exact AUC. */
    double maxError() {
        double sameBin = 0;
        double positives = 0;
        double negatives = 0;
        for (int b = 0; b < BINS; b++) {
            sameBin += positive[b] * negative[b];
            positives += positive[b];
            negatives += negative[b];
        }
        double pairs = positives * negatives;
        return pairs > 0 ? 0.5 * sameBin / pairs : Double.NaN;
    }

    static int bin(double score) {
        if (Double.isNaN(score)) {
            return BINS / 2;
        }
        double p = Math.min(1, Math.max(0, score));
        double logit = Math.log(p) - Math.log1p(-p);
        double position = (logit + LOGIT_RANGE) / (2 * LOGIT_RANGE) * BINS;
        return (int) Math.min(BINS - 1, Math.max(0, Math.floor(position)));
    }

    /** Only the occupied bins: a bin index and both weights each. */
    void write(DataOutput out) throws IOException {
        out.writeDouble(inflation);
        int occupied = 0;
        for (int b = 0; b < BINS; b++) {
            if (positive[b] != 0 || negative[b] != 0) {
                occupied++;
            }
        }
        out.writeShort(occupied);
        for (int b = 0; b < BINS; b++) {
            if (positive[b] != 0 || negative[b] != 0) {
                out.writeShort(b);
                out.writeDouble(positive[b]);
                out.writeDouble(negative[b]);
            }
        }
    }

    /** Reads what {@link #write} wrote into this empty histogram. */
    void readInto(DataInput in) throws IOException {
        inflation = in.readDouble();
        int occupied = in.readUnsignedShort();
        if (occupied > BINS) {
            throw new IOException("Corrupt state: " + occupied + " occupied score bins of " + BINS);
        }
        for (int i = 0; i < occupied; i++) {
            int b = in.readUnsignedShort();
            if (b >= BINS) {
                throw new IOException("Corrupt state: score bin " + b + " of " + BINS);
            }
            positive[b] = in.readDouble();
            negative[b] = in.readDouble();
        }
    }
}
