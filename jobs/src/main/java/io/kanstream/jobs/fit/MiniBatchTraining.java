package io.kanstream.jobs.fit;

import io.kanstream.kan.KanLearner;
import io.kanstream.kan.RefitPolicy;
import io.kanstream.kan.StepResult;

/**
 * Training from a table held in memory: rows in order, in mini-batches, with the refit policy the
 * stream uses, so a model trained here was trained the way it will be trained live. {@code fit}
 * warm-starts models with it; {@code evaluate} measures the toy problem with it.
 */
public final class MiniBatchTraining {
    /**
     * Adam's first-moment decay for mini-batches over a fixed table: momentum averages the noise of
     * a stationary objective's gradients (the toy's held-out RMSE is about twice as high without
     * it), where a stream learned label by label follows its target better without (the learner's
     * default, 0; docs/learning.md).
     */
    public static final double BETA1 = 0.9;

    private MiniBatchTraining() {}

    /** What one pass over the data did. */
    public record Pass(double meanLoss, int steps) {}

    /** Sees each mini-batch before the learner does: where a prequential evaluation scores it. */
    @FunctionalInterface
    public interface BeforeStep {
        /**
         * @param x (rows, inputs) row-major
         * @param y (rows)
         */
        void batch(float[] x, double[] y, int rows);
    }

    /**
     * One pass over {@code n} rows.
     *
     * @param features (n, inputs) row-major
     * @param labels (n)
     * @param source names the data in errors, e.g. the file
     */
    public static Pass pass(
            KanLearner learner,
            float[] features,
            double[] labels,
            int n,
            int batch,
            RefitPolicy policy,
            String source,
            BeforeStep before) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batch);
        }
        int in = learner.inputs();
        double lossSum = 0;
        int steps = 0;
        for (int start = 0; start < n; start += batch) {
            int rows = Math.min(batch, n - start);
            float[] x = new float[rows * in];
            System.arraycopy(features, start * in, x, 0, x.length);
            double[] y = new double[rows];
            System.arraycopy(labels, start, y, 0, rows);
            StepResult step;
            try {
                learner.score(x, rows); // as the stream would: scored, then learned from
                before.batch(x, y, rows);
                step = learner.learn(x, y);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        source
                                + " rows "
                                + (start + 1)
                                + ".."
                                + (start + rows)
                                + ": "
                                + e.getMessage());
            }
            if (step.applied()) {
                lossSum += step.loss();
                steps++;
            }
            learner.refitIfDue(policy);
        }
        return new Pass(lossSum / Math.max(steps, 1), steps);
    }
}
