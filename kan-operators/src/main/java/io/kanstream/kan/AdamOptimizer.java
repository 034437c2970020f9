package io.kanstream.kan;

/**
 * Adam with bias correction and decoupled weight decay (AdamW): the step count, which drives the
 * bias correction and so is part of the state, and the constants of each update. The moments live
 * beside the parameters they belong to, on the host ({@link HostKan}) and, when mirrored, on the
 * device ({@link DeviceKan}).
 */
final class AdamOptimizer {
    private final KanConfig config;
    private long step;
    private long sinceReset; // the t of bias correction: steps since the moments last started at 0

    AdamOptimizer(KanConfig config) {
        this.config = config;
    }

    /** Steps taken in all. */
    long step() {
        return step;
    }

    /** Steps since the moments last started from zero. */
    long sinceReset() {
        return sinceReset;
    }

    void restore(long step, long sinceReset) {
        this.step = step;
        this.sinceReset = sinceReset;
    }

    /** The moments were zeroed: bias correction starts over. */
    void reset() {
        sinceReset = 0;
    }

    /**
     * The constants of one fused update, in float as the device takes them.
     *
     * @param learningRate the rate, boost included
     * @param biasCorrected lr · √(1 − β₂ᵗ) / (1 − β₁ᵗ)
     * @param epsilon ε · √(1 − β₂ᵗ)
     * @param decoupled AdamW's decay (p ← p − lr · wd · p) rather than an L2 term in the gradient
     */
    record Rates(
            float learningRate,
            float biasCorrected,
            float epsilon,
            float weightDecay,
            float beta1,
            float beta2,
            boolean decoupled) {}

    /**
     * Counts one more step and returns the rates of its update. DJL's fused update computes, after
     * g *= gradientScale, m and v as usual, then p -= lrb * m / (sqrt(v) + epsb); with lrb = lr *
     * sqrt(c2) / c1 and epsb = eps * sqrt(c2) that is Adam's p -= (lr / c1) * m / (sqrt(v / c2) +
     * eps). With adamw it first applies p *= 1 - lr * weightDecay, the decoupled decay.
     *
     * @param learningRateScale multiplies the learning rate (a drift boost), as does a young
     *     model's {@link KanConfig#initialRate}
     */
    Rates advance(double learningRateScale) {
        step++;
        sinceReset++;
        double b1 = config.beta1();
        double b2 = config.beta2();
        double correction1 = 1 - Math.pow(b1, sinceReset);
        double correction2 = 1 - Math.pow(b2, sinceReset);
        // a young model's rate multiplier follows the steps it took, not those since a reset
        double learningRate = config.learningRate() * learningRateScale * config.initialRate(step);
        return new Rates(
                (float) learningRate,
                (float) (learningRate * Math.sqrt(correction2) / correction1),
                (float) (config.adamEpsilon() * Math.sqrt(correction2)),
                (float) config.weightDecay(),
                (float) b1,
                (float) b2,
                config.weightDecay() > 0);
    }
}
