package io.kanstream.kan;

/**
 * Maps raw features of any scale onto the initial grid: z = (x − mean) / (2·std), so about 95% of a
 * roughly normal feature lands in [−1, 1]. Mean and std are running statistics of the examples the
 * learner trained on; until a feature has spread (fewer than two examples, or a constant feature)
 * its scale is 1. Regression targets are standardized the same way (without the factor 2) so that a
 * label in the thousands needs no hand tuning of the learning rate.
 *
 * <p>Disabled, it is the identity — as for a model imported from efficient-kan, whose first layer
 * expects its inputs as they come.
 */
final class InputNormalizer {
    private static final double MIN_STD = 1e-9;

    /**
     * Normalized inputs are clipped to ±this: a feature that wakes up after a long constant stretch
     * must not reach the network at a thousand standard deviations.
     */
    static final float CLIP = 5f;

    private final boolean enabled;
    private final long horizon;
    private final long warmup;
    private final RunningMoments features;
    private final RunningMoments target;

    /**
     * @param warmup the features' moments stop changing after this many examples; 0 for never
     */
    InputNormalizer(boolean enabled, int inputs, long horizon, long warmup) {
        this(enabled, horizon, warmup, new RunningMoments(inputs), new RunningMoments(1));
    }

    InputNormalizer(
            boolean enabled,
            long horizon,
            long warmup,
            RunningMoments features,
            RunningMoments target) {
        this.enabled = enabled;
        this.horizon = horizon;
        this.warmup = warmup;
        this.features = features;
        this.target = target;
    }

    boolean enabled() {
        return enabled;
    }

    RunningMoments features() {
        return features;
    }

    RunningMoments target() {
        return target;
    }

    void observe(float[] rows, int n) {
        if (!enabled) {
            return;
        }
        int in = features.dimensions();
        for (int s = 0; s < n && (warmup == 0 || features.count() < warmup); s++) {
            features.add(rows, s * in, horizon);
        }
    }

    void observeTargets(double[] labels) {
        if (!enabled) {
            return;
        }
        for (double label : labels) {
            target.add(label, horizon);
        }
    }

    /**
     * @param rows (n, in) raw, row-major; @return (n, in) normalized
     */
    float[] apply(float[] rows, int n) {
        return enabled ? standardize(rows, n, features) : rows;
    }

    /**
     * One row standardized with the moments it will have once {@link #observe} has taken that very
     * row (the moments as they are if they no longer learn): what a step on the row right after
     * computes, to the bit, since the same update runs on a copy.
     *
     * @param row (1, in) raw; @return (1, in) normalized
     */
    float[] applyAsObserved(float[] row) {
        if (!enabled) {
            return row;
        }
        RunningMoments after = features;
        if (warmup == 0 || features.count() < warmup) {
            after = features.copy();
            after.add(row, 0, horizon);
        }
        return standardize(row, 1, after);
    }

    private static float[] standardize(float[] rows, int n, RunningMoments moments) {
        int in = moments.dimensions();
        float[] z = new float[rows.length];
        for (int d = 0; d < in; d++) {
            double mean = moments.mean(d);
            double scale = scale(moments, d);
            for (int s = 0; s < n; s++) {
                float value = (float) ((rows[s * in + d] - mean) / scale);
                z[s * in + d] = Math.max(-CLIP, Math.min(CLIP, value));
            }
        }
        return z;
    }

    /** What is subtracted from feature d before dividing by {@link #scale(int)}. */
    double offset(int d) {
        return enabled ? features.mean(d) : 0;
    }

    /** What feature d is divided by: twice its std, or 1 before it has spread. */
    double scale(int d) {
        return enabled ? scale(features, d) : 1;
    }

    private static double scale(RunningMoments moments, int d) {
        double std = moments.std(d);
        return std > MIN_STD ? 2 * std : 1;
    }

    double targetToNetwork(double label) {
        if (!enabled) {
            return label;
        }
        double std = target.std(0);
        return (label - target.mean(0)) / (std > MIN_STD ? std : 1);
    }

    double networkToTarget(double output) {
        if (!enabled) {
            return output;
        }
        double std = target.std(0);
        return output * (std > MIN_STD ? std : 1) + target.mean(0);
    }
}
