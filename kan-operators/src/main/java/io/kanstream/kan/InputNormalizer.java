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
    private final boolean enabled;
    private final RunningMoments features;
    private final RunningMoments target;

    InputNormalizer(boolean enabled, int inputs) {
        this(enabled, new RunningMoments(inputs), new RunningMoments(1));
    }

    InputNormalizer(boolean enabled, RunningMoments features, RunningMoments target) {
        this.enabled = enabled;
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
        for (int s = 0; s < n; s++) {
            features.add(rows, s * in);
        }
    }

    void observeTargets(double[] labels) {
        if (!enabled) {
            return;
        }
        for (double label : labels) {
            target.add(label);
        }
    }

    /**
     * @param rows (n, in) raw, row-major; @return (n, in) normalized
     */
    float[] apply(float[] rows, int n) {
        if (!enabled) {
            return rows;
        }
        int in = features.dimensions();
        float[] z = new float[rows.length];
        for (int d = 0; d < in; d++) {
            double mean = offset(d);
            double scale = scale(d);
            for (int s = 0; s < n; s++) {
                z[s * in + d] = (float) ((rows[s * in + d] - mean) / scale);
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
        double std = features.std(d);
        return enabled && std > MIN_STD ? 2 * std : 1;
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
