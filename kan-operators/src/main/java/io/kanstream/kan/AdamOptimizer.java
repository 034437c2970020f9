package io.kanstream.kan;

import ai.djl.ndarray.NDArray;
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
     * One update. Must run inside the caller's {@link NDScope}: temporaries are released there.
     *
     * @param gradientScale multiplies every gradient first (the clipping factor)
     * @param learningRateScale multiplies the learning rate (a drift boost)
     */
    void update(
            KanNetwork network,
            List<KanLayer.Gradients> gradients,
            double gradientScale,
            double learningRateScale) {
        step++;
        double b1 = config.beta1();
        double b2 = config.beta2();
        double correction1 = 1 - Math.pow(b1, step);
        double correction2 = 1 - Math.pow(b2, step);
        double learningRate = config.learningRate() * learningRateScale;
        double stepSize = learningRate / correction1;
        double decay = 1 - learningRate * config.weightDecay();
        for (int l = 0; l < network.size(); l++) {
            NDArray[] params = parameters(network.layer(l));
            NDArray[] grads = gradients(gradients.get(l));
            for (int p = 0; p < 3; p++) {
                NDArray g = gradientScale == 1 ? grads[p] : grads[p].mul(gradientScale);
                NDArray m = first[3 * l + p];
                NDArray v = second[3 * l + p];
                m.muli(b1).addi(g.mul(1 - b1));
                v.muli(b2).addi(g.square().muli(1 - b2));
                NDArray denominator = v.div(correction2).sqrt().addi(config.adamEpsilon());
                if (config.weightDecay() > 0) {
                    params[p].muli(decay);
                }
                params[p].subi(m.mul(stepSize).divi(denominator));
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
