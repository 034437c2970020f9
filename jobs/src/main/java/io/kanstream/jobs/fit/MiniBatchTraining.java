package io.kanstream.jobs.fit;

import io.kanstream.kan.KanConfig;
import io.kanstream.kan.KanLearner;
import io.kanstream.kan.RefitPolicy;
import io.kanstream.kan.StepResult;
import java.util.SplittableRandom;

/**
 * Training from a table held in memory, in mini-batches, with the learner and refit policy the
 * stream uses. {@code fit} trains as an offline trainer would ({@link Plan#defaults()}: several
 * passes over shuffled rows, the learning rate annealed over the last steps); {@code bootstrap}
 * passes once over each key's rows in time order, as the stream would have seen them ({@link
 * #pass}).
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

    /**
     * A model's settings as an offline trainer wants them: momentum ({@link #BETA1}) and a constant
     * rate from the first step (a stream's young model starts faster, {@link
     * KanConfig#initialRateFactor()}; the annealed passes over a table set their own schedule).
     */
    public static KanConfig.Builder offline(KanConfig.Builder model) {
        return model.beta1(BETA1).constantRate();
    }

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

    /** Hears of each finished pass. */
    @FunctionalInterface
    public interface AfterPass {
        /**
         * @param epoch 1 for the first pass
         */
        void done(int epoch, Pass pass);
    }

    /**
     * How an offline fit goes over its rows.
     *
     * @param epochs passes over the data
     * @param shuffle each pass visits the rows in a new random order (drawn from the model's seed);
     *     otherwise in the table's order
     * @param cooldown the fraction of all steps, at the end, over which the learning rate falls
     *     linearly towards 0 (constant before); 0 keeps it constant throughout
     */
    public record Plan(int epochs, boolean shuffle, double cooldown) {
        public static final int DEFAULT_EPOCHS = 3;
        public static final double DEFAULT_COOLDOWN = 0.2;

        public Plan {
            if (epochs < 1) {
                throw new IllegalArgumentException("epochs must be at least 1, got " + epochs);
            }
            if (!(cooldown >= 0 && cooldown <= 1)) {
                throw new IllegalArgumentException(
                        "the cooldown must be a fraction of the steps in [0, 1], got " + cooldown);
            }
        }

        /**
         * What {@code fit} does unless told otherwise. Measured over seeds 1–5 on the toy problem
         * and five other regressions (docs/learning.md, "fit as an offline trainer"): the annealed
         * rate takes the seed-to-seed swing of a constant rate's last steps out of the result,
         * further passes keep lowering the error, and shuffling is what makes a file sorted by a
         * feature learnable at all.
         */
        public static Plan defaults() {
            return new Plan(DEFAULT_EPOCHS, true, DEFAULT_COOLDOWN);
        }

        /** One pass in the table's order at a constant rate: the way the stream learns. */
        public static Plan onePassInOrder() {
            return new Plan(1, false, 0);
        }

        /** The learning-rate factor of step {@code step} (from 0) of {@code total}: in (0, 1]. */
        double rateFactor(long step, long total) {
            double left = total - step; // this step included
            return cooldown > 0 ? Math.min(1, left / (cooldown * total)) : 1;
        }
    }

    /**
     * Trains on {@code n} rows as {@code plan} says and leaves the learner at its full learning
     * rate for whatever comes next.
     *
     * @param features (n, inputs) row-major
     * @param labels (n)
     * @param source names the data in errors, e.g. the file
     * @param firstPass sees each mini-batch of the first pass before the learner does
     * @return the last pass
     */
    public static Pass train(
            KanLearner learner,
            float[] features,
            double[] labels,
            int n,
            int batch,
            Plan plan,
            RefitPolicy policy,
            String source,
            BeforeStep firstPass,
            AfterPass after) {
        checkBatch(batch);
        long perPass = (n + batch - 1) / batch;
        long total = perPass * plan.epochs();
        SplittableRandom random = new SplittableRandom(learner.config().seed());
        int[] order = plan.shuffle() ? identity(n) : null;
        Pass pass = null;
        try {
            for (int epoch = 1; epoch <= plan.epochs(); epoch++) {
                if (plan.shuffle()) {
                    shuffle(order, random);
                }
                long first = (epoch - 1) * perPass;
                pass =
                        run(
                                learner,
                                features,
                                labels,
                                n,
                                order,
                                batch,
                                step -> plan.rateFactor(first + step, total),
                                policy,
                                source,
                                epoch == 1 ? firstPass : (x, y, rows) -> {});
                after.done(epoch, pass);
            }
        } finally {
            learner.scaleLearningRate(1);
        }
        return pass;
    }

    /**
     * One pass over {@code n} rows in order at the learner's own rate.
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
        checkBatch(batch);
        return run(learner, features, labels, n, null, batch, null, policy, source, before);
    }

    /** The learning-rate factor of the pass's step {@code step} (from 0). */
    @FunctionalInterface
    private interface Rate {
        double factor(long step);
    }

    /**
     * @param order the rows to visit, in the order to visit them; null for all {@code n} in order
     * @param rate null to leave the learner's rate alone
     */
    private static Pass run(
            KanLearner learner,
            float[] features,
            double[] labels,
            int n,
            int[] order,
            int batch,
            Rate rate,
            RefitPolicy policy,
            String source,
            BeforeStep before) {
        int in = learner.inputs();
        double lossSum = 0;
        int steps = 0;
        for (int start = 0, step = 0; start < n; start += batch, step++) {
            int rows = Math.min(batch, n - start);
            float[] x = new float[rows * in];
            double[] y = new double[rows];
            for (int r = 0; r < rows; r++) {
                int row = order == null ? start + r : order[start + r];
                System.arraycopy(features, row * in, x, r * in, in);
                y[r] = labels[row];
            }
            if (rate != null) {
                learner.scaleLearningRate(rate.factor(step));
            }
            StepResult result;
            try {
                learner.score(x, rows); // as the stream would: scored, then learned from
                before.batch(x, y, rows);
                result = learner.learn(x, y);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        source + " " + rows(order, start, rows) + ": " + e.getMessage());
            }
            if (result.applied()) {
                lossSum += result.loss();
                steps++;
            }
            learner.refitIfDue(policy);
        }
        return new Pass(lossSum / Math.max(steps, 1), steps);
    }

    /**
     * Names a mini-batch's rows (1-based) for an error: a range when they are in order, else each
     * row in the batch's order, which the learner's message counts from 0.
     */
    private static String rows(int[] order, int start, int rows) {
        if (order == null) {
            return "rows " + (start + 1) + ".." + (start + rows);
        }
        StringBuilder names = new StringBuilder("the mini-batch of rows ");
        for (int r = 0; r < rows; r++) {
            names.append(r == 0 ? "" : ", ").append(order[start + r] + 1);
        }
        return names.append(" (in that order)").toString();
    }

    private static void checkBatch(int batch) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batch);
        }
    }

    private static int[] identity(int n) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        return order;
    }

    /** Fisher–Yates, in place. */
    private static void shuffle(int[] order, SplittableRandom random) {
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
    }
}
