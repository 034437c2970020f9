package io.kanstream.jobs.cli;

import io.kanstream.kan.KanLearner;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "predict",
        mixinStandardHelpOptions = true,
        description =
                "Score a CSV (no header, one sample per row) and write the network's raw outputs,"
                        + " one row per sample: logits for classification, values for regression.")
final class PredictCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model file.")
    Path model;

    @Option(names = "--input", required = true, description = "CSV of features.")
    Path input;

    @Option(names = "--output", required = true, description = "CSV to write.")
    Path output;

    @Mixin LearnerOptions.Device device;

    @Option(names = "--batch", defaultValue = "1024", description = "Rows per forward pass.")
    int batch;

    @Override
    public Integer call() throws Exception {
        try (KanLearner learner = ModelFile.read(model, device.device)) {
            CsvMatrix data =
                    CsvMatrix.read(input).requireWidth(learner.inputs(), "the model " + model);
            int out = learner.outputs();
            float[] outputs = new float[data.n() * out];
            for (int start = 0; start < data.n(); start += batch) {
                int rows = Math.min(batch, data.n() - start);
                float[] chunk = new float[rows * data.width()];
                System.arraycopy(data.rows(), start * data.width(), chunk, 0, chunk.length);
                System.arraycopy(learner.outputs(chunk, rows), 0, outputs, start * out, rows * out);
            }
            CsvMatrix.write(output, outputs, data.n(), out);
            System.out.printf("scored %d rows -> %s%n", data.n(), output);
        }
        return 0;
    }
}
