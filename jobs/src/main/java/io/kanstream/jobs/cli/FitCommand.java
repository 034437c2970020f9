package io.kanstream.jobs.cli;

import io.kanstream.jobs.fit.MiniBatchTraining;
import io.kanstream.kan.KanConfig;
import io.kanstream.kan.KanLearner;
import io.kanstream.kan.LearnerStateCodec;
import io.kanstream.kan.RefitPolicy;
import io.kanstream.kan.Task;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "fit",
        mixinStandardHelpOptions = true,
        description =
                "Train a model on a CSV (last column the label) in mini-batches with the learner and"
                        + " refit policy the stream uses: a warm start from history. By default"
                        + " several passes over shuffled rows with momentum (beta1 0.9), the"
                        + " learning rate falling to 0 over the last steps; the model it writes"
                        + " learns on without momentum, as a stream's learner does, unless --beta1"
                        + " is given (docs/learning.md).")
final class FitCommand implements Callable<Integer> {
    @Option(
            names = "--data",
            required = true,
            description = "CSV; a non-numeric first row is a header.")
    Path data;

    @Mixin LearnerOptions.Layers layers;

    @Option(names = "--out", required = true, description = "Model file to write.")
    Path out;

    @Option(
            names = "--batch",
            defaultValue = "32",
            description = "Mini-batch size (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(
            names = "--epochs",
            defaultValue = "" + MiniBatchTraining.Plan.DEFAULT_EPOCHS,
            description = "Passes over the data (default ${DEFAULT-VALUE}).")
    int epochs;

    @Option(
            names = "--in-order",
            description =
                    "Visit the rows in file order on every pass instead of shuffling them (a file"
                            + " sorted by a feature then trains badly).")
    boolean inOrder;

    @Option(
            names = "--cooldown",
            defaultValue = "" + MiniBatchTraining.Plan.DEFAULT_COOLDOWN,
            description =
                    "Fraction of all steps, at the end, over which the learning rate falls linearly"
                            + " towards 0; 0 keeps it constant (default ${DEFAULT-VALUE}). The"
                            + " model is saved with its full rate for live learning.")
    double cooldown;

    @Mixin LearnerOptions.Task task;

    @Option(
            names = "--no-normalize",
            description = "Feed features as they are instead of standardizing them.")
    boolean noNormalize;

    @Mixin ModelOptions modelOptions;

    @Mixin RefitPolicies refits;

    @Mixin LearnerOptions.Device device;

    @Override
    public Integer call() throws Exception {
        if (batch < 1 || epochs < 1) {
            throw new IllegalArgumentException("--batch and --epochs must be at least 1");
        }
        MiniBatchTraining.Plan plan = new MiniBatchTraining.Plan(epochs, !inOrder, cooldown);
        KanConfig config =
                modelOptions
                        .applyTo(MiniBatchTraining.offline(KanConfig.builder(layers.layers())))
                        .task(task.task())
                        .normalize(!noNormalize)
                        .device(device.device)
                        .build();
        CsvMatrix table =
                CsvMatrix.read(data)
                        .requireWidth(
                                config.inputs() + 1,
                                "--layers " + layers.layers + " plus a label column");
        float[] features = table.leading(config.inputs());
        double[] labels = table.column(config.inputs());
        RefitPolicy policy = refits.policy();
        try (KanLearner learner = KanLearner.create(config)) {
            MiniBatchTraining.train(
                    learner,
                    features,
                    labels,
                    table.n(),
                    batch,
                    plan,
                    policy,
                    data.toString(),
                    (x, y, rows) -> {},
                    (epoch, pass) ->
                            System.out.printf(
                                    "epoch %d: mean batch loss %.6f over %d steps, %d skipped,"
                                            + " grid epoch %d%n",
                                    epoch,
                                    pass.meanLoss(),
                                    pass.steps(),
                                    learner.skippedSteps(),
                                    learner.gridEpoch()));
            System.out.println(trainingFit(learner, features, labels, table.n()));
            byte[] model = LearnerStateCodec.encode(learner);
            if (modelOptions.beta1 == null && learner.config().beta1() != 0) {
                // trained with momentum, as mini-batches over a table train best; a stream's
                // single labels learn better without it (docs/learning.md)
                model = LearnerStateCodec.withoutMomentum(model);
                System.out.printf(
                        "the model learns on without momentum (beta1 0), as a stream's learner"
                                + " does; fit --beta1 %s keeps the momentum it trained with%n",
                        learner.config().beta1());
            }
            ModelFile.write(model, out);
            System.out.printf("wrote %s%n", out);
        }
        return 0;
    }

    private static String trainingFit(
            KanLearner learner, float[] features, double[] labels, int n) {
        float[] outputs = learner.outputs(features, n);
        int out = learner.outputs();
        Task task = learner.config().task();
        if (task == Task.REGRESSION) {
            double sum = 0;
            for (int s = 0; s < n; s++) {
                sum += Math.pow(outputs[s] - labels[s], 2);
            }
            return String.format("training RMSE %.6f on %d rows", Math.sqrt(sum / n), n);
        }
        int correct = 0;
        for (int s = 0; s < n; s++) {
            if (task.prediction(outputs, s * out, out) == labels[s]) {
                correct++;
            }
        }
        return String.format("training accuracy %.4f on %d rows", (double) correct / n, n);
    }
}
