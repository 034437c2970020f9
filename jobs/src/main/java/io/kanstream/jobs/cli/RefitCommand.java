package io.kanstream.jobs.cli;

import io.kanstream.kan.KanLearner;
import io.kanstream.kan.RefitResult;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "refit",
        mixinStandardHelpOptions = true,
        description =
                "Refit every layer's knot grid from a sample (each layer from its own inputs),"
                        + " preserving the network's function; the same code the stream runs.")
final class RefitCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model file.")
    Path model;

    @Option(names = "--sample", required = true, description = "CSV of input rows.")
    Path sample;

    @Option(names = "--out", required = true, description = "Model file to write.")
    Path out;

    @Option(
            names = "--grid-size",
            description =
                    "Grid size after the refit (default: keep); larger is pykan's grid extension.")
    Integer gridSize;

    @Override
    public Integer call() throws Exception {
        try (KanLearner learner = ModelFile.read(model, "auto")) {
            CsvMatrix data =
                    CsvMatrix.read(sample).requireWidth(learner.inputs(), "the model " + model);
            float[] before = learner.outputs(data.rows(), data.n());
            int size = gridSize == null ? learner.config().gridSize() : gridSize;
            RefitResult result = learner.refit(data.rows(), data.n(), size);
            float[] after = learner.outputs(data.rows(), data.n());
            double diff = 0;
            double norm = 0;
            for (int q = 0; q < before.length; q++) {
                diff += Math.pow(after[q] - before[q], 2);
                norm += Math.pow(before[q], 2);
            }
            ModelFile.write(learner, out);
            System.out.printf(
                    "refit %s on %d samples: G=%d, layer-0 inputs inside the new grid %.2f%%,"
                            + " outputs changed by %.2f%% (relative L2) -> %s%n",
                    model,
                    data.n(),
                    result.gridSize(),
                    100 * result.insideFraction()[0],
                    100 * Math.sqrt(diff / Math.max(norm, 1e-300)),
                    out);
        }
        return 0;
    }
}
