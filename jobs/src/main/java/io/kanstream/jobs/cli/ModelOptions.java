package io.kanstream.jobs.cli;

import io.kanstream.kan.KanConfig;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The model's hyperparameters every command that builds a KAN takes ({@code run}, {@code replay},
 * {@code fit}, {@code bootstrap}), declared once, with {@link KanConfig}'s defaults. Layer widths
 * are each command's own ({@code --layers} or {@code --hidden}: a history file knows its input and
 * output widths, a stream does not).
 */
final class ModelOptions {
    private static final KanConfig DEFAULTS = KanConfig.builder(List.of(1, 1)).build();

    /** The options' names, for commands that refuse them beside a model file. */
    static final List<String> NAMES =
            List.of(
                    "--grid-size",
                    "--spline-order",
                    "--lr",
                    "--initial-rate-factor",
                    "--initial-rate-steps",
                    "--seed",
                    "--weight-decay",
                    "--beta1",
                    "--clip-norm",
                    "--logit-bound",
                    "--calibration-bias",
                    "--companions",
                    "--mixture-horizon");

    @Option(
            names = "--grid-size",
            description = "G, grid intervals per input (default ${DEFAULT-VALUE}).")
    int gridSize = DEFAULTS.gridSize();

    @Option(
            names = "--spline-order",
            description = "k, the B-splines' order (default ${DEFAULT-VALUE}).")
    int splineOrder = DEFAULTS.splineOrder();

    @Option(names = "--lr", description = "Adam learning rate (default ${DEFAULT-VALUE}).")
    double learningRate = DEFAULTS.learningRate();

    @Option(
            names = "--initial-rate-factor",
            description =
                    "A young model's learning rate starts at this multiple of --lr and falls"
                            + " linearly to it over --initial-rate-steps steps; 1 keeps it constant"
                            + " (default 3 on a stream; fit trains at a constant rate).")
    Double initialRateFactor;

    @Option(
            names = "--initial-rate-steps",
            description = "The steps over which --initial-rate-factor falls to 1 (default 300).")
    Long initialRateSteps;

    @Option(names = "--seed", description = "Initialization seed (default ${DEFAULT-VALUE}).")
    long seed = DEFAULTS.seed();

    @Option(
            names = "--weight-decay",
            description = "Decoupled weight decay per step (default ${DEFAULT-VALUE}).")
    double weightDecay = DEFAULTS.weightDecay();

    @Option(
            names = "--beta1",
            description =
                    "Adam's first-moment decay (momentum); 0 takes each step from the gradient"
                            + " over its running RMS (default "
                            + "0 for a stream, 0.9 for fit's mini-batches over a table).")
    Double beta1;

    @Option(
            names = "--clip-norm",
            description =
                    "Clip each step's gradient to this global norm; 0 off (default ${DEFAULT-VALUE}).")
    double clipNorm = DEFAULTS.clipNorm();

    @Option(
            names = "--logit-bound",
            description =
                    "Classification logits bounded to ±this and calibrated online; 0 off"
                            + " (default ${DEFAULT-VALUE}).")
    double logitBound = DEFAULTS.logitBound();

    @Option(
            names = "--calibration-bias",
            description =
                    "A binary model's online calibration learns a bias beside its temperature"
                            + " (Platt's a·u + b); by default it learns the temperature alone,"
                            + " which never moves a decision.")
    boolean calibrationBias = DEFAULTS.calibrationBias();

    @Option(
            names = "--companions",
            split = ",",
            paramLabel = "FACTOR",
            description =
                    "Companion KANs per key, one per learning-rate factor (e.g. 3, or 0.33,3): each"
                            + " scores every event and learns from every label beside the model,"
                            + " and the outputs are the members' mixture weighted by their recent"
                            + " loss. Each costs a model's work and state. None by default.")
    List<Double> companions = new java.util.ArrayList<>(DEFAULTS.companionRates());

    @Option(
            names = "--mixture-horizon",
            description =
                    "Memory, in labels, of the losses that weight the companions"
                            + " (default ${DEFAULT-VALUE}).")
    double mixtureHorizon = DEFAULTS.mixtureHorizon();

    @Option(
            names = "--average-horizon",
            paramLabel = "STEPS",
            description =
                    "Memory, in steps, of an average of each model's own recent parameters, scored"
                            + " beside it and mixed with it by recent loss (steadier where labels"
                            + " are noisy; one more forward pass per event and a third more state"
                            + " per key; bundles keep it in the pool's slots). 0 for none"
                            + " (default ${DEFAULT-VALUE}).")
    double averageHorizon = DEFAULTS.averageHorizon();

    /**
     * Sets these options on {@code model}, which carries the rest, {@code --beta1} and the initial
     * rate only when given (the command's builder holds its own defaults).
     */
    KanConfig.Builder applyTo(KanConfig.Builder model) {
        if (beta1 != null) {
            model.beta1(beta1);
        }
        if (initialRateFactor != null || initialRateSteps != null) {
            model.initialRate(
                    initialRateFactor != null ? initialRateFactor : DEFAULTS.initialRateFactor(),
                    initialRateSteps != null ? initialRateSteps : DEFAULTS.initialRateSteps());
        }
        return model.gridSize(gridSize)
                .splineOrder(splineOrder)
                .learningRate(learningRate)
                .seed(seed)
                .weightDecay(weightDecay)
                .clipNorm(clipNorm)
                .logitBound(logitBound)
                .calibrationBias(calibrationBias)
                .companionRates(companions)
                .mixtureHorizon(mixtureHorizon)
                .averageHorizon(averageHorizon);
    }
}
