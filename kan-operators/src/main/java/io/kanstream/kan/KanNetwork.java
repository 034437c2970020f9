package io.kanstream.kan;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** A stack of {@link KanLayer}s: forward, closed-form backward, and efficient-kan's init. */
final class KanNetwork implements AutoCloseable {
    private final List<KanLayer> layers;
    private final NDManager manager;
    private final boolean scoreOnHost;
    private HostKan host;
    private final long hostFlopsPerSample;

    /**
     * Above this much work per scoring call the device's matrix products win over the Java loops
     * (measured: 8,16,1 at batch 256 is faster in Java, 32,64,1 at batch 256 is not).
     */
    static final long SCORE_WORK_LIMIT = 2_000_000;

    /** The same bound for a training step, whose work is about three forward passes. */
    static final long TRAIN_WORK_LIMIT = 500_000;

    private long scoreWorkLimit = SCORE_WORK_LIMIT;
    private long trainWorkLimit = TRAIN_WORK_LIMIT;

    KanNetwork(List<KanLayer> layers, NDManager manager) {
        this.layers = List.copyOf(layers);
        this.manager = manager;
        // on a GPU the device does the work; on the CPU small calls are cheaper in Java
        this.scoreOnHost = !manager.getDevice().isGpu();
        long flops = 0;
        for (KanLayer layer : this.layers) {
            flops += (long) layer.in * layer.out * (layer.coefficients() + 2);
        }
        this.hostFlopsPerSample = flops;
    }

    /**
     * The parameters or grids changed on the device: the host copy is dropped, the next host call
     * takes a new one.
     */
    void parametersChanged() {
        host = null;
    }

    /** The host copy of the parameters, taken from the device if there is none. */
    HostKan host() {
        if (host == null) {
            host = HostKan.of(layers);
        }
        return host;
    }

    /** The host copy if one was taken since the last change on the device, else null. */
    HostKan hostIfPresent() {
        return host;
    }

    /** Whether scoring {@code n} rows runs in Java (on the CPU, while the call is small). */
    boolean scoresOnHost(long n) {
        return scoreOnHost && n * hostFlopsPerSample <= scoreWorkLimit;
    }

    /** Whether a training step over {@code n} rows runs in Java. */
    boolean trainsOnHost(long n) {
        return scoreOnHost && n * hostFlopsPerSample <= trainWorkLimit;
    }

    /** Moves the host/device bounds: tests use it to run the same steps both ways. */
    void workLimits(long score, long train) {
        this.scoreWorkLimit = score;
        this.trainWorkLimit = train;
    }

    /**
     * efficient-kan's initialization: Wb and S Kaiming-uniform with a = √5·scale, C the
     * least-squares fit of small noise at the grid's G + 1 interior knots.
     */
    static KanNetwork initialize(KanConfig config, NDManager manager) {
        SplittableRandom random = new SplittableRandom(config.seed());
        List<KanLayer> layers = new ArrayList<>();
        List<Integer> widths = config.layers();
        int g = config.gridSize();
        int k = config.splineOrder();
        int c = g + k;
        for (int l = 0; l + 1 < widths.size(); l++) {
            int in = widths.get(l);
            int out = widths.get(l + 1);
            KnotGrid grid = KnotGrid.uniform(in, g, k, config.gridLow(), config.gridHigh());
            float[] base = kaimingUniform(random, out * in, in, config.scaleBase());
            float[] scaler = kaimingUniform(random, out * in, in, config.scaleSpline());
            KanLayer layer =
                    new KanLayer(grid, base, new float[out * in * c], scaler, out, manager);
            // noise at the interior knots: (G+1, in, out)
            float[] points = new float[(g + 1) * in]; // (G+1, in)
            for (int j = 0; j <= g; j++) {
                for (int i = 0; i < in; i++) {
                    points[j * in + i] = grid.knot(i, k + j);
                }
            }
            double[] noise = new double[(g + 1) * in * out];
            for (int q = 0; q < noise.length; q++) {
                noise[q] = (random.nextDouble() - 0.5) * config.scaleNoise() / g;
            }
            float[] bases = layer.basesOnHost(points, g + 1); // (G+1, in, c)
            float[] spline = new float[out * in * c];
            for (int i = 0; i < in; i++) {
                double[] a = new double[(g + 1) * c];
                double[] y = new double[(g + 1) * out];
                for (int j = 0; j <= g; j++) {
                    for (int b = 0; b < c; b++) {
                        a[j * c + b] = bases[(j * in + i) * c + b];
                    }
                    for (int o = 0; o < out; o++) {
                        y[j * out + o] = noise[(j * in + i) * out + o];
                    }
                }
                double[] coefficients = SplineFit.solve(a, g + 1, c, y, out, 0); // (out, c)
                for (int o = 0; o < out; o++) {
                    for (int b = 0; b < c; b++) {
                        spline[(o * in + i) * c + b] = (float) coefficients[o * c + b];
                    }
                }
            }
            layer.setSplineWeight(spline, c);
            layers.add(layer);
        }
        return new KanNetwork(layers, manager);
    }

    private static float[] kaimingUniform(
            SplittableRandom random, int size, int fanIn, double scale) {
        double a = Math.sqrt(5) * scale;
        double gain = Math.sqrt(2 / (1 + a * a));
        double bound = gain * Math.sqrt(3.0 / fanIn);
        float[] values = new float[size];
        for (int q = 0; q < size; q++) {
            values[q] = (float) ((random.nextDouble() * 2 - 1) * bound);
        }
        return values;
    }

    List<KanLayer> layers() {
        return layers;
    }

    KanLayer layer(int index) {
        return layers.get(index);
    }

    int size() {
        return layers.size();
    }

    int inputs() {
        return layers.get(0).in;
    }

    int outputs() {
        return layers.get(layers.size() - 1).out;
    }

    NDManager manager() {
        return manager;
    }

    /** Forward pass keeping what the backward pass needs, one entry per layer. */
    List<KanLayer.Activations> forward(NDArray x) {
        List<KanLayer.Activations> activations = new ArrayList<>(layers.size());
        NDArray input = x;
        for (KanLayer layer : layers) {
            KanLayer.Activations a = layer.forward(input);
            activations.add(a);
            input = a.output();
        }
        return activations;
    }

    /** Parameter gradients of every layer, from dLoss/dOutput of the last one. */
    List<KanLayer.Gradients> backward(List<KanLayer.Activations> activations, NDArray dOut) {
        KanLayer.Gradients[] gradients = new KanLayer.Gradients[layers.size()];
        NDArray upstream = dOut;
        for (int l = layers.size() - 1; l >= 0; l--) {
            KanLayer layer = layers.get(l);
            gradients[l] = layer.parameterGradients(activations.get(l), upstream);
            if (l > 0) {
                upstream = layer.inputGradient(activations.get(l), upstream);
            }
        }
        return List.of(gradients);
    }

    /**
     * Outputs, by the host or the device, whichever is cheaper; the caller keeps the device current
     * when it is the device.
     *
     * @param x (n, in) row-major, already normalized
     * @return (n, out) row-major
     */
    float[] outputs(float[] x, int n) {
        return scoresOnHost(n) ? host().outputs(x, n) : deviceOutputs(x, n);
    }

    /** {@link #outputs} by the device's ops, whatever the device. */
    float[] deviceOutputs(float[] x, int n) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray input = manager.create(x, new Shape(n, inputs()));
            List<KanLayer.Activations> activations = forward(input);
            return activations.get(activations.size() - 1).output().toFloatArray();
        }
    }

    /**
     * Every layer's input on the host, plus the final output.
     *
     * @return [l] (n, in_l) for each layer l, then (n, out)
     */
    float[][] layerInputs(float[] x, int n) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray input = manager.create(x, new Shape(n, inputs()));
            List<KanLayer.Activations> activations = forward(input);
            float[][] result = new float[layers.size() + 1][];
            for (int l = 0; l < layers.size(); l++) {
                result[l] = activations.get(l).input().toFloatArray();
            }
            result[layers.size()] = activations.get(layers.size() - 1).output().toFloatArray();
            return result;
        }
    }

    @Override
    public void close() {
        layers.forEach(KanLayer::close);
    }
}
