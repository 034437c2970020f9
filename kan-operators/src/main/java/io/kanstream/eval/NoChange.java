package io.kanstream.eval;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;

/**
 * Predicts the last label seen. On streams with temporal dependence (ELEC2) this is the yardstick a
 * model has to beat; {@link ClassificationMetrics} reports its accuracy and κ_t against it.
 *
 * <p>For classification the last label is predicted with probability equal to the rate at which
 * labels have repeated so far (Laplace-smoothed: {@code (repeats + 1) / (pairs + 2)}), the rest
 * spread evenly over the other classes. This changes no predicted class, only keeps its log-loss
 * finite and meaningful. Before the first label it predicts class 0 (as MOA's no-change classifier
 * does) with a uniform distribution, or 0 for regression.
 *
 * <p>State format version 1: target, whether a label was seen, the last label, pairs, repeats.
 */
public final class NoChange implements OnlineBaseline {
    private static final int VERSION = 1;

    private final Target target;
    private boolean seen;
    private double last;
    private long pairs;
    private long repeats;

    public NoChange(Target target) {
        if (target == null) {
            throw new IllegalArgumentException("no-change baseline needs a target");
        }
        this.target = target;
    }

    @Override
    public Target target() {
        return target;
    }

    /**
     * The label no-change predicts after {@code previousLabel}: that label, or 0 (class 0) before
     * the first, NaN.
     */
    public static double reference(double previousLabel) {
        return Double.isNaN(previousLabel) ? 0 : previousLabel;
    }

    @Override
    public Prediction predict(float[] x) {
        if (!target.isClassification()) {
            return Prediction.of(seen ? last : 0);
        }
        int k = target.classes();
        double[] p = new double[k];
        if (!seen) {
            Arrays.fill(p, 1.0 / k);
            return new Prediction(0, p);
        }
        double stay = (repeats + 1.0) / (pairs + 2.0);
        Arrays.fill(p, (1 - stay) / (k - 1));
        p[(int) last] = stay;
        return new Prediction(last, p);
    }

    @Override
    public void learn(float[] x, double label) {
        target.checkLabel(label);
        if (seen) {
            pairs++;
            if (label == last) {
                repeats++;
            }
        }
        seen = true;
        last = label;
    }

    @Override
    public void write(DataOutput out) throws IOException {
        out.writeByte(VERSION);
        target.write(out);
        out.writeBoolean(seen);
        out.writeDouble(last);
        out.writeLong(pairs);
        out.writeLong(repeats);
    }

    public static NoChange read(DataInput in) throws IOException {
        int version = in.readByte();
        return switch (version) {
            case 1 -> readV1(in);
            default -> throw StateFormat.unknownVersion("no-change baseline", version);
        };
    }

    private static NoChange readV1(DataInput in) throws IOException {
        NoChange b = new NoChange(Target.read(in));
        b.seen = in.readBoolean();
        b.last = in.readDouble();
        b.pairs = in.readLong();
        b.repeats = in.readLong();
        return b;
    }
}
