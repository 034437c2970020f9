package io.kanstream.kan;

import ai.djl.Device;
import java.util.List;

/**
 * A KAN that a stream can drive: score rows, learn from labeled mini-batches, refit its grids, and
 * round-trip its whole state through {@link LearnerStateCodec}.
 *
 * <p>Rows are passed flat, row-major, {@code (n, inputs)} floats in the user's units; the learner
 * normalizes them itself (see {@link InputNormalizer}). Not thread-safe: one learner per key, used
 * by one task thread at a time.
 *
 * <p>A learner may carry companions ({@link KanConfig#companionRates()}): whole learners of the
 * same shape that score, learn, refit and respond to drift with it, their outputs mixed with its
 * own by recent loss ({@link LearnerMixture}). Everything public then answers for the mixture,
 * except what describes one network (parameters, grids, curves, counters), which is this learner's.
 */
public final class KanLearner implements AutoCloseable {
    KanConfig config;
    final Device device;
    final HostKan host;
    final AdamOptimizer optimizer;
    final InputNormalizer normalizer;
    final ActivationStatistics statistics;
    final OutputCalibration calibration;
    long examples;
    long skippedSteps;
    long rejectedRefits;
    int declinedInARow; // refits declined since the last one applied (RefitPolicy's backoff)
    int gridEpoch;
    long version;
    double learningRateScale = 1;
    long boostStepsLeft;
    int encodedSize = 16 * 1024; // the last encoding's size, to size the next one's buffer

    /** The companions this learner's outputs are mixed with, or null for a single KAN. */
    LearnerMixture mixture;

    /** The average of this learner's recent parameters, mixed into its outputs; null for none. */
    ParameterAverage average;

    /** On the CPU small calls run in Java; on a GPU everything runs on the device. */
    private final boolean hostFirst;

    private long scoreWorkLimit = SCORE_WORK_LIMIT;
    private long trainWorkLimit = TRAIN_WORK_LIMIT;

    /**
     * Above this much work per scoring call the device's matrix products may win over the Java
     * loops. Scoring in Java costs the same per row at any batch and skips the zero bases; below
     * this bound it was faster than the device at every shape and batch measured, up to 32,64,1 at
     * 1,024 rows (docs/performance.md, "Host or device").
     */
    static final long SCORE_WORK_LIMIT = 24_000_000;

    /** How many rows of a scoring call that runs on the device enter the input summaries. */
    static final int DEVICE_CALL_SAMPLE = 64;

    /**
     * The bound for a training step (about three forward passes of work). Work alone does not place
     * the crossover: the device's step wins for 32,64,1 from 64 rows, while 8,16,1 stays faster in
     * Java to 2,048 (docs/performance.md, "Host or device"); this bound errs towards the device for
     * wide layers.
     */
    static final long TRAIN_WORK_LIMIT = 500_000;

    /**
     * The device's mirror, built when a call first needs it. At most one side is ahead of the
     * other: a step in Java leaves the mirror behind until {@link #onDevice} writes it; a step on
     * the device leaves the host behind until {@link #host} reads it back; a refit changes the
     * grids on the host and drops the mirror.
     */
    private DeviceKan mirror;

    private boolean mirrorBehind;
    private boolean hostBehind;

    /**
     * The slot of a {@link KanPool} this learner's parameters are resident in, or null. The same
     * protocol as the mirror's: a step in the pool leaves the host behind until {@link #host} reads
     * the slot back; anything that changes the host leaves the slot behind until the pool uploads
     * it again before its next call.
     */
    KanPool pool;

    int poolSlot = -1;
    boolean poolBehind;
    boolean hostBehindPool;

    KanLearner(KanConfig config, HostKan host, InputNormalizer normalizer) {
        config.task().checkOutputs(host.outputs());
        this.config = config;
        this.device = DeviceSetting.resolve(config.device());
        this.hostFirst = !device.isGpu();
        this.host = host;
        this.optimizer = new AdamOptimizer(config);
        this.normalizer = normalizer;
        this.statistics = new ActivationStatistics(grids(), config.statsHorizon());
        this.calibration =
                new OutputCalibration(
                        config.task(),
                        config.logitBound(),
                        host.outputs(),
                        config.calibrationBias());
    }

    /**
     * A freshly initialized learner (efficient-kan's initialization) on the configured device, with
     * fresh companions if the configuration asks for them.
     */
    public static KanLearner create(KanConfig config) {
        KanLearner learner = new KanLearner(config, HostKan.initialize(config), normalizer(config));
        learner.mixture = LearnerMixture.create(config);
        learner.average = freshAverage(config, learner.host);
        return learner;
    }

    /**
     * A learner with the given parameters, fresh optimizer state, and the normalizer and statistics
     * empty — as for a model imported from another implementation. Companions the configuration
     * asks for start fresh.
     */
    public static KanLearner fromParameters(KanConfig config, List<LayerParameters> layers) {
        KanLearner learner = withParameters(config, layers);
        learner.mixture = LearnerMixture.create(config);
        learner.average = freshAverage(config, learner.host);
        return learner;
    }

    /** An average starting at the host's parameters, if the configuration asks for one. */
    private static ParameterAverage freshAverage(KanConfig config, HostKan host) {
        return config.averageHorizon() > 0 ? ParameterAverage.of(config, host) : null;
    }

    /**
     * {@link #fromParameters} without companions or average, taking the parameters' arrays without
     * copies: the codec restores those, and the arrays it read are nobody else's.
     */
    static KanLearner decoded(KanConfig config, List<LayerParameters> layers) {
        checkArchitecture(config, layers);
        return new KanLearner(config, HostKan.of(layers, false), normalizer(config));
    }

    /** {@link #fromParameters} without companions. */
    private static KanLearner withParameters(KanConfig config, List<LayerParameters> layers) {
        checkArchitecture(config, layers);
        return new KanLearner(config, HostKan.of(layers), normalizer(config));
    }

    private static InputNormalizer normalizer(KanConfig config) {
        return new InputNormalizer(
                config.normalize(),
                config.inputs(),
                config.normalizerHorizon(),
                config.normalizerWarmup());
    }

    /**
     * Gives this learner companions at the learning-rate factors {@code rates} (none for an empty
     * list), fresh ones in place of any it has at other factors; companions at the same factors are
     * kept as they are. How a job's shared model takes the job's setting when a savepoint restored
     * it with other companions, or none.
     */
    public void companionsAt(List<Double> rates) {
        if (config.companionRates().equals(rates)) {
            return;
        }
        if (mixture != null) {
            mixture.close();
        }
        config = config.toBuilder().companionRates(rates).build();
        mixture = LearnerMixture.create(config);
    }

    /** The companions' count: 0 for a single KAN. */
    public int companions() {
        return mixture == null ? 0 : mixture.companions.length;
    }

    /**
     * The weight of each member in the outputs, this learner's first and then each companion's (see
     * {@link LearnerMixture}); {@code [1]} for a single KAN.
     */
    public double[] memberWeights() {
        return mixture == null ? new double[] {1} : mixture.weights();
    }

    /**
     * The weights of this learner's network and of its parameter average in its outputs, in that
     * order (see {@link ParameterAverage}); null when it has no average.
     */
    public double[] averageWeights() {
        return average == null ? null : average.weights();
    }

    /** The parameter average with every step so far in it, or null for none. */
    ParameterAverage currentAverage() {
        if (average != null) {
            average.catchUp(host());
        }
        return average;
    }

    /** Applies {@code action} to each companion, if there are any. */
    private void companionsDo(java.util.function.Consumer<KanLearner> action) {
        if (mixture != null) {
            mixture.forEach(action);
        }
    }

    /** The host copy, brought up to date first if a device step left it behind. */
    HostKan host() {
        if (hostBehind) {
            mirror.read(host);
            hostBehind = false;
        }
        if (hostBehindPool) {
            hostBehindPool = false;
            pool.read(poolSlot, host, average);
        }
        return host;
    }

    /** The host copy changed: the mirror and the pool's slot are behind it now. */
    private void hostChanged() {
        mirrorBehind = mirror != null;
        poolBehind = pool != null;
    }

    /** A pool step changed the slot: the host and the mirror are behind it now. */
    void poolStepped() {
        hostBehindPool = true;
        mirrorBehind = mirror != null;
    }

    /**
     * Brings the host copy up to date after a step on the device or in a {@link KanPool} slot.
     * Afterwards encoding or copying the learner only reads it, as it must when another thread may
     * encode it meanwhile (Flink's asynchronous snapshots of heap state). Free when nothing ran on
     * the device.
     */
    public void syncHost() {
        host();
        companionsDo(KanLearner::syncHost);
    }

    /** The device's mirror, built or brought up to date first. */
    DeviceKan onDevice() {
        if (mirror == null) {
            mirror = DeviceKan.of(host(), device);
            mirrorBehind = false;
        } else if (mirrorBehind) {
            mirror.write(host());
            mirrorBehind = false;
        }
        return mirror;
    }

    /** Drops the mirror after the host's grids changed; the next device call builds it anew. */
    private void dropMirror() {
        if (mirror != null) {
            host(); // nothing on the device may be lost
            mirror.close();
            mirror = null;
            mirrorBehind = false;
        }
    }

    private boolean scoresOnHost(long n) {
        return hostFirst && n * host.flopsPerSample() <= scoreWorkLimit;
    }

    private boolean trainsOnHost(long n) {
        return hostFirst && n * host.flopsPerSample() <= trainWorkLimit;
    }

    /**
     * Sends every call of this learner through its device mirror (DJL), however small: one device
     * call per key and call, what a bench sets beside {@link KanPool}, and what a GPU does anyway.
     */
    public void alwaysOnDevice() {
        workLimits(-1, -1);
    }

    /** Moves the host/device bounds: tests use it to run the same steps both ways. */
    void workLimits(long score, long train) {
        this.scoreWorkLimit = score;
        this.trainWorkLimit = train;
        companionsDo(c -> c.workLimits(score, train));
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

    /** One Adam moment of one parameter ({@code 3 · layer + p}), current; not a copy. */
    float[] moment(int index, boolean first) {
        return host().moment(index, first);
    }

    /** Every layer's parameters, copied. */
    public List<LayerParameters> parameters() {
        return host().parameters();
    }

    /** Every edge function of a layer, sampled at {@code points} points per input. */
    public EdgeCurves edgeCurves(int layer, int points) {
        return EdgeCurves.sample(this, layer, points);
    }

    /** Whether inputs are normalized; an exported model then expects normalized inputs. */
    public boolean normalizesInputs() {
        return normalizer.enabled();
    }

    /** Per input feature, the mean subtracted and the scale divided by before layer 0. */
    public double[][] inputTransform() {
        int in = host.inputs();
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
        return host.inputs();
    }

    public int outputs() {
        return host.outputs();
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
        return host.layer(layer).grid;
    }

    public int layerCount() {
        return host.size();
    }

    /**
     * The network's outputs: logits for classification, values in label units for regression.
     *
     * @param rows (n, inputs) row-major, raw features
     * @return (n, outputs) row-major
     */
    public float[] outputs(float[] rows, int n) {
        return outputs(rows, n, false, false);
    }

    /**
     * Scores events as they arrive: {@link #outputs}, and every layer's inputs go into the running
     * summaries that grid refits and the refit policy read. Use it once per event; use {@link
     * #outputs} for probes, exports and evaluation.
     *
     * @param rows (n, inputs) row-major, raw features
     * @return (n, outputs) row-major
     */
    public float[] score(float[] rows, int n) {
        return outputs(rows, n, true, false);
    }

    /**
     * {@link #score} of one event whose label came with it, for a step on it alone right after (a
     * batch of one): the row is standardized with the input moments it will have once that step's
     * normalizer has taken it, which is what the step computes, so the step starts from this very
     * forward pass instead of running it again. With companions it is {@link #score}: their mixture
     * learns from outputs standardized as they were before the row.
     *
     * @param row (1, inputs), raw features
     * @return (1, outputs)
     */
    public float[] scoreBeforeItsStep(float[] row) {
        return outputs(row, 1, true, mixture == null);
    }

    /**
     * Records rows in the input summaries without scoring them for anyone: what a sample of history
     * does before {@link #refitFromStatistics}.
     */
    public void observe(float[] rows, int n) {
        checkRows(rows, n);
        host().outputs(normalizer.apply(rows, n), n, statistics);
        companionsDo(c -> c.observe(rows, n));
    }

    /** This learner's outputs mixed with its companions', if it has any. */
    private float[] outputs(float[] rows, int n, boolean record, boolean asStepped) {
        float[] own = ownOutputs(rows, n, record, asStepped);
        return mixture == null ? own : mixture.mix(own, rows, n, record);
    }

    /** This learner's outputs, mixed with its parameter average's if it has one. */
    float[] ownOutputs(float[] rows, int n, boolean record) {
        return ownOutputs(rows, n, record, false);
    }

    /**
     * @param asStepped one row, standardized as the step on it right after will standardize it, and
     *     its forward pass kept for that step when both run on the host
     */
    private float[] ownOutputs(float[] rows, int n, boolean record, boolean asStepped) {
        checkRows(rows, n);
        float[] z;
        HostKan.Pass pass = null;
        float[] outputs;
        if (asStepped && record && n == 1 && scoresOnHost(1) && trainsOnHost(1)) {
            z = normalizer.applyAsObserved(rows);
            // without a normalizer z is the caller's array, which the kept pass must not share
            pass = host().scoreRow(z == rows ? z.clone() : z, statistics);
            outputs = pass.output.clone();
            finish(outputs);
        } else {
            z = normalizer.apply(rows, n);
            outputs = networkOutputs(z, n, record);
        }
        float[] averaged = average == null ? null : averageOutputs(z, n);
        // only a scored event is kept for its step: outputs for a probe or a loss must not take
        // a slot from an event scored before them
        if (record && n == 1 && (average != null || pass != null)) {
            ScoredRow.remember(this, rows, z, outputs, averaged, pass);
        }
        return average == null ? outputs : average.mix(outputs, averaged, n);
    }

    /**
     * The parameter average's finished outputs on normalized rows. Steps taken on a device are
     * averaged in when the host copy is current anyway: bringing it up to date for every scored
     * event would cost a device round trip each. (A pool keeps a learner's average in its slot.)
     */
    private float[] averageOutputs(float[] z, int n) {
        if (!hostBehind) {
            average.catchUp(host);
        }
        float[] outputs = average.outputs(host, z, n);
        finish(outputs);
        return outputs;
    }

    /** The network's own finished outputs on normalized rows, without the average. */
    private float[] networkOutputs(float[] z, int n, boolean record) {
        float[] outputs;
        if (scoresOnHost(n)) {
            outputs = host().outputs(z, n, record ? statistics : null);
        } else {
            outputs = onDevice().outputs(z, n);
            if (record) {
                // a large call: its first rows stand for it in the summaries
                int sample = Math.min(n, DEVICE_CALL_SAMPLE);
                host().outputs(
                                java.util.Arrays.copyOf(z, sample * host.inputs()),
                                sample,
                                statistics);
            }
        }
        finish(outputs);
        return outputs;
    }

    /**
     * Raw network outputs into what a caller sees, in place: the logit bound and the calibration
     * for classification, label units for regression.
     */
    void finish(float[] outputs) {
        calibration.bound(outputs);
        calibration.apply(outputs);
        if (config.task() == Task.REGRESSION && normalizer.enabled()) {
            for (int q = 0; q < outputs.length; q++) {
                outputs[q] = (float) normalizer.networkToTarget(outputs[q]);
            }
        }
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
        if (mixture != null || average != null) {
            checkBatch(rows, labels); // before any member learns from them
        }
        // the event's own score, if this row was the last one scored and nothing changed since
        ScoredRow scored = n == 1 ? ScoredRow.recall(this, rows) : null;
        if (mixture != null) {
            mixture.learn(ownOutputs(rows, n, false), rows, labels, labelScale());
        }
        // the average is charged, and the network steps, on the rows as the normalizer has them
        // once it has learned from them; an event scored with scoreBeforeItsStep was scored so
        float[] z = observeRows(rows, labels);
        boolean asScored = scored != null && java.util.Arrays.equals(scored.z, z);
        if (average != null) {
            if (asScored) {
                average.learn(scored.own, scored.average, labels, labelScale());
            } else {
                average.learn(
                        networkOutputs(z, n, false), averageOutputs(z, n), labels, labelScale());
            }
        }
        Batch batch = new Batch(z, observeTargets(labels));
        KanKernel kernel = trainsOnHost(n) ? host() : onDevice();
        HostKan.Pass kept = asScored && kernel == host ? scored.pass : null;
        double loss;
        double norm;
        try (KanKernel.Step step = kept != null ? kept : kernel.forward(batch.inputs(), n)) {
            float[] outputs = step.outputs();
            float[] gradient = new float[outputs.length];
            loss = lossAndGradient(outputs, batch.targets(), gradient);
            if (!Double.isFinite(loss)) {
                return skipped(loss, Double.NaN);
            }
            norm = step.backward(gradient);
            if (!Double.isFinite(norm)) {
                return skipped(loss, norm);
            }
            step.update(optimizer.advance(learningRateScale), (float) clipScale(norm));
        }
        stepped(kernel);
        return applied(loss, norm);
    }

    /** A step changed the model in {@code kernel}: every other copy is behind it now. */
    private void stepped(KanKernel kernel) {
        if (kernel == host) {
            hostChanged();
            if (average != null) {
                average.stepped(host, optimizer.step());
            }
        } else {
            hostBehind = true;
            poolBehind = pool != null;
            if (average != null) {
                average.steppedElsewhere(optimizer.step());
            }
        }
    }

    /**
     * A labeled mini-batch ready for a step: normalized inputs and targets in network units.
     *
     * @param inputs (n, inputs) row-major, normalized
     * @param targets (n) labels, regression targets normalized
     */
    record Batch(float[] inputs, double[] targets) {}

    /**
     * A step's first half, shared by {@link #learn} and {@link KanPool#learn}: checks the rows and
     * labels, lets the normalizer learn from the rows, and standardizes them as the step sees them.
     * The parameter average is charged on these.
     *
     * @return (n, inputs) normalized
     */
    float[] observeRows(float[] rows, double[] labels) {
        int n = labels.length;
        checkBatch(rows, labels);
        normalizer.observe(rows, n);
        return normalizer.apply(rows, n);
    }

    /**
     * A step's second half, after {@link #observeRows}: the targets in network units (the target
     * moments learn from the labels only now, after everything that scores the rows in label
     * units), and the examples counted.
     */
    double[] observeTargets(double[] labels) {
        int n = labels.length;
        double[] targets = labels.clone();
        if (config.task() == Task.REGRESSION) {
            normalizer.observeTargets(labels);
            for (int s = 0; s < n; s++) {
                targets[s] = normalizer.targetToNetwork(labels[s]);
            }
        }
        examples += n;
        return targets;
    }

    /** Throws, naming what is wrong, unless the rows and labels make a batch for this learner. */
    void checkBatch(float[] rows, double[] labels) {
        int n = labels.length;
        checkRows(rows, n);
        for (int s = 0; s < n; s++) {
            config.task().checkLabel(labels[s], host.outputs(), s);
        }
    }

    /** A step that left the parameters as they were: its loss or gradient was not finite. */
    StepResult skipped(double loss, double norm) {
        skippedSteps++;
        return new StepResult(loss, norm, false, steps(), skippedSteps);
    }

    /**
     * The loss of raw network outputs through the logit bound, and its gradient with respect to the
     * raw outputs. The calibrator learns from the same bounded logits, which are what the examples
     * were scored with, before the network moves.
     */
    double lossAndGradient(float[] raw, double[] targets, float[] gradient) {
        float[] bounded = raw.clone();
        calibration.bound(bounded);
        double loss = config.task().lossAndGradient(bounded, host.outputs(), targets, gradient);
        if (Double.isFinite(loss)) {
            calibration.chainGradient(bounded, gradient);
            calibration.learn(bounded, targets);
        }
        return loss;
    }

    /** The factor that brings the gradient's norm down to the clip norm, 1 if it is below. */
    double clipScale(double norm) {
        return config.clipNorm() > 0 && norm > config.clipNorm() ? config.clipNorm() / norm : 1;
    }

    StepResult applied(double loss, double norm) {
        if (boostStepsLeft > 0 && --boostStepsLeft == 0) {
            learningRateScale = 1;
        }
        version++;
        return new StepResult(loss, norm, true, steps(), skippedSteps);
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
        companionsDo(c -> c.boostLearningRate(factor, steps));
    }

    /**
     * Multiplies the learning rate by {@code factor} for every following step until set again, and
     * ends any boost: how an offline trainer anneals the rate towards the end of its passes. Set it
     * back to 1 before the learner goes live, since the multiplier is part of its state.
     */
    public void scaleLearningRate(double factor) {
        if (!(factor > 0) || !Double.isFinite(factor)) {
            throw new IllegalArgumentException(
                    "learning-rate factor must be a finite number > 0, got " + factor);
        }
        learningRateScale = factor;
        boostStepsLeft = 0;
        companionsDo(c -> c.scaleLearningRate(factor));
    }

    /** The current learning-rate multiplier (1 unless boosted or scaled). */
    public double learningRateScale() {
        return learningRateScale;
    }

    /**
     * Whether the calibration learns Platt's bias beside its temperature: for a binary model whose
     * configuration asks for it ({@link KanConfig#calibrationBias()}), for no other.
     */
    public boolean calibrationLearnsBias() {
        return calibration.learnsBias();
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
     * The largest fraction of any layer's recent input mass (over all its features) outside its
     * grids' interiors, where only the SiLU branch acts.
     */
    public double outsideGridFraction() {
        return statistics.outsideFraction(grids());
    }

    /**
     * How far the interior knots sit from the quantiles of the recent inputs, in probability mass
     * (see {@link ActivationStatistics#knotMisfit}).
     */
    public double knotMisfit() {
        return statistics.knotMisfit(grids());
    }

    /** {@link #outsideGridFraction()} of one layer. */
    public double outsideGridFraction(int layer) {
        return statistics.outsideFraction(layer, grid(layer));
    }

    /** {@link #knotMisfit()} of one layer. */
    public double knotMisfit(int layer) {
        return statistics.knotMisfit(layer, grid(layer));
    }

    /** Examples scored since the last refit. */
    public long examplesSinceRefit() {
        return statistics.seenSinceRefit();
    }

    /**
     * Refits every grid to the running summaries of its inputs, keeping the grid size, whatever it
     * changes (the operator's refits, on schedule or on a drift, go through the tolerance instead:
     * {@link #refitIfDue}, {@link #refitWithinTolerance}).
     */
    public RefitResult refitFromStatistics() {
        requireStatistics();
        RefitResult result = apply(propose(config.gridSize(), config.refitBlend(), null));
        companionsDo(KanLearner::refitFromStatistics);
        return result;
    }

    /**
     * Refits when the policy says the grids no longer fit the inputs (or the grid should grow), and
     * only if the refit keeps the network's outputs on its recent inputs within the policy's
     * tolerance, moving the knots part of the way when all the way would change too much. Even
     * inputs that left the grid do not excuse a larger change: measured on the suite's streams, a
     * refit that changed the outputs by 5–7% cost more than the splines gained over the new range.
     *
     * <p>Each companion decides for itself, from its own summaries.
     *
     * @return what was done to this learner, or null when no refit was due or none was within
     *     tolerance
     */
    public RefitResult refitIfDue(RefitPolicy policy) {
        companionsDo(c -> c.refitIfDue(policy));
        RefitPolicy.Reason reason = policy.reason(this);
        if (reason == RefitPolicy.Reason.NONE) {
            return null;
        }
        int size =
                reason == RefitPolicy.Reason.EXTEND ? policy.gridSizeFor(this) : config.gridSize();
        return refitWithin(policy, size, policy.layers(this, reason));
    }

    /**
     * Refits every grid at its size now, as a detected drift asks, within the policy's tolerance
     * like {@link #refitIfDue}: a drift is a reason to look, not to change the outputs on the
     * recent inputs more than any other refit may.
     *
     * <p>Each companion decides for itself, from its own summaries.
     *
     * @return what was done to this learner, or null when no refit was within tolerance
     */
    public RefitResult refitWithinTolerance(RefitPolicy policy) {
        companionsDo(c -> c.refitWithinTolerance(policy));
        requireStatistics();
        return refitWithin(policy, config.gridSize(), null);
    }

    /** The first proposal within tolerance, the knots moved less each attempt; null if none. */
    private RefitResult refitWithin(RefitPolicy policy, int size, boolean[] layers) {
        double blend = config.refitBlend();
        for (int attempt = 0; attempt < 3; attempt++, blend /= 2) {
            GridRefitter.Proposal proposal = propose(size, blend, layers);
            if (proposal.change() <= policy.tolerance()) {
                return apply(proposal);
            }
            if (size != config.gridSize()) {
                break; // a finer grid is all or nothing
            }
        }
        rejectedRefits++;
        declinedInARow++;
        statistics.resetSinceRefit(); // look again after the policy's wait
        return null;
    }

    /** Refits declined since the last one applied: the policy waits longer after each. */
    public int declinedInARow() {
        return declinedInARow;
    }

    /** Refits the policy found due but declined: they would have changed the outputs too much. */
    public long rejectedRefits() {
        return rejectedRefits;
    }

    private void requireStatistics() {
        if (statistics.isEmpty()) {
            throw new IllegalStateException("no inputs seen yet: nothing to refit the grids from");
        }
    }

    private GridRefitter.Proposal propose(int gridSize, double blend, boolean[] layers) {
        return new GridRefitter(config)
                .propose(
                        host(), statistics, null, 0, gridSize, blend, config.refitMargin(), layers);
    }

    /**
     * Refits every grid from a sample of raw inputs, each layer from its own inputs: the knots come
     * from the sample's exact quantiles and the weights are fitted on its rows; the running
     * summaries move onto the new grids.
     *
     * @param rows (n, inputs) row-major, raw features
     * @param gridSize the grid size afterwards: the current one, or finer/coarser (grid extension)
     */
    public RefitResult refit(float[] rows, int n, int gridSize) {
        checkRows(rows, n);
        if (gridSize < 1) {
            throw new IllegalArgumentException("grid size must be at least 1, got " + gridSize);
        }
        if (n < 1) {
            throw new IllegalArgumentException("a grid refit needs at least one sample, got none");
        }
        float[] z = normalizer.apply(rows, n);
        GridRefitter.Proposal proposal =
                new GridRefitter(config).propose(host(), statistics, z, n, gridSize, 1.0, 0, null);
        GridRefitter.apply(host(), statistics, proposal);
        companionsDo(c -> c.refit(rows, n, gridSize));
        return finish(proposal, n);
    }

    private RefitResult apply(GridRefitter.Proposal proposal) {
        GridRefitter.apply(host(), statistics, proposal);
        return finish(proposal, GridRefitter.SUMMARY_POINTS);
    }

    private RefitResult finish(GridRefitter.Proposal proposal, int points) {
        dropMirror();
        hostChanged(); // a slot holds its own grid: the pool uploads the new one
        if (proposal.gridSize() != config.gridSize()) {
            config = config.toBuilder().gridSize(proposal.gridSize()).build();
            if (pool != null) {
                pool.release(this); // another shape: this pool cannot hold it any more
            }
        }
        if (average != null) {
            average.restart(host());
        }
        statistics.resetSinceRefit();
        declinedInARow = 0;
        gridEpoch++;
        version++;
        return new RefitResult(
                gridEpoch,
                proposal.gridSize(),
                points,
                proposal.insideFraction(),
                proposal.change());
    }

    /**
     * Forgets Adam's first moments, the direction it was heading in, and keeps the second, the
     * scale of each parameter's gradients: after a change of the objective the old momentum points
     * the wrong way, while the steps stay the size they were.
     */
    public void resetMomentum() {
        host().resetMoments(false);
        hostChanged();
        version++;
        companionsDo(KanLearner::resetMomentum);
    }

    /**
     * Forgets both of Adam's moments and restarts its bias correction, as if training began anew:
     * the next steps are full-sized in every coordinate.
     */
    public void restartOptimizer() {
        host().resetMoments(true);
        optimizer.reset();
        hostChanged();
        version++;
        companionsDo(KanLearner::restartOptimizer);
    }

    KnotGrid[] grids() {
        KnotGrid[] grids = new KnotGrid[host.size()];
        for (int l = 0; l < grids.length; l++) {
            grids[l] = host.layer(l).grid;
        }
        return grids;
    }

    void checkRows(float[] rows, int n) {
        int in = host.inputs();
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
        if (mixture != null) {
            mixture.close();
        }
        if (pool != null) {
            pool.release(this);
        }
        if (mirror != null) {
            mirror.close();
            mirror = null;
        }
    }

    /** Whether this thread keeps the forward pass of this learner's last scored row (for tests). */
    boolean keepsScoredPass() {
        ScoredRow kept = ScoredRow.slotOf(this);
        return kept != null && kept.pass != null;
    }

    /**
     * The last single rows learners of this thread scored: each one's finished outputs and its
     * average's, and the forward pass when {@link #scoreBeforeItsStep} kept it. The job scores an
     * event and then, its label inline, learns from the same row at once; charging the average its
     * loss needs those very outputs, and the step can start from that pass, so they are kept here
     * rather than computed twice, and rather than in every key's learner. A thread keeps {@link
     * #SLOTS} of them, one per learner, the least recently scored giving way: the key's model and a
     * model the keys share ({@code --population}) each score an event before both learn from it.
     * Stamped with the learner, its model version (steps, refits) and examples learned from (its
     * normalizer and calibrator learn with each), and the raw row.
     */
    private static final class ScoredRow {
        static final int SLOTS = 2;

        /** The slots, the most recently scored first. */
        static final ThreadLocal<ScoredRow[]> LAST =
                ThreadLocal.withInitial(
                        () -> {
                            ScoredRow[] slots = new ScoredRow[SLOTS];
                            for (int i = 0; i < SLOTS; i++) {
                                slots[i] = new ScoredRow();
                            }
                            return slots;
                        });

        KanLearner learner;
        long version;
        long examples;
        float[] row;
        float[] z;
        float[] own;
        float[] average;
        HostKan.Pass pass;

        /** Keeps one scored row; the arrays are the caller's to give away. */
        static void remember(
                KanLearner learner,
                float[] row,
                float[] z,
                float[] own,
                float[] average,
                HostKan.Pass pass) {
            ScoredRow[] slots = LAST.get();
            // the learner's own slot if it has one, else the least recently scored; then first
            int i = 0;
            while (i < SLOTS - 1 && slots[i].learner != learner) {
                i++;
            }
            ScoredRow last = slots[i];
            System.arraycopy(slots, 0, slots, 1, i);
            slots[0] = last;
            last.learner = learner;
            last.version = learner.version;
            last.examples = learner.examples;
            last.row = row.clone();
            last.z = z == row ? last.row : z; // else the normalizer's own new array
            last.own = own;
            last.average = average;
            last.pass = pass;
        }

        /** This learner's slot, or null. */
        static ScoredRow slotOf(KanLearner learner) {
            for (ScoredRow slot : LAST.get()) {
                if (slot.learner == learner) {
                    return slot;
                }
            }
            return null;
        }

        /**
         * What {@link #remember} kept for this very learner, as it still is, and this raw row,
         * taken out of its slot (the step that follows changes the model); or null.
         */
        static ScoredRow recall(KanLearner learner, float[] row) {
            ScoredRow last = slotOf(learner);
            if (last == null
                    || last.version != learner.version
                    || last.examples != learner.examples
                    || !java.util.Arrays.equals(last.row, row)) {
                return null;
            }
            ScoredRow taken = new ScoredRow();
            taken.z = last.z;
            taken.own = last.own;
            taken.average = last.average;
            taken.pass = last.pass;
            last.learner = null;
            last.row = null;
            last.z = null;
            last.own = null;
            last.average = null;
            last.pass = null;
            return taken;
        }
    }
}
