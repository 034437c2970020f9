package io.kanstream.jobs.cli;

import io.kanstream.kan.EfficientKanWeights;
import io.kanstream.kan.KanConfig;
import io.kanstream.kan.KanLearner;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "import",
        mixinStandardHelpOptions = true,
        description = "Import a model trained elsewhere (efficient-kan state_dict saved as .npz).")
final class ImportCommand implements Callable<Integer> {
    @Option(names = "--from", required = true, description = "Source format: efficient-kan.")
    String from;

    @Option(names = "--weights", required = true, description = "The .npz with layers.N.* arrays.")
    Path weights;

    @Option(names = "--out", required = true, description = "Model file to write.")
    Path out;

    @Mixin LearnerOptions.InferredTask task;

    @Option(
            names = "--lr",
            defaultValue = "0.01",
            description = "Learning rate for later training.")
    double learningRate;

    @Mixin LearnerOptions.Device device;

    @Override
    public Integer call() throws Exception {
        if (!from.equals("efficient-kan")) {
            throw new IllegalArgumentException(
                    "--from " + from + " is not supported; the one format is efficient-kan");
        }
        KanConfig.Builder settings =
                KanConfig.builder(List.of(1, 1)).learningRate(learningRate).device(device.device);
        try (KanLearner learner =
                EfficientKanWeights.importLearner(weights, settings, task.task())) {
            ModelFile.write(learner, out);
            KanConfig c = learner.config();
            System.out.printf(
                    "imported %s: layers %s, G=%d, k=%d, task %s -> %s%n",
                    weights,
                    c.layers(),
                    c.gridSize(),
                    c.splineOrder(),
                    c.task().name().toLowerCase(),
                    out);
        }
        return 0;
    }
}
