package io.kanstream.kan;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import java.util.List;

/**
 * Adam with bias correction and decoupled weight decay (AdamW), updating a network's parameters in
 * place. Moments are kept per parameter, in the order base weight, spline weight, spline scaler for
 * each layer; the step count drives the bias correction, so it is part of the state.
 */
final class AdamOptimizer implements AutoCloseable {
    private final KanConfig config;
    private final NDArray[] first; // [3 * layer + p]
    private final NDArray[] second;
    private long step;

    AdamOptimizer(KanConfig config, KanNetwork network) {
        this.config = config;
        int count = 3 * network.size();
        first = new NDArray[count];
        second = new NDArray[count];
        for (int l = 0; l < network.size(); l++) {
            NDArray[] params = parameters(network.layer(l));
            for (int p = 0; p < 3; p++) {
                first[3 * l + p] = persistent(params[p].zerosLike());
                second[3 * l + p] = persistent(params[p].zerosLike());
            }
        }
    }

    static NDArray[] parameters(KanLayer layer) {
        return new NDArray[] {layer.baseWeight, layer.splineWeight, layer.splineScaler};
    }

    static NDArray[] gradients(KanLayer.Gradients g) {
        return new NDArray[] {g.baseWeight(), g.splineWeight(), g.splineScaler()};
    }

    long step() {
        return step;
    }

    NDArray moment(int index, boolean firstMoment) {
        return firstMoment ? first[index] : second[index];
    }

    /** Replaces moments, e.g. when a refit changed a parameter's shape. */
    void resetMoments(int index, NDArray like) {
        first[index].close();
        second[index].close();
        first[index] = persistent(like.zerosLike());
        second[index] = persistent(like.zerosLike());
    }

    /** Zeroes one parameter's first moment. */
    void resetFirstMoment(int index) {
        first[index].muli(0);
    }

    void restore(long step, float[][] firstValues, float[][] secondValues) {
        this.step = step;
        for (int q = 0; q < first.length; q++) {
            first[q].set(firstValues[q]);
            second[q].set(secondValues[q]);
        }
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
     * @param learningRateScale multiplies the learning rate (a drift boost)
     */
    Rates advance(double learningRateScale) {
        step++;
        double b1 = config.beta1();
        double b2 = config.beta2();
        double correction1 = 1 - Math.pow(b1, step);
        double correction2 = 1 - Math.pow(b2, step);
        double learningRate = config.learningRate() * learningRateScale;
        return new Rates(
                (float) learningRate,
                (float) (learningRate * Math.sqrt(correction2) / correction1),
                (float) (config.adamEpsilon() * Math.sqrt(correction2)),
                (float) config.weightDecay(),
                (float) b1,
                (float) b2,
                config.weightDecay() > 0);
    }

    /**
     * One update on the device: one native call per parameter. Must run inside the caller's {@link
     * NDScope}: temporaries are released there.
     *
     * @param gradientScale multiplies every gradient first (the clipping factor)
     * @param learningRateScale multiplies the learning rate (a drift boost)
     */
    void update(
            KanNetwork network,
            List<KanLayer.Gradients> gradients,
            double gradientScale,
            double learningRateScale) {
        Rates rates = advance(learningRateScale);
        for (int l = 0; l < network.size(); l++) {
            NDArray[] params = parameters(network.layer(l));
            NDArray[] grads = gradients(gradients.get(l));
            for (int p = 0; p < 3; p++) {
                params[p]
                        .getNDArrayInternal()
                        .adamUpdate(
                                new NDList(
                                        params[p], grads[p], first[3 * l + p], second[3 * l + p]),
                                new NDList(params[p]),
                                rates.learningRate(),
                                rates.biasCorrected(),
                                rates.weightDecay(),
                                (float) gradientScale,
                                -1f,
                                rates.beta1(),
                                rates.beta2(),
                                rates.epsilon(),
                                false,
                                rates.decoupled());
            }
        }
    }

    private static NDArray persistent(NDArray array) {
        NDScope.unregister(array);
        return array;
    }

    @Override
    public void close() {
        for (int q = 0; q < first.length; q++) {
            first[q].close();
            second[q].close();
        }
    }
}
