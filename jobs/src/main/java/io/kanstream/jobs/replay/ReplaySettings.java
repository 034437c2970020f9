package io.kanstream.jobs.replay;

import io.kanstream.eval.DriftDetector;
import io.kanstream.eval.MetricsConfig;
import io.kanstream.jobs.online.OnlineJobConfig;
import io.kanstream.kan.KanConfig;
import io.kanstream.kan.RefitPolicy;
import io.kanstream.kan.Task;
import io.kanstream.stream.DriftAction;
import io.kanstream.stream.OnlineKanConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Everything a replay is run with besides the stream itself: the model, the operator's adaptation
 * (refits, drift response), how labels arrive and how the evaluation measures. {@code replay}'s
 * flags and {@code evaluate}'s suite both start from {@link #defaults()}, which the {@link Builder}
 * holds and nothing else.
 *
 * @param hidden hidden layer widths (the input and output widths come from the table)
 * @param model every key's model but for its layers and task, which are the table's
 * @param batchSize labeled examples per gradient step
 * @param labelDelay labels arrive this many events late (0: inline with the event)
 * @param lagLabel add the key's last known label as an input
 * @param warmup labels the frozen baseline learns from
 * @param window window of the windowed metrics, in examples
 * @param fading fading factor of the faded metrics
 * @param drift the detector on each key's errors, null for none
 * @param driftAction what a detected drift does
 * @param refitPolicy when the operator refits a key's grids
 * @param boostFactor learning-rate multiplier of a drift boost
 * @param boostSteps steps a drift boost lasts
 * @param parallelism the operator's parallelism on the local Flink
 * @param population each subtask keeps a model its keys share ({@link
 *     OnlineKanConfig#population()})
 * @param sharedCompanion the shared model's companion's learning-rate factor, 0 for the keys' own
 *     companions ({@link OnlineKanConfig#sharedCompanion()})
 */
public record ReplaySettings(
        List<Integer> hidden,
        KanConfig model,
        int batchSize,
        int labelDelay,
        boolean lagLabel,
        int warmup,
        int window,
        double fading,
        DriftDetector.Kind drift,
        DriftAction driftAction,
        RefitPolicy refitPolicy,
        double boostFactor,
        int boostSteps,
        int parallelism,
        OnlineKanConfig.Population population,
        double sharedCompanion) {

    public ReplaySettings {
        hidden = List.copyOf(hidden);
        if (labelDelay < 0) {
            throw new IllegalArgumentException("label delay must be >= 0, got " + labelDelay);
        }
        if (parallelism < 1) {
            throw new IllegalArgumentException(
                    "parallelism must be at least 1, got " + parallelism);
        }
    }

    /**
     * The model's defaults are {@link KanConfig}'s: replay evaluates what the job runs. Its layers
     * stand in until a table gives them.
     */
    private static final KanConfig MODEL_DEFAULTS = KanConfig.builder(List.of(1, 1)).build();

    /** The live job's settings, where replay's defaults come from: a replay evaluates the job. */
    private static final OnlineJobConfig JOB_DEFAULTS =
            OnlineJobConfig.builder(OnlineJobConfig.defaultLearner()).build();

    public static ReplaySettings defaults() {
        return new Builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The layer widths for a table: its features (plus the lag label), hidden, its outputs. */
    public List<Integer> layers(int features, int outputs) {
        List<Integer> layers = new ArrayList<>();
        layers.add(features + (lagLabel ? 1 : 0));
        layers.addAll(hidden);
        layers.add(outputs);
        return layers;
    }

    /** The model of every key, before any adjustment a caller makes. */
    public KanConfig.Builder model(int features, int outputs, Task task) {
        return model.toBuilder().layers(layers(features, outputs)).task(task).device("cpu");
    }

    /**
     * The operator's settings around a model. A replay is bounded and fixed in advance, so no
     * timeout, TTL or key bound may drop an event or a label: those are switched off.
     */
    public OnlineKanConfig.Builder online(KanConfig model) {
        return OnlineKanConfig.builder(model)
                .batchSize(batchSize)
                .batchTimeout(Duration.ZERO)
                .labelTtl(Duration.ofDays(365))
                .idleKeyTtl(Duration.ZERO)
                .maxLiveKeys(Integer.MAX_VALUE)
                .maxAwaitingPerKey(Integer.MAX_VALUE)
                .refitPolicy(refitPolicy)
                .drift(drift)
                .driftAction(driftAction)
                .boost(boostFactor, boostSteps)
                .population(population)
                .sharedCompanion(sharedCompanion);
    }

    public MetricsConfig metrics() {
        return new MetricsConfig(window, fading);
    }

    public Builder toBuilder() {
        Builder builder = new Builder();
        builder.model = model;
        return builder.hidden(hidden)
                .batchSize(batchSize)
                .labelDelay(labelDelay)
                .lagLabel(lagLabel)
                .warmup(warmup)
                .window(window)
                .fading(fading)
                .drift(drift)
                .driftAction(driftAction)
                .refitPolicy(refitPolicy)
                .boost(boostFactor, boostSteps)
                .parallelism(parallelism)
                .population(population)
                .sharedCompanion(sharedCompanion);
    }

    /**
     * The defaults: the live job's (its hidden layer, batch size, drift detector and response,
     * refit schedule and parallelism, read from {@link OnlineJobConfig}'s own defaults), so that a
     * replay evaluates the model the job runs.
     */
    public static final class Builder {
        private List<Integer> hidden =
                OnlineJobConfig.DEFAULT_LAYERS.subList(
                        1, OnlineJobConfig.DEFAULT_LAYERS.size() - 1);
        private KanConfig model = MODEL_DEFAULTS;
        private int batchSize = JOB_DEFAULTS.learner().batchSize();
        private int labelDelay = 0;
        private boolean lagLabel = false;
        private int warmup = 1000;
        private int window = 1000;
        private double fading = 0.999;
        private DriftDetector.Kind drift = JOB_DEFAULTS.learner().drift();
        private DriftAction driftAction = JOB_DEFAULTS.learner().driftAction();
        private RefitPolicy refitPolicy = JOB_DEFAULTS.learner().refitPolicy();
        private double boostFactor = JOB_DEFAULTS.learner().boostFactor();
        private int boostSteps = JOB_DEFAULTS.learner().boostSteps();
        private int parallelism = JOB_DEFAULTS.parallelism();
        private OnlineKanConfig.Population population = JOB_DEFAULTS.learner().population();
        private double sharedCompanion = JOB_DEFAULTS.learner().sharedCompanion();

        private Builder() {}

        public Builder hidden(List<Integer> value) {
            hidden = value;
            return this;
        }

        /** Changes the model (its layers and task are the table's whatever this sets). */
        public Builder model(UnaryOperator<KanConfig.Builder> change) {
            model = change.apply(model.toBuilder()).build();
            return this;
        }

        public Builder batchSize(int value) {
            batchSize = value;
            return this;
        }

        public Builder labelDelay(int value) {
            labelDelay = value;
            return this;
        }

        public Builder lagLabel(boolean value) {
            lagLabel = value;
            return this;
        }

        public Builder warmup(int value) {
            warmup = value;
            return this;
        }

        public Builder window(int value) {
            window = value;
            return this;
        }

        public Builder fading(double value) {
            fading = value;
            return this;
        }

        /** The drift detector, null for none. */
        public Builder drift(DriftDetector.Kind value) {
            drift = value;
            return this;
        }

        public Builder driftAction(DriftAction value) {
            driftAction = value;
            return this;
        }

        public Builder refitPolicy(RefitPolicy value) {
            refitPolicy = value;
            return this;
        }

        public Builder boost(double factor, int steps) {
            boostFactor = factor;
            boostSteps = steps;
            return this;
        }

        public Builder parallelism(int value) {
            parallelism = value;
            return this;
        }

        public Builder population(boolean on) {
            return population(OnlineKanConfig.Population.of(on));
        }

        public Builder population(OnlineKanConfig.Population value) {
            population = value;
            return this;
        }

        /** The shared model's companion's learning-rate factor; 0 for the keys' own companions. */
        public Builder sharedCompanion(double factor) {
            sharedCompanion = factor;
            return this;
        }

        public ReplaySettings build() {
            return new ReplaySettings(
                    hidden,
                    model,
                    batchSize,
                    labelDelay,
                    lagLabel,
                    warmup,
                    window,
                    fading,
                    drift,
                    driftAction,
                    refitPolicy,
                    boostFactor,
                    boostSteps,
                    parallelism,
                    population,
                    sharedCompanion);
        }
    }
}
