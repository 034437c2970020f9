package io.kanstream.kan;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * A KAN that a stream can drive: score rows, learn from labeled mini-batches, refit its grids, and
 * round-trip its whole state through {@link LearnerStateCodec}.
 *
 * <p>Rows are passed flat, row-major, {@code (n, inputs)} floats in the user's units; the learner
 * normalizes them itself (see {@link InputNormalizer}). Not thread-safe: one learner per key, used
 * by one task thread at a time.
 */
public final class KanLearner implements AutoCloseable {
    KanConfig config;
    final Device device;
    final NDManager manager;
    final KanNetwork network;
    final AdamOptimizer optimizer;
    final InputNormalizer normalizer;
    final ActivationStatistics statistics;
    long examples;
    long skippedSteps;
    int gridEpoch;
    long version;
    double learningRateScale = 1;
    long boostStepsLeft;

    /**
     * A step ran in Java since the device's arrays were last written: the network's host copy holds
     * the current parameters and moments, and {@link #syncDevice} must run before anything reads or
     * changes them on the device.
     */
    private boolean deviceBehind;

    KanLearner(
            KanConfig config, NDManager manager, KanNetwork network, InputNormalizer normalizer) {
        config.task().checkOutputs(network.outputs());
        this.config = config;
        this.manager = manager;
        this.device = manager.getDevice();
        this.network = network;
        this.optimizer = new AdamOptimizer(config, network);
        this.normalizer = normalizer;
        int[] widths = new int[network.size()];
        for (int l = 0; l < network.size(); l++) {
            widths[l] = network.layer(l).in;
        }
        this.statistics = new ActivationStatistics(widths, config.statsWindow());
    }

    /** A freshly initialized learner (efficient-kan's initialization) on the configured device. */
    public static KanLearner create(KanConfig config) {
        NDManager manager =
                NDManager.newBaseManager(DeviceSetting.resolve(config.device()), "PyTorch");
        try {
            KanNetwork network = KanNetwork.initialize(config, manager);
            return new KanLearner(
                    config,
                    manager,
                    network,
                    new InputNormalizer(
                            config.normalize(), config.inputs(), config.normalizerHorizon()));
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * A learner with the given parameters, fresh optimizer state, and the normalizer and statistics
     * empty — as for a model imported from another implementation.
     */
    public static KanLearner fromParameters(KanConfig config, List<LayerParameters> layers) {
        checkArchitecture(config, layers);
        NDManager manager =
                NDManager.newBaseManager(DeviceSetting.resolve(config.device()), "PyTorch");
        try {
            java.util.ArrayList<KanLayer> built = new java.util.ArrayList<>();
            for (LayerParameters p : layers) {
                built.add(
                        new KanLayer(
                                p.grid(),
                                p.baseWeight(),
                                p.splineWeight(),
                                p.splineScaler(),
                                p.out(),
                                manager));
            }
            return new KanLearner(
                    config,
                    manager,
                    new KanNetwork(built, manager),
                    new InputNormalizer(
                            config.normalize(), config.inputs(), config.normalizerHorizon()));
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    private static void checkArchitecture(KanConfig config, List<LayerParameters> layers) {
        if (layers.size() != config.layers().size() - 1) {
            throw new IllegalArgumentException(
                    "config names "
                            + (config.layers().size() - 1)
                            + " layers, got parameters for "
                            + layers.size());
        }
        for (int l = 0; l < layers.size(); l++) {
            LayerParameters p = layers.get(l);
            if (p.in() != config.layers().get(l) || p.out() != config.layers().get(l + 1)) {
                throw new IllegalArgumentException(
                        "layer "
                                + l
                                + " is "
                                + p.in()
                                + " -> "
                                + p.out()
                                + ", config says "
                                + config.layers().get(l)
                                + " -> "
                                + config.layers().get(l + 1));
            }
            if (p.grid().gridSize() != config.gridSize()
                    || p.grid().splineOrder() != config.splineOrder()) {
                throw new IllegalArgumentException(
                        "layer "
                                + l
                                + " has grid size "
                                + p.grid().gridSize()
                                + " and spline order "
                                + p.grid().splineOrder()
                                + ", config says "
                                + config.gridSize()
                                + " and "
                                + config.splineOrder());
            }
        }
    }

    /** Writes the host copy back into the device's arrays if a host step left them behind. */
    void syncDevice() {
        if (deviceBehind) {
            network.host().writeTo(network, optimizer);
            deviceBehind = false;
        }
    }

    /** One Adam moment of one parameter ({@code 3 · layer + p}), wherever it is current. */
    float[] moment(int index, boolean first) {
        HostKan host = network.hostIfPresent();
        if (host != null && host.hasMoments()) {
            return host.moment(index, first);
        }
        return optimizer.moment(index, first).toFloatArray();
    }

    /** Every layer's parameters, copied to the host. */
    public List<LayerParameters> parameters() {
        HostKan host = network.hostIfPresent();
        if (host != null) {
            return host.parameters(); // current: a device change would have dropped it
        }
        java.util.ArrayList<LayerParameters> result = new java.util.ArrayList<>();
        for (KanLayer layer : network.layers()) {
            result.add(
                    new LayerParameters(
                            layer.grid(),
                            layer.baseWeight.toFloatArray(),
                            layer.splineWeight.toFloatArray(),
                            layer.splineScaler.toFloatArray(),
                            layer.out));
        }
        return result;
    }

    /** Every edge function of a layer, sampled at {@code points} points per input. */
    public EdgeCurves edgeCurves(int layer, int points) {
        syncDevice();
        return EdgeCurves.sample(this, layer, points);
    }

    /** Whether inputs are normalized; an exported model then expects normalized inputs. */
    public boolean normalizesInputs() {
        return normalizer.enabled();
    }

    /** Per input feature, the mean subtracted and the scale divided by before layer 0. */
    public double[][] inputTransform() {
        int in = network.inputs();
        double[][] transform = new double[2][in];
        for (int d = 0; d < in; d++) {
            transform[0][d] = normalizer.offset(d);
            transform[1][d] = normalizer.scale(d);
        }
        return transform;
    }

    public KanConfig config() {
        return config;
    }

    public Device device() {
        return device;
    }

    public int inputs() {
        return network.inputs();
    }

    public int outputs() {
        return network.outputs();
    }

    /** Applied gradient steps. */
    public long steps() {
        return optimizer.step();
    }

    public long skippedSteps() {
        return skippedSteps;
    }

    /** Labeled examples learned from (in applied or skipped steps). */
    public long examples() {
        return examples;
    }

    /** Grid refits so far. */
    public int gridEpoch() {
        return gridEpoch;
    }

    /** Increases with every change to the model: an applied step or a refit. */
    public long modelVersion() {
        return version;
    }

    /** The knot grid of one layer. */
    public KnotGrid grid(int layer) {
        return network.layer(layer).grid();
    }

    public int layerCount() {
        return network.size();
    }

    /**
     * The network's outputs: logits for classification, values in label units for regression.
     *
     * @param rows (n, inputs) row-major, raw features
     * @return (n, outputs) row-major
     */
    public float[] outputs(float[] rows, int n) {
        checkRows(rows, n);
        float[] z = normalizer.apply(rows, n);
        if (!network.scoresOnHost(n)) {
            syncDevice();
        }
        float[] outputs = network.outputs(z, n);
        if (config.task() == Task.REGRESSION && normalizer.enabled()) {
            for (int q = 0; q < outputs.length; q++) {
                outputs[q] = (float) normalizer.networkToTarget(outputs[q]);
            }
        }
        return outputs;
    }

    /**
     * One mini-batch gradient step. Inputs and labels are checked first; a batch whose loss or
     * gradient is not finite leaves every parameter and moment as it was, and is counted.
     *
     * @param rows (n, inputs) row-major, raw features
     * @param labels (n) labels: values, 0/1, or class indices
     */
    public StepResult learn(float[] rows, double[] labels) {
        int n = labels.length;
        checkRows(rows, n);
        for (int s = 0; s < n; s++) {
            config.task().checkLabel(labels[s], network.outputs(), s);
        }
        normalizer.observe(rows, n);
        double[] targets = labels.clone();
        if (config.task() == Task.REGRESSION) {
            normalizer.observeTargets(labels);
            for (int s = 0; s < n; s++) {
                targets[s] = normalizer.targetToNetwork(labels[s]);
            }
        }
        float[] z = normalizer.apply(rows, n);
        examples += n;
        if (network.trainsOnHost(n)) {
            return learnOnHost(rows, z, targets);
        }
        syncDevice();
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray x = manager.create(z, new Shape(n, network.inputs()));
            List<KanLayer.Activations> activations = network.forward(x);
            float[][] layerInputs = new float[network.size()][];
            layerInputs[0] = z;
            for (int l = 1; l < network.size(); l++) {
                layerInputs[l] = activations.get(l).input().toFloatArray();
            }
            float[] outputs = activations.get(network.size() - 1).output().toFloatArray();
            statistics.record(rows, layerInputs, n, grids());

            float[] gradient = new float[outputs.length];
            double loss =
                    config.task().lossAndGradient(outputs, network.outputs(), targets, gradient);
            if (!Double.isFinite(loss)) {
                skippedSteps++;
                return new StepResult(loss, Double.NaN, false, steps(), skippedSteps);
            }
            NDArray dOut = manager.create(gradient, new Shape(n, network.outputs()));
            List<KanLayer.Gradients> gradients = network.backward(activations, dOut);
            double norm = globalNorm(gradients);
            if (!Double.isFinite(norm)) {
                skippedSteps++;
                return new StepResult(loss, norm, false, steps(), skippedSteps);
            }
            optimizer.update(network, gradients, clipScale(norm), learningRateScale);
            network.parametersChanged();
            return applied(loss, norm);
        }
    }

    /** The same step as the device's, in Java on the network's host copy (see {@link HostKan}). */
    private StepResult learnOnHost(float[] rows, float[] z, double[] targets) {
        int n = targets.length;
        HostKan host = network.host();
        if (!host.hasMoments()) {
            host.takeMoments(optimizer);
        }
        HostKan.Pass pass = host.forward(z, n);
        statistics.record(rows, pass.layerInputs(), n, grids());
        float[] gradient = new float[pass.output.length];
        double loss =
                config.task().lossAndGradient(pass.output, network.outputs(), targets, gradient);
        if (!Double.isFinite(loss)) {
            skippedSteps++;
            return new StepResult(loss, Double.NaN, false, steps(), skippedSteps);
        }
        double norm = host.backward(pass, gradient);
        if (!Double.isFinite(norm)) {
            skippedSteps++;
            return new StepResult(loss, norm, false, steps(), skippedSteps);
        }
        host.update(optimizer.advance(learningRateScale), (float) clipScale(norm));
        deviceBehind = true;
        return applied(loss, norm);
    }

    /** The factor that brings the gradient's norm down to the clip norm, 1 if it is below. */
    private double clipScale(double norm) {
        return config.clipNorm() > 0 && norm > config.clipNorm() ? config.clipNorm() / norm : 1;
    }

    private StepResult applied(double loss, double norm) {
        if (boostStepsLeft > 0 && --boostStepsLeft == 0) {
            learningRateScale = 1;
        }
        version++;
        return new StepResult(loss, norm, true, steps(), skippedSteps);
    }

    private static double globalNorm(List<KanLayer.Gradients> gradients) {
        NDArray total = null;
        for (KanLayer.Gradients g : gradients) {
            for (NDArray part : AdamOptimizer.gradients(g)) {
                NDArray squares = part.square().sum();
                total = total == null ? squares : total.add(squares);
            }
        }
        return Math.sqrt(total.getFloat());
    }

    /**
     * Multiplies the learning rate by {@code factor} for the next {@code steps} applied steps: how
     * a detected drift speeds up adaptation without raising the rate for good.
     */
    public void boostLearningRate(double factor, long steps) {
        if (!(factor > 0) || steps < 0) {
            throw new IllegalArgumentException(
                    "boost needs a positive factor and steps >= 0, got " + factor + ", " + steps);
        }
        learningRateScale = steps == 0 ? 1 : factor;
        boostStepsLeft = steps;
    }

    /** The current learning-rate multiplier (1 unless boosted). */
    public double learningRateScale() {
        return learningRateScale;
    }

    /**
     * The scale of the labels in their own units: the running std for regression (1 before there is
     * one), 1 for classification. Lets error-based drift detectors see unit-free errors.
     */
    public double labelScale() {
        if (config.task() != Task.REGRESSION || !normalizer.enabled()) {
            return 1;
        }
        double std = normalizer.target().std(0);
        return std > 1e-9 ? std : 1;
    }

    /**
     * The largest fraction of any layer's inputs that fell outside its grid since the last refit —
     * where only the SiLU branch acts.
     */
    public double outsideGridFraction() {
        return statistics.outsideFraction();
    }

    /** Examples seen since the last refit. */
    public long examplesSinceRefit() {
        return statistics.seenSinceRefit();
    }

    /** Refits every grid from the window of recent inputs, keeping the grid size. */
    public RefitResult refitFromStatistics() {
        int n = statistics.windowSize();
        if (n == 0) {
            throw new IllegalStateException("no inputs seen yet: nothing to refit the grids from");
        }
        return refitNormalized(
                normalizer.apply(statistics.windowRows(), n),
                n,
                config.gridSize(),
                config.refitBlend(),
                config.refitMargin());
    }

    /**
     * Refits every grid from a sample of raw inputs, each layer from its own inputs.
     *
     * @param rows (n, inputs) row-major, raw features
     * @param gridSize the grid size afterwards: the current one, or finer/coarser (grid extension)
     */
    public RefitResult refit(float[] rows, int n, int gridSize) {
        checkRows(rows, n);
        if (gridSize < 1) {
            throw new IllegalArgumentException("grid size must be at least 1, got " + gridSize);
        }
        return refitNormalized(normalizer.apply(rows, n), n, gridSize, 1.0, 0);
    }

    private RefitResult refitNormalized(
            float[] z, int n, int gridSize, double blend, double relativeMargin) {
        syncDevice();
        int oldSize = config.gridSize();
        GridRefitter.Outcome outcome =
                new GridRefitter(config).refit(network, z, n, gridSize, blend, relativeMargin);
        network.parametersChanged();
        if (gridSize != oldSize) {
            config = config.toBuilder().gridSize(gridSize).build();
            for (int l = 0; l < network.size(); l++) {
                optimizer.resetMoments(3 * l + 1, network.layer(l).splineWeight);
            }
        } else {
            // The refit re-expressed the base and spline weights: their momentum points along
            // the old coordinates. Keep the second moments (the scale is still right) so the
            // next steps are not oversized, but drop the directions.
            for (int l = 0; l < network.size(); l++) {
                optimizer.resetFirstMoment(3 * l);
                optimizer.resetFirstMoment(3 * l + 1);
            }
        }
        statistics.resetSinceRefit();
        gridEpoch++;
        version++;
        return new RefitResult(gridEpoch, gridSize, n, outcome.insideFraction());
    }

    KnotGrid[] grids() {
        KnotGrid[] grids = new KnotGrid[network.size()];
        for (int l = 0; l < grids.length; l++) {
            grids[l] = network.layer(l).grid();
        }
        return grids;
    }

    void checkRows(float[] rows, int n) {
        int in = network.inputs();
        if (rows.length != n * in) {
            throw new IllegalArgumentException(
                    "expected "
                            + n
                            + " rows of "
                            + in
                            + " features ("
                            + (n * in)
                            + " values), got "
                            + rows.length
                            + " values");
        }
        for (int q = 0; q < rows.length; q++) {
            if (!Float.isFinite(rows[q])) {
                throw new IllegalArgumentException(
                        "row " + (q / in) + ", feature " + (q % in) + " is " + rows[q]);
            }
        }
    }

    @Override
    public void close() {
        optimizer.close();
        network.close();
        manager.close();
    }
}
