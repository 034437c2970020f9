package io.kanstream.eval;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Predicts the most frequent class so far (lowest index on ties), or for regression the running
 * mean of the labels.
 *
 * <p>Class probabilities are the running frequencies, Laplace-smoothed ({@code (count + 1) / (n +
 * classes)}) so that a class not yet seen costs a finite log-loss. Before the first label: class 0
 * with a uniform distribution, or 0 for regression.
 *
 * <p>State format version 1: target, then the class counts (classification) or the label count and
 * mean (regression).
 */
public final class MajorityClass implements OnlineBaseline {
    private static final int VERSION = 1;

    private final Target target;
    private final long[] counts; // (classes) labels seen per class; empty for regression
    private long n;
    private double mean;

    public MajorityClass(Target target) {
        if (target == null) {
            throw new IllegalArgumentException("majority-class baseline needs a target");
        }
        this.target = target;
        this.counts = new long[target.isClassification() ? target.classes() : 0];
    }

    @Override
    public Target target() {
        return target;
    }

    @Override
    public Prediction predict(float[] x) {
        if (!target.isClassification()) {
            return Prediction.of(mean);
        }
        int k = counts.length;
        double[] p = new double[k];
        for (int c = 0; c < k; c++) {
            p[c] = (counts[c] + 1.0) / (n + (double) k);
        }
        return Prediction.ofProbabilities(p);
    }

    @Override
    public void learn(float[] x, double label) {
        int c = target.checkLabel(label);
        n++;
        if (c >= 0) {
            counts[c]++;
        } else {
            mean += (label - mean) / n;
        }
    }

    @Override
    public void write(DataOutput out) throws IOException {
        out.writeByte(VERSION);
        target.write(out);
        out.writeLong(n);
        out.writeDouble(mean);
        StateFormat.writeLongs(out, counts);
    }

    public static MajorityClass read(DataInput in) throws IOException {
        int version = in.readByte();
        return switch (version) {
            case 1 -> readV1(in);
            default -> throw StateFormat.unknownVersion("majority-class baseline", version);
        };
    }

    private static MajorityClass readV1(DataInput in) throws IOException {
        MajorityClass b = new MajorityClass(Target.read(in));
        b.n = in.readLong();
        b.mean = in.readDouble();
        StateFormat.readLongsInto(in, b.counts, "class counts");
        return b;
    }
}
