package io.kanstream.eval;

import java.util.Arrays;

/**
 * One prediction of a learner.
 *
 * @param value the predicted class index (classification) or the predicted number (regression)
 * @param probabilities (classes) the predicted distribution over classes, summing to 1; empty for
 *     regression
 */
public record Prediction(double value, double[] probabilities) {
    private static final double[] NONE = new double[0];

    public Prediction {
        probabilities = probabilities == null ? NONE : probabilities.clone();
    }

    /** A regression prediction. */
    public static Prediction of(double value) {
        return new Prediction(value, NONE);
    }

    /** A classification prediction: the most likely class (lowest index on ties). */
    public static Prediction ofProbabilities(double[] probabilities) {
        int best = 0;
        for (int c = 1; c < probabilities.length; c++) {
            if (probabilities[c] > probabilities[best]) {
                best = c;
            }
        }
        return new Prediction(best, probabilities);
    }

    @Override
    public double[] probabilities() {
        return probabilities.clone();
    }

    /** The predicted class as an index; meaningful for classification only. */
    public int predictedClass() {
        return (int) value;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Prediction other
                && Double.compare(value, other.value) == 0
                && Arrays.equals(probabilities, other.probabilities);
    }

    @Override
    public int hashCode() {
        return 31 * Double.hashCode(value) + Arrays.hashCode(probabilities);
    }

    @Override
    public String toString() {
        return "Prediction[value="
                + value
                + ", probabilities="
                + Arrays.toString(probabilities)
                + "]";
    }

    /** P(class {@code c}), or NaN for regression or an unknown class. */
    public double probability(int c) {
        return c >= 0 && c < probabilities.length ? probabilities[c] : Double.NaN;
    }
}
