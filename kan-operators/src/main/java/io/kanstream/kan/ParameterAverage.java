package io.kanstream.kan;

/**
 * A slow member of a learner at the price of its parameters alone: an exponential average of the
 * learner's own parameters over its recent steps ({@link KanConfig#averageHorizon()}), scored
 * through the learner's grids, normalizer and calibrator beside the learner, and mixed with it by
 * recent loss as {@link LearnerMixture} mixes companions.
 *
 * <p>A step moves the learner by one noisy gradient; the average moves by a fraction of that, so
 * where labels are noisy it holds a steadier function (Polyak–Ruppert averaging), while after a
 * change it lags and the mixture's weights move to the learner. It has no optimizer state and is
 * never stepped: {@code average ← keep · average + (1 − keep) · parameters} after each step.
 *
 * <p>{@code keep} is {@code 1 − 1/horizon} once the learner has taken enough steps, and less
 * before: after its t-th step {@code keep = min(1 − 1/horizon, 1 − (η+1)/(t+η))}, η = {@link #RAMP}
 * (polynomial-decay averaging, Shamir and Zhang, "Stochastic Gradient Descent for Non-smooth
 * Optimization", ICML 2013). An exponential average started at a new model's parameters would still
 * hold {@code keep^t} of that random start after t steps (60% after 50 steps over a horizon of
 * 100), and a key that sees tens of labels would be mixed with it for its whole life; with the ramp
 * the average spans about the last {@code t/(η+1)} steps, and from step {@code (η+1)·horizon − η}
 * on it is the plain exponential average.
 *
 * <p>A refit moves the learner onto new knots, where the old average means nothing: the average
 * starts again from the learner's new parameters.
 *
 * <p>Not thread-safe, like the learner that owns it.
 */
final class ParameterAverage {
    /** The decayed losses of the learner and of the average, in that order. */
    final double[] losses;

    /** Indexed as {@link ParameterIndex}; each of its learner's parameter's size. */
    final float[][] parameters;

    /**
     * η of the ramp: early on the average spans about the last tenth of the learner's steps. Shamir
     * and Zhang's η = 3 (a quarter) and 9 both tie the plain average on every long stream of the
     * suite; on keys with few labels 9 gains more (docs/learning.md, "A young key's calibrator and
     * average").
     */
    static final double RAMP = 9;

    private final double horizon;
    private final Task task;
    private final double decay;

    /** Steps taken where the host's parameters were not current (a device), not yet averaged in. */
    private long pendingSteps;

    /** The learner's step count after the last of {@link #pendingSteps}. */
    private long lastPendingStep;

    ParameterAverage(KanConfig config, float[][] parameters, double[] losses) {
        if (!(config.averageHorizon() > 0)) {
            throw new IllegalArgumentException(
                    "a parameter average needs averageHorizon > 0, got " + config.averageHorizon());
        }
        if (losses.length != 2) {
            throw new IllegalArgumentException(
                    "a parameter average keeps 2 losses, got " + losses.length);
        }
        this.parameters = parameters;
        this.losses = losses;
        this.horizon = config.averageHorizon();
        this.task = config.task();
        this.decay = 1 - 1 / config.mixtureHorizon();
    }

    /** An average that starts at {@code host}'s parameters, both members at the same loss. */
    static ParameterAverage of(KanConfig config, HostKan host) {
        ParameterAverage average =
                new ParameterAverage(
                        config, new float[ParameterIndex.count(host.size())][], new double[2]);
        average.restart(host);
        return average;
    }

    /**
     * What of the average stays after the learner's {@code step}-th step (counted from 1) with an
     * average over {@code horizon} steps.
     */
    static float keep(double horizon, long step) {
        double ramp = 1 - (RAMP + 1) / (step + RAMP);
        return (float) Math.max(0, Math.min(1 - 1 / horizon, ramp));
    }

    /**
     * After a step on the host: the average takes its share of the new parameters.
     *
     * @param step the learner's steps so far, this one included
     */
    void stepped(HostKan host, long step) {
        blend(host, keep(horizon, step));
    }

    /**
     * After a step on a device: averaged in when the host is next current ({@link #catchUp}).
     *
     * @param step the learner's steps so far, this one included
     */
    void steppedElsewhere(long step) {
        pendingSteps++;
        lastPendingStep = step;
    }

    /**
     * Averages in steps taken on a device, as though the parameters had moved straight to where
     * they are now: of the old average stays the product of those steps' keeps.
     */
    void catchUp(HostKan host) {
        if (pendingSteps > 0) {
            double stay = 1;
            for (long t = lastPendingStep - pendingSteps + 1; t <= lastPendingStep; t++) {
                stay *= keep(horizon, t);
            }
            blend(host, (float) stay);
            pendingSteps = 0;
        }
    }

    private void blend(HostKan host, float stay) {
        float take = 1 - stay;
        for (int q = 0; q < parameters.length; q++) {
            float[] average = parameters[q];
            float[] current = host.parameter(q);
            for (int j = 0; j < average.length; j++) {
                average[j] = stay * average[j] + take * current[j];
            }
        }
    }

    /**
     * Takes {@code host}'s parameters as they are: at the start, and after a refit, whose new knots
     * the old average means nothing on.
     */
    void restart(HostKan host) {
        for (int q = 0; q < parameters.length; q++) {
            parameters[q] = host.parameter(q).clone();
        }
        pendingSteps = 0;
    }

    /**
     * The average's raw network outputs on normalized rows, through {@code host}'s grids (which
     * only refits change, on the host), as of the steps averaged in so far.
     */
    float[] outputs(HostKan host, float[] z, int n) {
        return host.outputsWith(parameters, z, n);
    }

    /** The weights of the learner and of the average; they sum to 1. */
    double[] weights() {
        return LearnerMixture.weights(losses);
    }

    /** The two members' finished outputs mixed by their weights. */
    float[] mix(float[] own, float[] average, int n) {
        return LearnerMixture.combine(task, new float[][] {own, average}, n, weights());
    }

    /**
     * Each member's loss on labeled rows, before the learner steps on them.
     *
     * @param own the learner's finished outputs on the rows
     * @param average the average's finished outputs on the rows
     * @param labelScale the labels' running standard deviation (regression), 1 otherwise
     */
    void learn(float[] own, float[] average, double[] labels, double labelScale) {
        LearnerMixture.charge(
                task, losses, decay, new float[][] {own, average}, labels, labelScale);
    }
}
