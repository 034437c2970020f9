package io.kanstream.kan;

import java.util.List;

/**
 * Everything that defines a KAN learner except its learned state: architecture, task, optimizer,
 * grid and refit settings, and the device. Validated on construction; the defaults live in {@link
 * Builder} and nowhere else.
 *
 * @param layers widths, input first, output last (at least two entries)
 * @param gridSize G, the number of grid intervals
 * @param splineOrder k, the B-spline degree
 * @param task what the outputs mean and which loss trains them
 * @param learningRate Adam step size
 * @param initialRateFactor a young model's learning rate starts at this multiple of {@code
 *     learningRate} and falls linearly to it over its first {@code initialRateSteps} steps: a key
 *     with tens of labels moves off its random start, one with thousands learns at the rate chosen
 *     for long streams (docs/learning.md, "A young model learns faster"); 1 for a constant rate
 * @param initialRateSteps the steps over which the factor falls to 1
 * @param beta1 Adam first-moment decay; 0 (the default) makes each step the gradient over its
 *     running RMS, without momentum: a learner that takes a step per label follows a moving target
 *     better without the lag of averaged gradients (docs/learning.md), and its state then holds no
 *     first moments. {@code fit}'s mini-batches over a fixed table take 0.9.
 * @param beta2 Adam second-moment decay
 * @param adamEpsilon Adam denominator guard
 * @param weightDecay decoupled (AdamW) weight decay per step, 0 for none
 * @param clipNorm global gradient-norm clip, 0 for none
 * @param logitBound classification logits are bounded to ±this (L·tanh(z/L)) and then calibrated
 *     online (see {@link OutputCalibration}); 0 turns both off
 * @param calibrationBias whether a binary model's online calibration learns a bias (Platt's b)
 *     beside its temperature; off (the default), a binary model is calibrated by a temperature
 *     alone, as a multiclass one is: a bias fitted to a key's labels moved its decisions toward
 *     whichever class those labels happened to favour, and the network's last layer carries the
 *     key's offset anyway (docs/learning.md, "Calibration by a temperature alone")
 * @param gridEps weight of the uniform grid against the quantile grid in a refit
 * @param gridMargin how far a refit grid reaches beyond the sample's range, in input units
 * @param gridLow lower end of the initial grid
 * @param gridHigh upper end of the initial grid
 * @param scaleNoise spline-weight initialization noise
 * @param scaleBase base-weight initialization scale
 * @param scaleSpline spline-scaler initialization scale
 * @param normalize standardize inputs (and regression targets) with running statistics
 * @param statsHorizon the memory, in examples, of the running summaries of each layer's inputs that
 *     grid refits draw their knots and fitting points from
 * @param refitBlend fraction of the way knots move toward the refit target (1 = all the way)
 * @param refitSmoothing weight of the second-difference penalty in the refit least squares
 * @param refitMargin extra room a refit from the stream's recent inputs leaves on each side of each
 *     feature's range, as a fraction of that range: trending features then stay inside the grid for
 *     a while instead of landing on its edge at once
 * @param normalizerHorizon the normalizer's memory in examples: exact running moments up to this
 *     many, then exponentially weighted with this horizon, so it follows a drifting stream instead
 *     of averaging over all of history
 * @param normalizerWarmup the input features' moments are learned from the first this many examples
 *     and then kept, so a trained network's input coordinates stay put and inputs that move later
 *     are followed by grid refits instead; 0 keeps learning them (regression targets always keep
 *     learning theirs)
 * @param companionRates one companion KAN per entry, scored and trained beside this one with the
 *     learning rate times the entry (a seed of its own), the outputs a mixture of the members'
 *     weighted by their recent loss (see {@link LearnerMixture}); empty for a single KAN
 * @param mixtureHorizon the memory, in examples, of the decayed losses that weight the members
 * @param averageHorizon the memory, in steps, of an exponential average of this KAN's own
 *     parameters scored beside it and mixed with it by recent loss (see {@link ParameterAverage});
 *     0 for none
 * @param seed initialization seed
 * @param device {@code auto}, {@code cpu}, {@code gpu} or {@code gpu:N}
 */
public record KanConfig(
        List<Integer> layers,
        int gridSize,
        int splineOrder,
        Task task,
        double learningRate,
        double initialRateFactor,
        long initialRateSteps,
        double beta1,
        double beta2,
        double adamEpsilon,
        double weightDecay,
        double clipNorm,
        double logitBound,
        boolean calibrationBias,
        double gridEps,
        double gridMargin,
        double gridLow,
        double gridHigh,
        double scaleNoise,
        double scaleBase,
        double scaleSpline,
        boolean normalize,
        int statsHorizon,
        double refitBlend,
        double refitSmoothing,
        double refitMargin,
        long normalizerHorizon,
        long normalizerWarmup,
        List<Double> companionRates,
        double mixtureHorizon,
        double averageHorizon,
        long seed,
        String device)
        implements java.io.Serializable {

    public KanConfig {
        layers = List.copyOf(layers);
        if (layers.size() < 2) {
            throw new IllegalArgumentException(
                    "layers must name at least an input and an output width, got " + layers);
        }
        for (int width : layers) {
            if (width < 1) {
                throw new IllegalArgumentException(
                        "every layer width must be at least 1, got " + layers);
            }
        }
        require(gridSize >= 1, "gridSize must be at least 1, got " + gridSize);
        require(splineOrder >= 0, "splineOrder must be at least 0, got " + splineOrder);
        require(task != null, "task must be set");
        task.checkOutputs(layers.get(layers.size() - 1));
        require(learningRate > 0 && Double.isFinite(learningRate), "learningRate must be > 0");
        require(
                initialRateFactor >= 1 && Double.isFinite(initialRateFactor),
                "initialRateFactor must be >= 1 (1 keeps the rate constant), got "
                        + initialRateFactor);
        require(initialRateSteps >= 0, "initialRateSteps must be >= 0, got " + initialRateSteps);
        require(beta1 >= 0 && beta1 < 1, "beta1 must be in [0, 1), got " + beta1);
        require(beta2 >= 0 && beta2 < 1, "beta2 must be in [0, 1), got " + beta2);
        require(adamEpsilon > 0, "adamEpsilon must be > 0");
        require(weightDecay >= 0, "weightDecay must be >= 0, got " + weightDecay);
        require(clipNorm >= 0, "clipNorm must be >= 0 (0 turns clipping off), got " + clipNorm);
        require(gridEps >= 0 && gridEps <= 1, "gridEps must be in [0, 1], got " + gridEps);
        require(gridMargin > 0, "gridMargin must be > 0, got " + gridMargin);
        require(gridLow < gridHigh, "gridLow must be below gridHigh");
        require(
                logitBound >= 0 && Double.isFinite(logitBound),
                "logitBound must be >= 0 (0 turns bounding and calibration off), got "
                        + logitBound);
        require(statsHorizon >= 2, "statsHorizon must be at least 2, got " + statsHorizon);
        require(
                refitBlend > 0 && refitBlend <= 1,
                "refitBlend must be in (0, 1], got " + refitBlend);
        require(refitSmoothing >= 0, "refitSmoothing must be >= 0");
        require(refitMargin >= 0, "refitMargin must be >= 0, got " + refitMargin);
        require(
                normalizerHorizon >= 2,
                "normalizerHorizon must be at least 2, got " + normalizerHorizon);
        require(
                normalizerWarmup >= 0,
                "normalizerWarmup must be >= 0 (0 never stops learning), got " + normalizerWarmup);
        companionRates = List.copyOf(companionRates);
        for (double rate : companionRates) {
            require(
                    rate > 0 && Double.isFinite(rate),
                    "every companion learning-rate factor must be > 0, got " + companionRates);
        }
        require(
                companionRates.size() <= LearnerMixture.MAX_COMPANIONS,
                "at most "
                        + LearnerMixture.MAX_COMPANIONS
                        + " companions, got "
                        + companionRates.size());
        require(
                mixtureHorizon >= 1 && Double.isFinite(mixtureHorizon),
                "mixtureHorizon must be at least 1, got " + mixtureHorizon);
        require(
                averageHorizon == 0 || (averageHorizon >= 1 && Double.isFinite(averageHorizon)),
                "averageHorizon must be 0 (no average) or at least 1, got " + averageHorizon);
        DeviceSetting.parse(device);
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    public int inputs() {
        return layers.get(0);
    }

    public int outputs() {
        return layers.get(layers.size() - 1);
    }

    /**
     * The learning rate's multiplier at a learner's {@code step}-th step (counted from 1): {@link
     * #initialRateFactor()} falling linearly to 1 at step {@link #initialRateSteps()}.
     */
    public double initialRate(long step) {
        if (initialRateSteps == 0 || step >= initialRateSteps) {
            return 1;
        }
        return 1 + (initialRateFactor - 1) * (1 - (double) step / initialRateSteps);
    }

    /** Number of B-spline coefficients per edge, G + k. */
    public int coefficients() {
        return KnotGrid.coefficients(gridSize, splineOrder);
    }

    /** Parses {@code 2,5,1}. */
    public static List<Integer> parseLayers(String text) {
        try {
            return java.util.Arrays.stream(text.split(","))
                    .map(String::trim)
                    .map(Integer::valueOf)
                    .toList();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "layers '" + text + "' must be comma-separated widths such as 2,5,1");
        }
    }

    public static Builder builder(List<Integer> layers) {
        return new Builder(layers);
    }

    public Builder toBuilder() {
        return new Builder(layers)
                .gridSize(gridSize)
                .splineOrder(splineOrder)
                .task(task)
                .learningRate(learningRate)
                .initialRate(initialRateFactor, initialRateSteps)
                .beta1(beta1)
                .beta2(beta2)
                .adamEpsilon(adamEpsilon)
                .weightDecay(weightDecay)
                .clipNorm(clipNorm)
                .logitBound(logitBound)
                .calibrationBias(calibrationBias)
                .gridEps(gridEps)
                .gridMargin(gridMargin)
                .gridRange(gridLow, gridHigh)
                .scaleNoise(scaleNoise)
                .scaleBase(scaleBase)
                .scaleSpline(scaleSpline)
                .normalize(normalize)
                .statsHorizon(statsHorizon)
                .refitBlend(refitBlend)
                .refitSmoothing(refitSmoothing)
                .refitMargin(refitMargin)
                .normalizerHorizon(normalizerHorizon)
                .normalizerWarmup(normalizerWarmup)
                .companionRates(companionRates)
                .mixtureHorizon(mixtureHorizon)
                .averageHorizon(averageHorizon)
                .seed(seed)
                .device(device);
    }

    /**
     * The defaults: efficient-kan's for the layer; for the optimizer Adam's usual ones but β₁,
     * which is 0 for a stream learned label by label.
     */
    public static final class Builder {
        private List<Integer> layers;
        private int gridSize = 5;
        private int splineOrder = 3;
        private Task task = Task.REGRESSION;
        private double learningRate = 0.01;
        private double initialRateFactor = 3;
        private long initialRateSteps = 300;
        private double beta1 = 0;
        private double beta2 = 0.999;
        private double adamEpsilon = 1e-8;
        private double weightDecay = 0;
        private double clipNorm = 1.0;
        private double logitBound = 8;
        private boolean calibrationBias = false;
        private double gridEps = 0.02;
        private double gridMargin = 0.01;
        private double gridLow = -1;
        private double gridHigh = 1;
        private double scaleNoise = 0.1;
        private double scaleBase = 1;
        private double scaleSpline = 1;
        private boolean normalize = true;
        private int statsHorizon = 2000;
        private double refitBlend = 1.0;
        private double refitSmoothing = 1e-4;
        private double refitMargin = 0.25;
        private long normalizerHorizon = 1_000_000;
        private long normalizerWarmup = 0;
        private List<Double> companionRates = List.of();
        private double mixtureHorizon = 100;
        private double averageHorizon = 100;
        private long seed = 42;
        private String device = "auto";

        private Builder(List<Integer> layers) {
            this.layers = layers;
        }

        public Builder layers(List<Integer> value) {
            layers = value;
            return this;
        }

        public Builder gridSize(int value) {
            gridSize = value;
            return this;
        }

        public Builder splineOrder(int value) {
            splineOrder = value;
            return this;
        }

        public Builder task(Task value) {
            task = value;
            return this;
        }

        public Builder learningRate(double value) {
            learningRate = value;
            return this;
        }

        /** A young model's rate multiplier and the steps over which it falls to 1. */
        public Builder initialRate(double factor, long steps) {
            initialRateFactor = factor;
            initialRateSteps = steps;
            return this;
        }

        /** A constant learning rate from the first step: what an offline trainer wants. */
        public Builder constantRate() {
            return initialRate(1, 0);
        }

        public Builder beta1(double value) {
            beta1 = value;
            return this;
        }

        public Builder beta2(double value) {
            beta2 = value;
            return this;
        }

        public Builder adamEpsilon(double value) {
            adamEpsilon = value;
            return this;
        }

        public Builder weightDecay(double value) {
            weightDecay = value;
            return this;
        }

        public Builder clipNorm(double value) {
            clipNorm = value;
            return this;
        }

        public Builder logitBound(double value) {
            logitBound = value;
            return this;
        }

        public Builder calibrationBias(boolean value) {
            calibrationBias = value;
            return this;
        }

        public Builder gridEps(double value) {
            gridEps = value;
            return this;
        }

        public Builder gridMargin(double value) {
            gridMargin = value;
            return this;
        }

        public Builder gridRange(double low, double high) {
            gridLow = low;
            gridHigh = high;
            return this;
        }

        public Builder scaleNoise(double value) {
            scaleNoise = value;
            return this;
        }

        public Builder scaleBase(double value) {
            scaleBase = value;
            return this;
        }

        public Builder scaleSpline(double value) {
            scaleSpline = value;
            return this;
        }

        public Builder normalize(boolean value) {
            normalize = value;
            return this;
        }

        public Builder statsHorizon(int value) {
            statsHorizon = value;
            return this;
        }

        public Builder refitBlend(double value) {
            refitBlend = value;
            return this;
        }

        public Builder refitSmoothing(double value) {
            refitSmoothing = value;
            return this;
        }

        public Builder refitMargin(double value) {
            refitMargin = value;
            return this;
        }

        public Builder normalizerHorizon(long value) {
            normalizerHorizon = value;
            return this;
        }

        public Builder normalizerWarmup(long value) {
            normalizerWarmup = value;
            return this;
        }

        public Builder companionRates(List<Double> value) {
            companionRates = value;
            return this;
        }

        public Builder mixtureHorizon(double value) {
            mixtureHorizon = value;
            return this;
        }

        public Builder averageHorizon(double value) {
            averageHorizon = value;
            return this;
        }

        public Builder seed(long value) {
            seed = value;
            return this;
        }

        public Builder device(String value) {
            device = value;
            return this;
        }

        public KanConfig build() {
            return new KanConfig(
                    layers,
                    gridSize,
                    splineOrder,
                    task,
                    learningRate,
                    initialRateFactor,
                    initialRateSteps,
                    beta1,
                    beta2,
                    adamEpsilon,
                    weightDecay,
                    clipNorm,
                    logitBound,
                    calibrationBias,
                    gridEps,
                    gridMargin,
                    gridLow,
                    gridHigh,
                    scaleNoise,
                    scaleBase,
                    scaleSpline,
                    normalize,
                    statsHorizon,
                    refitBlend,
                    refitSmoothing,
                    refitMargin,
                    normalizerHorizon,
                    normalizerWarmup,
                    companionRates,
                    mixtureHorizon,
                    averageHorizon,
                    seed,
                    device);
        }
    }
}
