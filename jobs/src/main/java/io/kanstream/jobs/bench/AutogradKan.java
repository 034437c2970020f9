package io.kanstream.jobs.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Adam;
import ai.djl.training.tracker.Tracker;
import io.kanstream.kan.LayerParameters;
import java.util.ArrayList;
import java.util.List;

/**
 * The autograd baseline: efficient-kan's {@code KANLinear} written the straightforward way on DJL
 * NDArrays — Cox–de Boor bases with the knot differences recomputed per call as efficient-kan does,
 * a SiLU base branch, spline weights × scaler, MSE, gradients from DJL's {@link GradientCollector},
 * DJL's (fused) Adam. It is what the learner's closed-form gradients are measured against in the
 * same run.
 *
 * <p>Single-threaded use only: PyTorch's gradient collector is JVM-global (one collection at a time
 * per JVM). Starts from given parameters, so a fresh learner and this compute the same function;
 * {@link ModelBench} checks that before timing.
 */
final class AutogradKan implements AutoCloseable {
    private final NDManager manager;
    private final List<Layer> layers = new ArrayList<>();
    private final List<NDArray> parameters = new ArrayList<>();
    private final Adam optimizer;
    private final int inputs;
    private final int order;

    private record Layer(
            NDArray grid, // (in, m) knots, m = G + 2k + 1
            NDArray baseWeight, // (out, in)
            NDArray splineWeight, // (out, in, G+k)
            NDArray splineScaler, // (out, in)
            int in,
            int out,
            int knots) {}

    private AutogradKan(List<LayerParameters> parameters, double learningRate) {
        this.manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
        this.inputs = parameters.get(0).in();
        this.order = parameters.get(0).grid().splineOrder();
        for (LayerParameters p : parameters) {
            int in = p.in();
            int knots = p.grid().knotCount();
            int coefficients = p.grid().coefficients();
            float[] grid = new float[in * knots];
            float[][] rows = p.grid().toArray();
            for (int i = 0; i < in; i++) {
                System.arraycopy(rows[i], 0, grid, i * knots, knots);
            }
            Layer layer =
                    new Layer(
                            manager.create(grid, new Shape(in, knots)),
                            trainable(manager.create(p.baseWeight(), new Shape(p.out(), in))),
                            trainable(
                                    manager.create(
                                            p.splineWeight(),
                                            new Shape(p.out(), in, coefficients))),
                            trainable(manager.create(p.splineScaler(), new Shape(p.out(), in))),
                            in,
                            p.out(),
                            knots);
            layers.add(layer);
        }
        this.optimizer =
                Adam.builder().optLearningRateTracker(Tracker.fixed((float) learningRate)).build();
        // DJL's Adam creates its moments lazily, on the weight's manager. Created inside a step's
        // NDScope they would be closed with it; a zero-gradient first update creates them here
        // and leaves every weight as it is.
        for (int q = 0; q < this.parameters.size(); q++) {
            NDArray weight = this.parameters.get(q);
            try (NDArray zero = weight.zerosLike()) {
                optimizer.update(Integer.toString(q), weight, zero);
            }
        }
    }

    /** A baseline starting from the given parameters (those of a fresh learner). */
    static AutogradKan from(List<LayerParameters> parameters, double learningRate) {
        return new AutogradKan(parameters, learningRate);
    }

    private NDArray trainable(NDArray array) {
        array.setRequiresGradient(true);
        parameters.add(array);
        return array;
    }

    /**
     * efficient-kan's {@code b_splines}.
     *
     * @param x (batch, in)
     * @return (batch, in, G+k)
     */
    private NDArray bSplines(Layer layer, NDArray x) {
        int m = layer.knots();
        NDArray grid = layer.grid();
        NDArray xe = x.expandDims(2); // (batch, in, 1)
        NDArray bases =
                xe.gte(grid.get(cols(0, m - 1)))
                        .logicalAnd(xe.lt(grid.get(cols(1, m))))
                        .toType(DataType.FLOAT32, false); // (batch, in, m-1)
        for (int k = 1; k <= order; k++) {
            NDArray low = grid.get(cols(0, m - k - 1)); // t_j
            NDArray left =
                    xe.sub(low)
                            .div(grid.get(cols(k, m - 1)).sub(low))
                            .mul(bases.get(last(0, m - k - 1)));
            NDArray high = grid.get(cols(k + 1, m)); // t_(j+k+1)
            NDArray right =
                    high.sub(xe)
                            .div(high.sub(grid.get(cols(1, m - k))))
                            .mul(bases.get(last(1, m - k)));
            bases = left.add(right); // (batch, in, m-1-k)
        }
        return bases;
    }

    /**
     * @param x (batch, in)
     * @return (batch, out)
     */
    private NDArray forward(NDArray x) {
        for (Layer layer : layers) {
            long batch = x.getShape().get(0);
            NDArray silu = x.mul(Activation.sigmoid(x)); // (batch, in)
            NDArray base = Linear.linear(silu, layer.baseWeight()).singletonOrThrow();
            NDArray bases = bSplines(layer, x).reshape(batch, -1); // (batch, in*(G+k))
            NDArray scaled =
                    layer.splineWeight()
                            .mul(layer.splineScaler().expandDims(2))
                            .reshape(layer.out(), -1); // (out, in*(G+k))
            x = base.add(Linear.linear(bases, scaled).singletonOrThrow()); // (batch, out)
        }
        return x;
    }

    /**
     * One training step as efficient-kan's loop takes it: forward, MSE, backward, Adam (which
     * zeroes the gradients), read the loss.
     *
     * @param rows (n, inputs) row-major
     * @param labels (n) targets, one output
     * @return the batch-mean squared error before the update
     */
    float learn(float[] rows, float[] labels, int n) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray x = manager.create(rows, new Shape(n, inputs));
            NDArray y = manager.create(labels, new Shape(n, 1));
            NDArray loss;
            try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
                loss = forward(x).sub(y).square().mean();
                collector.backward(loss);
            }
            for (int q = 0; q < parameters.size(); q++) {
                NDArray weight = parameters.get(q);
                // DJL's fused Adam also zeroes the weight's gradient
                optimizer.update(Integer.toString(q), weight, weight.getGradient());
            }
            return loss.getFloat();
        }
    }

    /**
     * Scores without building an autograd graph (grad mode is off outside a collector).
     *
     * @param rows (n, inputs) row-major
     * @return (n, outputs) row-major
     */
    float[] outputs(float[] rows, int n) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            return forward(manager.create(rows, new Shape(n, inputs))).toFloatArray();
        }
    }

    private static NDIndex cols(int from, int to) {
        return new NDIndex(":, {}:{}", from, to);
    }

    private static NDIndex last(int from, int to) {
        return new NDIndex(":, :, {}:{}", from, to);
    }

    @Override
    public void close() {
        manager.close();
    }
}
