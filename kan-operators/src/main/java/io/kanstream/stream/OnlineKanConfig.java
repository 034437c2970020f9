package io.kanstream.stream;

import io.kanstream.eval.DriftDetector;
import io.kanstream.kan.KanConfig;
import io.kanstream.kan.RefitPolicy;
import java.io.Serializable;
import java.time.Duration;

/**
 * Settings of the online-learning operator; the model's own settings are in {@link KanConfig}.
 * Defaults live in {@link Builder}.
 *
 * @param model architecture, task, optimizer and grid settings of every key's model
 * @param warmStart a model file's bytes that every new key starts from, or null for a fresh
 *     initialization (same seed for every key)
 * @param batchSize labeled examples per gradient step
 * @param batchTimeout a partial batch is learned from after this long (processing time); zero to
 *     wait for a full batch
 * @param labelTtl how long an unlabeled event waits for its label (and a label for its event)
 * @param maxAwaitingPerKey at most this many unlabeled events wait per key; more are scored but not
 *     kept for a label (counted)
 * @param maxLiveKeys at most this many keys hold state per subtask; a new key evicts the least
 *     recently seen one (counted)
 * @param idleKeyTtl a key unseen for this long is dropped with its state (counted); zero for never
 * @param refitPolicy when grids are refit
 * @param metricsEvery a key's metric record is emitted every this many labeled examples
 * @param drift the detector watching each key's prequential errors, or null for none
 * @param driftAction what a detected increase of the errors triggers
 * @param boostFactor the learning-rate multiplier of a drift boost
 * @param boostSteps how many steps a drift boost lasts
 * @param bundleSize inputs (events and labels, of any keys) collected and then processed together,
 *     models of one shape scored and stepped in one {@link io.kanstream.kan.KanPool} call; 0 to
 *     process every input as it arrives; {@link #AUTO_BUNDLE_SIZE} for bundles where they pay (see
 *     {@link #bundleSizeOn}). At most {@code maxLiveKeys}.
 * @param bundleLatency a bundle that is not full is processed after this long (processing time); it
 *     is also processed before every checkpoint barrier, watermark and timer
 * @param population whether each subtask keeps a model shared by its keys: it scores every event
 *     beside the key's own model and learns from every key's labels, and a key's score mixes the
 *     two by their recent losses on that key's labels (docs/learning.md, "A model shared across
 *     keys"); keys are then processed one at a time, so by default ({@link Population#AUTO}) it is
 *     on unless the operator runs bundles
 * @param sharedCompanion the learning-rate factor of a companion the shared model learns beside it
 *     ({@link KanConfig#companionRates()}), mixed with it by their recent losses on every key's
 *     labels: a slow member where the keys' labels are noisy, which the keys' scores get without a
 *     model of their own more each (docs/learning.md, "A slow companion for the shared model"); 0,
 *     the default, for the keys' own companions (none unless asked for)
 */
public record OnlineKanConfig(
        KanConfig model,
        byte[] warmStart,
        int batchSize,
        Duration batchTimeout,
        Duration labelTtl,
        int maxAwaitingPerKey,
        int maxLiveKeys,
        Duration idleKeyTtl,
        RefitPolicy refitPolicy,
        int metricsEvery,
        DriftDetector.Kind drift,
        DriftAction driftAction,
        double boostFactor,
        int boostSteps,
        int bundleSize,
        Duration bundleLatency,
        Population population,
        double sharedCompanion)
        implements Serializable {

    /**
     * The shared model's companion by default: none. At a third of the keys' rate it is better on
     * the suite's noisy linear streams and ties elsewhere, but costs the job about 29% of its rate
     * at 100 keys (docs/learning.md, "A slow companion for the shared model").
     */
    public static final double DEFAULT_SHARED_COMPANION = 0;

    /** The companion's factor the evaluation measured: a third of the keys' rate. */
    public static final double SLOW_SHARED_COMPANION = 1 / 3.0;

    /** Whether each subtask keeps a model its keys share ({@link #sharesModel}). */
    public enum Population {
        /** On where keys are processed one at a time: off with bundles, which it cannot join. */
        AUTO,
        /** On; refused with bundles. */
        ON,
        /** Off: each key's score is its own model's. */
        OFF;

        /** {@link #ON} or {@link #OFF}. */
        public static Population of(boolean on) {
            return on ? ON : OFF;
        }
    }

    public OnlineKanConfig {
        require(model != null, "model config must be set");
        require(batchSize >= 1, "batch size must be at least 1, got " + batchSize);
        require(!batchTimeout.isNegative(), "batch timeout must not be negative");
        require(!labelTtl.isNegative() && !labelTtl.isZero(), "label TTL must be positive");
        require(maxAwaitingPerKey >= 0, "max awaiting events per key must be >= 0");
        require(
                maxLiveKeys >= 1,
                "max live keys per subtask must be at least 1, got " + maxLiveKeys);
        require(!idleKeyTtl.isNegative(), "idle key TTL must not be negative");
        require(refitPolicy != null, "refit policy must be set");
        require(metricsEvery >= 1, "metrics interval must be at least 1, got " + metricsEvery);
        require(driftAction != null, "drift action must be set (none to only report)");
        require(boostFactor > 0, "boost factor must be > 0, got " + boostFactor);
        require(boostSteps >= 0, "boost steps must be >= 0, got " + boostSteps);
        require(
                bundleSize >= AUTO_BUNDLE_SIZE,
                "bundle size must be >= 0 (0 for no bundles) or auto, got " + bundleSize);
        require(
                bundleSize <= maxLiveKeys,
                "bundle size "
                        + bundleSize
                        + " must not exceed max live keys "
                        + maxLiveKeys
                        + ": a bundle's keys must all stay live while it is processed");
        require(
                bundleLatency != null && !bundleLatency.isNegative() && !bundleLatency.isZero(),
                "bundle latency must be positive");
        require(population != null, "population must be set (auto, on or off)");
        require(population != Population.ON || bundleSize <= 1, populationWithBundles(bundleSize));
        require(
                sharedCompanion >= 0 && Double.isFinite(sharedCompanion),
                "the shared model's companion rate factor must be a finite number >= 0 (0 for"
                        + " the keys' own companions, none unless asked for), got "
                        + sharedCompanion);
    }

    /**
     * The learning-rate factors of the shared model's companions: the one asked for, else the keys'
     * own ({@link KanConfig#companionRates()}, none unless a job asks for them).
     */
    public java.util.List<Double> sharedCompanionRates() {
        return sharedCompanion > 0 ? java.util.List.of(sharedCompanion) : model.companionRates();
    }

    /**
     * Whether the operator keeps a shared model when it runs bundles of {@code bundleSize} inputs
     * (as resolved by {@link #bundleSizeOn}).
     *
     * @throws IllegalArgumentException when one was asked for with bundles
     */
    public boolean sharesModel(int bundleSize) {
        return switch (population) {
            case ON -> {
                require(bundleSize <= 1, populationWithBundles(bundleSize));
                yield true;
            }
            case OFF -> false;
            case AUTO -> bundleSize <= 1;
        };
    }

    /** Why a shared model and bundles of {@code size} do not go together. */
    static String populationWithBundles(int size) {
        return "a model shared by the keys (population) runs keys one at a time: it cannot be"
                + " combined with bundles of "
                + size
                + " (set the bundle size to 0, auto being off on the CPU and 256 on a GPU, or"
                + " leave the population out)";
    }

    /**
     * The bundle size on a device: the configured one, or for {@link #AUTO_BUNDLE_SIZE} {@value
     * #GPU_BUNDLE_SIZE} on a GPU (one DJL call per input is what a GPU must not do) and none on the
     * CPU, where the host kernel scores and steps a small model faster per input than the pool does
     * (docs/gpu.md, "Bundles in the job").
     */
    public int bundleSizeOn(boolean gpu) {
        if (bundleSize != AUTO_BUNDLE_SIZE) {
            return bundleSize;
        }
        return gpu ? Math.min(GPU_BUNDLE_SIZE, maxLiveKeys) : 0;
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    public static Builder builder(KanConfig model) {
        return new Builder(model);
    }

    /**
     * Labeled examples per gradient step unless told otherwise: one, a step per label, as the
     * evaluation suite chose it (docs/learning.md: ELEC2 with the lag label 89.75% at 1, 86.83% at
     * 8, 86.23% at 32). Replay takes the same default, so a replay evaluates what the job runs.
     */
    public static final int DEFAULT_BATCH_SIZE = 1;

    /** Bundles where they pay: {@link #bundleSizeOn}. */
    public static final int AUTO_BUNDLE_SIZE = -1;

    /** The bundle size {@link #AUTO_BUNDLE_SIZE} takes on a GPU. */
    public static final int GPU_BUNDLE_SIZE = 256;

    /** How long a bundle that is not full waits unless told otherwise. */
    public static final Duration DEFAULT_BUNDLE_LATENCY = Duration.ofMillis(10);

    /** The defaults. */
    public static final class Builder {
        private final KanConfig model;
        private byte[] warmStart;
        private int batchSize = DEFAULT_BATCH_SIZE;
        private Duration batchTimeout = Duration.ofSeconds(5);
        private Duration labelTtl = Duration.ofMinutes(10);
        private int maxAwaitingPerKey = 10_000;
        private int maxLiveKeys = 10_000;
        private Duration idleKeyTtl = Duration.ofHours(24);
        private RefitPolicy refitPolicy = RefitPolicy.defaults();
        private int metricsEvery = 100;
        private DriftDetector.Kind drift = DriftDetector.Kind.ADWIN;
        private DriftAction driftAction = DriftAction.REFIT_AND_RESTART;
        private double boostFactor = 5;
        private int boostSteps = 500;
        private int bundleSize = AUTO_BUNDLE_SIZE;
        private Duration bundleLatency = DEFAULT_BUNDLE_LATENCY;
        private Population population = Population.AUTO;
        private double sharedCompanion = DEFAULT_SHARED_COMPANION;

        private Builder(KanConfig model) {
            this.model = model;
        }

        public Builder warmStart(byte[] value) {
            warmStart = value;
            return this;
        }

        public Builder batchSize(int value) {
            batchSize = value;
            return this;
        }

        public Builder batchTimeout(Duration value) {
            batchTimeout = value;
            return this;
        }

        public Builder labelTtl(Duration value) {
            labelTtl = value;
            return this;
        }

        public Builder maxAwaitingPerKey(int value) {
            maxAwaitingPerKey = value;
            return this;
        }

        public Builder maxLiveKeys(int value) {
            maxLiveKeys = value;
            return this;
        }

        public Builder idleKeyTtl(Duration value) {
            idleKeyTtl = value;
            return this;
        }

        public Builder refitPolicy(RefitPolicy value) {
            refitPolicy = value;
            return this;
        }

        public Builder metricsEvery(int value) {
            metricsEvery = value;
            return this;
        }

        public Builder drift(DriftDetector.Kind value) {
            drift = value;
            return this;
        }

        public Builder driftAction(DriftAction value) {
            driftAction = value;
            return this;
        }

        public Builder boost(double factor, int steps) {
            boostFactor = factor;
            boostSteps = steps;
            return this;
        }

        public Builder bundle(int size, Duration latency) {
            bundleSize = size;
            bundleLatency = latency;
            return this;
        }

        public Builder population(boolean on) {
            return population(Population.of(on));
        }

        public Builder population(Population value) {
            population = value;
            return this;
        }

        /** The shared model's companion's learning-rate factor; 0 for the keys' own companions. */
        public Builder sharedCompanion(double factor) {
            sharedCompanion = factor;
            return this;
        }

        public OnlineKanConfig build() {
            return new OnlineKanConfig(
                    model,
                    warmStart,
                    batchSize,
                    batchTimeout,
                    labelTtl,
                    maxAwaitingPerKey,
                    maxLiveKeys,
                    idleKeyTtl,
                    refitPolicy,
                    metricsEvery,
                    drift,
                    driftAction,
                    boostFactor,
                    boostSteps,
                    bundleSize,
                    bundleLatency,
                    population,
                    sharedCompanion);
        }
    }
}
