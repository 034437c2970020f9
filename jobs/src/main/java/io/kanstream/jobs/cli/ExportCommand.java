package io.kanstream.jobs.cli;

import io.kanstream.kan.EfficientKanWeights;
import io.kanstream.kan.KanLearner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "export",
        mixinStandardHelpOptions = true,
        description =
                "Export a model's layers as an efficient-kan state_dict (.npz, float32), loadable"
                        + " with KAN.load_state_dict.")
final class ExportCommand implements Callable<Integer> {
    @Option(names = "--to", required = true, description = "Target format: efficient-kan.")
    String to;

    @Option(names = "--model", required = true, description = "Model file.")
    Path model;

    @Option(names = "--out", required = true, description = "The .npz to write.")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (!to.equals("efficient-kan")) {
            throw new IllegalArgumentException(
                    "--to " + to + " is not supported; the one format is efficient-kan");
        }
        try (KanLearner learner = ModelFile.read(model, "cpu")) {
            System.out.printf(
                    "exported %s -> %s (layers %s)%n", model, out, learner.config().layers());
            writeEfficientKan(learner, out);
        }
        return 0;
    }

    /**
     * Writes the learner's layers as an efficient-kan state_dict, and its input normalization
     * (which efficient-kan has no place for) beside it as {@code OUT.normalizer.json}.
     */
    static void writeEfficientKan(KanLearner learner, Path out) throws java.io.IOException {
        EfficientKanWeights.write(learner, out);
        if (learner.normalizesInputs()) {
            // efficient-kan has no place for it: the SiLU branch of layer 0 is not affine.
            double[][] transform = learner.inputTransform();
            Path sidecar = out.resolveSibling(out.getFileName() + ".normalizer.json");
            Files.writeString(
                    sidecar,
                    "{\"note\":\"efficient-kan input = (x - mean) / scale\",\"mean\":"
                            + Arrays.toString(transform[0])
                            + ",\"scale\":"
                            + Arrays.toString(transform[1])
                            + "}\n");
            System.out.printf(
                    "note: this model normalizes its inputs; feed efficient-kan (x - mean) / scale"
                            + " with mean and scale from %s%n",
                    sidecar);
        }
    }
}
