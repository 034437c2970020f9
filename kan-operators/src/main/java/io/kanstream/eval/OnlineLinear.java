package io.kanstream.eval;

import io.kanstream.kan.Task;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * An online linear model: linear regression, logistic regression (binary) or softmax regression
 * (multiclass), one gradient step per labeled example.
 *
 * <p>Features are standardized with running means and variances (Welford) updated before each step,
 * so raw-scale inputs train as well as unit-scale ones; for regression the label is standardized
 * the same way and predictions are mapped back to label units. A non-finite feature counts as
 * missing: it is read as its running mean and left out of the statistics. Weights start at zero and
 * the losses are convex, so there is no randomness and no seed: the same stream gives the same
 * model, bit for bit.
 *
 * <p>The loss per example is half the squared error in standardized label units (regression) or the
 * cross-entropy (classification), plus {@code l2/2 · |w|²} on the weights (not the biases).
 *
 * <p>State format version 1: configuration, feature and label moments, weights, optimizer moments
 * and step.
 */
public final class OnlineLinear implements OnlineBaseline {
    private static final int VERSION = 1;
    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double ADAM_EPSILON = 1e-8;

    /** How each step moves the weights. */
    public enum Optimizer {
        /** Plain stochastic gradient descent at a constant learning rate. */
        SGD,
        /** Adam (Kingma and Ba 2015) with β1 0.9, β2 0.999, ε 1e-8, bias-corrected. */
        ADAM
    }

    /**
     * Settings of an {@link OnlineLinear}. Defaults are in {@link #defaults}.
     *
     * @param target what is predicted
     * @param features length of every feature vector
     * @param optimizer SGD or Adam
     * @param learningRate step size, in standardized units
     * @param l2 weight decay coefficient; 0 for none
     */
    public record Config(
            Target target, int features, Optimizer optimizer, double learningRate, double l2) {

        public Config {
            if (target == null) {
                throw new IllegalArgumentException("online linear model needs a target");
            }
            if (features < 1) {
                throw new IllegalArgumentException(
                        "online linear model needs at least 1 feature, got " + features);
            }
            if (optimizer == null) {
                throw new IllegalArgumentException("online linear model needs an optimizer");
            }
            if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
                throw new IllegalArgumentException(
                        "learning rate must be a positive number, got " + learningRate);
            }
            if (!(l2 >= 0) || !Double.isFinite(l2)) {
                throw new IllegalArgumentException("l2 must be a non-negative number, got " + l2);
            }
        }

        /**
         * SGD at learning rate 0.01, no L2. On standardized features plain SGD converges to the
         * least-squares or maximum-likelihood weights; Adam at a constant rate keeps jittering by
         * about its learning rate (in standardized units) around them.
         */
        public static Config defaults(Target target, int features) {
            return new Config(target, features, Optimizer.SGD, 0.01, 0.0);
        }

        public Config withOptimizer(Optimizer optimizer) {
            return new Config(target, features, optimizer, learningRate, l2);
        }

        public Config withLearningRate(double learningRate) {
            return new Config(target, features, optimizer, learningRate, l2);
        }

        public Config withL2(double l2) {
            return new Config(target, features, optimizer, learningRate, l2);
        }
    }

    private final Config config;
    private final int d; // features
    private final int outputs; // 1 for regression and binary, classes for multiclass

    // Running moments per feature; counts differ when features go missing.
    private final long[] featureCount; // (d)
    private final double[] featureMean; // (d)
    private final double[] featureM2; // (d)
    private long labelCount;
    private double labelMean;
    private double labelM2;

    // (outputs, d + 1) row-major; column d is the bias.
    private final double[] weights;
    private final double[] adamM;
    private final double[] adamV;
    private long step;

    public OnlineLinear(Config config) {
        if (config == null) {
            throw new IllegalArgumentException("online linear model needs a config");
        }
        this.config = config;
        this.d = config.features();
        this.outputs = config.target().task() == Task.MULTICLASS ? config.target().classes() : 1;
        this.featureCount = new long[d];
        this.featureMean = new double[d];
        this.featureM2 = new double[d];
        int size = outputs * (d + 1);
        this.weights = new double[size];
        this.adamM = new double[config.optimizer() == Optimizer.ADAM ? size : 0];
        this.adamV = new double[adamM.length];
    }

    public Config config() {
        return config;
    }

    @Override
    public Target target() {
        return config.target();
    }

    /** Examples learned from. */
    public long steps() {
        return step;
    }

    @Override
    public Prediction predict(float[] x) {
        double[] z = standardize(checkFeatures(x));
        double[] out = outputs(z);
        return switch (config.target().task()) {
            case REGRESSION -> Prediction.of(labelMean + labelScale() * out[0]);
            case BINARY -> {
                double p = sigmoid(out[0]);
                yield new Prediction(out[0] >= 0 ? 1 : 0, new double[] {1 - p, p});
            }
            case MULTICLASS -> Prediction.ofProbabilities(softmax(out));
        };
    }

    @Override
    public void learn(float[] x, double label) {
        checkFeatures(x);
        int labelClass = config.target().checkLabel(label);
        observeFeatures(x);
        double[] z = standardize(x);
        double[] out = outputs(z);
        double[] dOut = new double[outputs]; // dLoss/dOutput
        switch (config.target().task()) {
            case REGRESSION -> {
                observeLabel(label);
                dOut[0] = out[0] - (label - labelMean) / labelScale();
            }
            case BINARY -> dOut[0] = sigmoid(out[0]) - labelClass;
            case MULTICLASS -> {
                double[] p = softmax(out);
                for (int c = 0; c < outputs; c++) {
                    dOut[c] = p[c] - (c == labelClass ? 1 : 0);
                }
            }
        }
        step++;
        for (int c = 0; c < outputs; c++) {
            int row = c * (d + 1);
            for (int j = 0; j <= d; j++) {
                double input = j < d ? z[j] : 1;
                double decay = j < d ? config.l2() * weights[row + j] : 0;
                update(row + j, dOut[c] * input + decay);
            }
        }
    }

    /**
     * The weights of output {@code c} in the units of the raw features and label: the prediction
     * (regression) or logit (binary, and per class for multiclass) is {@code intercept(c) + Σ
     * coefficients(c)[j] x[j]}. A feature that has not varied yet has coefficient 0.
     */
    public double[] coefficients(int c) {
        checkOutput(c);
        double[] raw = new double[d];
        for (int j = 0; j < d; j++) {
            double std = featureStd(j);
            raw[j] = std > 0 ? labelScale() * weights[c * (d + 1) + j] / std : 0;
        }
        return raw;
    }

    /** The intercept of output {@code c} in raw units; see {@link #coefficients}. */
    public double intercept(int c) {
        checkOutput(c);
        double standardized = weights[c * (d + 1) + d];
        for (int j = 0; j < d; j++) {
            double std = featureStd(j);
            if (std > 0) {
                standardized -= weights[c * (d + 1) + j] * featureMean[j] / std;
            }
        }
        return labelMean + labelScale() * standardized;
    }

    private void checkOutput(int c) {
        if (c < 0 || c >= outputs) {
            throw new IllegalArgumentException(
                    "output " + c + " does not exist, this model has " + outputs);
        }
    }

    private float[] checkFeatures(float[] x) {
        if (x == null || x.length != d) {
            throw new IllegalArgumentException(
                    "expected "
                            + d
                            + " features, got "
                            + (x == null ? "none" : String.valueOf(x.length)));
        }
        return x;
    }

    private void observeFeatures(float[] x) {
        for (int j = 0; j < d; j++) {
            double v = x[j];
            if (Double.isFinite(v)) {
                long n = ++featureCount[j];
                double delta = v - featureMean[j];
                featureMean[j] += delta / n;
                featureM2[j] += delta * (v - featureMean[j]);
            }
        }
    }

    private void observeLabel(double y) {
        labelCount++;
        double delta = y - labelMean;
        labelMean += delta / labelCount;
        labelM2 += delta * (y - labelMean);
    }

    /** Population standard deviation so far, or 0 before two distinct values. */
    private double featureStd(int j) {
        return featureCount[j] > 1 ? Math.sqrt(featureM2[j] / featureCount[j]) : 0;
    }

    /** Label units per standardized unit; 1 until the labels have varied. */
    private double labelScale() {
        if (config.target().isClassification() || labelCount < 2 || labelM2 <= 0) {
            return 1;
        }
        return Math.sqrt(labelM2 / labelCount);
    }

    /** (d) standardized features; missing or not-yet-varying features are 0. */
    private double[] standardize(float[] x) {
        double[] z = new double[d];
        for (int j = 0; j < d; j++) {
            double std = featureStd(j);
            z[j] = std > 0 && Double.isFinite(x[j]) ? (x[j] - featureMean[j]) / std : 0;
        }
        return z;
    }

    /** (outputs) the linear outputs in standardized units. */
    private double[] outputs(double[] z) {
        double[] out = new double[outputs];
        for (int c = 0; c < outputs; c++) {
            int row = c * (d + 1);
            double sum = weights[row + d];
            for (int j = 0; j < d; j++) {
                sum += weights[row + j] * z[j];
            }
            out[c] = sum;
        }
        return out;
    }

    private void update(int i, double gradient) {
        if (config.optimizer() == Optimizer.SGD) {
            weights[i] -= config.learningRate() * gradient;
            return;
        }
        adamM[i] = BETA1 * adamM[i] + (1 - BETA1) * gradient;
        adamV[i] = BETA2 * adamV[i] + (1 - BETA2) * gradient * gradient;
        double mHat = adamM[i] / (1 - Math.pow(BETA1, step));
        double vHat = adamV[i] / (1 - Math.pow(BETA2, step));
        weights[i] -= config.learningRate() * mHat / (Math.sqrt(vHat) + ADAM_EPSILON);
    }

    private static double sigmoid(double z) {
        return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
    }

    private static double[] softmax(double[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (double l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int c = 0; c < p.length; c++) {
            p[c] = Math.exp(logits[c] - max);
            sum += p[c];
        }
        for (int c = 0; c < p.length; c++) {
            p[c] /= sum;
        }
        return p;
    }

    @Override
    public void write(DataOutput out) throws IOException {
        out.writeByte(VERSION);
        config.target().write(out);
        out.writeInt(d);
        out.writeByte(config.optimizer() == Optimizer.SGD ? 0 : 1);
        out.writeDouble(config.learningRate());
        out.writeDouble(config.l2());
        StateFormat.writeLongs(out, featureCount);
        StateFormat.writeDoubles(out, featureMean);
        StateFormat.writeDoubles(out, featureM2);
        out.writeLong(labelCount);
        out.writeDouble(labelMean);
        out.writeDouble(labelM2);
        StateFormat.writeDoubles(out, weights);
        StateFormat.writeDoubles(out, adamM);
        StateFormat.writeDoubles(out, adamV);
        out.writeLong(step);
    }

    public static OnlineLinear read(DataInput in) throws IOException {
        int version = in.readByte();
        return switch (version) {
            case 1 -> readV1(in);
            default -> throw StateFormat.unknownVersion("online linear model", version);
        };
    }

    private static OnlineLinear readV1(DataInput in) throws IOException {
        Target target = Target.read(in);
        int features = in.readInt();
        int optimizerCode = in.readByte();
        Optimizer optimizer =
                switch (optimizerCode) {
                    case 0 -> Optimizer.SGD;
                    case 1 -> Optimizer.ADAM;
                    default ->
                            throw new IOException(
                                    "Corrupt state: unknown optimizer code " + optimizerCode);
                };
        double learningRate = in.readDouble();
        double l2 = in.readDouble();
        OnlineLinear m;
        try {
            m = new OnlineLinear(new Config(target, features, optimizer, learningRate, l2));
        } catch (IllegalArgumentException e) {
            throw new IOException("Corrupt state: " + e.getMessage(), e);
        }
        StateFormat.readLongsInto(in, m.featureCount, "feature counts");
        StateFormat.readDoublesInto(in, m.featureMean, "feature means");
        StateFormat.readDoublesInto(in, m.featureM2, "feature moments");
        m.labelCount = in.readLong();
        m.labelMean = in.readDouble();
        m.labelM2 = in.readDouble();
        StateFormat.readDoublesInto(in, m.weights, "weights");
        StateFormat.readDoublesInto(in, m.adamM, "Adam first moments");
        StateFormat.readDoublesInto(in, m.adamV, "Adam second moments");
        m.step = in.readLong();
        return m;
    }
}
