package io.kanstream.kan;

import java.util.Locale;

/**
 * What the network's outputs mean, which loss trains them, and how a label is read.
 *
 * <p>The loss and its gradient with respect to the network outputs are computed on the host: the
 * outputs are copied out once per step anyway (scores), and this keeps the device work to the
 * layers themselves.
 */
public enum Task {
    /** One output, mean squared error. Labels are real numbers. */
    REGRESSION,
    /** One output, a logit; binary cross-entropy. Labels are 0 or 1. */
    BINARY,
    /** One output per class, logits; softmax cross-entropy. Labels are class indices. */
    MULTICLASS;

    /** Parses {@code regression|binary|multiclass}, case-insensitive. */
    public static Task parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "unknown task '" + text + "': expected regression, binary or multiclass");
        }
    }

    /** Checks that a network with {@code outputs} outputs can serve this task. */
    void checkOutputs(int outputs) {
        switch (this) {
            case REGRESSION, BINARY -> {
                if (outputs != 1) {
                    throw new IllegalArgumentException(
                            "task "
                                    + name().toLowerCase(Locale.ROOT)
                                    + " needs exactly 1 network output, the last layer has "
                                    + outputs);
                }
            }
            case MULTICLASS -> {
                if (outputs < 2) {
                    throw new IllegalArgumentException(
                            "task multiclass needs one output per class (at least 2), the last"
                                    + " layer has "
                                    + outputs);
                }
            }
        }
    }

    /** Checks a label and names the row it came from when it is not one this task accepts. */
    public void checkLabel(double label, int outputs, int row) {
        if (!Double.isFinite(label)) {
            throw new IllegalArgumentException("label of row " + row + " is " + label);
        }
        switch (this) {
            case REGRESSION -> {}
            case BINARY -> {
                if (label != 0 && label != 1) {
                    throw new IllegalArgumentException(
                            "label of row " + row + " is " + label + ", binary labels are 0 or 1");
                }
            }
            case MULTICLASS -> {
                if (label != Math.rint(label) || label < 0 || label >= outputs) {
                    throw new IllegalArgumentException(
                            "label of row "
                                    + row
                                    + " is "
                                    + label
                                    + ", expected a class index in 0.."
                                    + (outputs - 1));
                }
            }
        }
    }

    /**
     * Loss of one batch and its gradient with respect to the outputs.
     *
     * @param outputs (batch, out) network outputs, row-major
     * @param labels (batch) labels in the network's units (standardized for regression)
     * @param gradient (batch, out) receives dLoss/dOutput of the batch-mean loss
     * @return the batch-mean loss
     */
    double lossAndGradient(float[] outputs, int out, double[] labels, float[] gradient) {
        int batch = labels.length;
        double total = 0;
        switch (this) {
            case REGRESSION -> {
                for (int b = 0; b < batch; b++) {
                    double diff = outputs[b] - labels[b];
                    total += diff * diff;
                    gradient[b] = (float) (2 * diff / batch);
                }
            }
            case BINARY -> {
                for (int b = 0; b < batch; b++) {
                    double z = outputs[b];
                    double y = labels[b];
                    // log(1 + e^z) - y z, written to stay finite for large |z|
                    total += Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
                    gradient[b] = (float) ((sigmoid(z) - y) / batch);
                }
            }
            case MULTICLASS -> {
                for (int b = 0; b < batch; b++) {
                    int offset = b * out;
                    double logSum = logSumExp(outputs, offset, out);
                    int label = (int) labels[b];
                    total += logSum - outputs[offset + label];
                    for (int c = 0; c < out; c++) {
                        double p = Math.exp(outputs[offset + c] - logSum);
                        gradient[offset + c] = (float) ((p - (c == label ? 1 : 0)) / batch);
                    }
                }
            }
        }
        return total / batch;
    }

    /**
     * The single-number score of one sample: the prediction for regression, P(class 1) for binary,
     * the probability of the predicted class for multiclass.
     */
    public double score(float[] outputs, int offset, int out) {
        return switch (this) {
            case REGRESSION -> outputs[offset];
            case BINARY -> sigmoid(outputs[offset]);
            case MULTICLASS -> {
                double[] p = softmax(outputs, offset, out);
                yield p[argmax(outputs, offset, out)];
            }
        };
    }

    /** The predicted label: the value, 0/1 at probability ½, or the most likely class. */
    public double prediction(float[] outputs, int offset, int out) {
        return switch (this) {
            case REGRESSION -> outputs[offset];
            case BINARY -> outputs[offset] >= 0 ? 1 : 0;
            case MULTICLASS -> argmax(outputs, offset, out);
        };
    }

    /** The logistic function, finite for every finite z. */
    public static double sigmoid(double z) {
        return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
    }

    /** log Σ exp over {@code outputs[offset, offset + out)}, stable for large logits. */
    static double logSumExp(float[] outputs, int offset, int out) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < out; c++) {
            max = Math.max(max, outputs[offset + c]);
        }
        double sum = 0;
        for (int c = 0; c < out; c++) {
            sum += Math.exp(outputs[offset + c] - max);
        }
        return max + Math.log(sum);
    }

    /** Class probabilities from logits, stable for large logits. */
    public static double[] softmax(float[] outputs, int offset, int out) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < out; c++) {
            max = Math.max(max, outputs[offset + c]);
        }
        double[] p = new double[out];
        double sum = 0;
        for (int c = 0; c < out; c++) {
            p[c] = Math.exp(outputs[offset + c] - max);
            sum += p[c];
        }
        for (int c = 0; c < out; c++) {
            p[c] /= sum;
        }
        return p;
    }

    static int argmax(float[] outputs, int offset, int out) {
        int best = 0;
        for (int c = 1; c < out; c++) {
            if (outputs[offset + c] > outputs[offset + best]) {
                best = c;
            }
        }
        return best;
    }
}
