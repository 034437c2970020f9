package io.kanstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.kanstream.jobs.CliRun;
import io.kanstream.jobs.online.OnlineJobConfig;
import io.kanstream.kan.KanLearner;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

class KanstreamCliTest {
    @TempDir Path temp;

    static Path reference(String name) {
        return Path.of(
                System.getProperty("kanstream.data.dir", "../data"),
                "reference",
                "efficient-kan",
                name);
    }

    static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @ParameterizedTest
    @ValueSource(strings = {"k3g5_3-5-2", "k2g8_4-8-1"})
    void importedWeightsPredictEfficientKanOutputsFromTheCommandLine(String name) throws Exception {
        Path model = temp.resolve("m.kans");
        Path predictions = temp.resolve("y.csv");
        assertThat(
                        run(
                                        "import",
                                        "--from",
                                        "efficient-kan",
                                        "--weights",
                                        reference(name + ".weights.npz").toString(),
                                        "--out",
                                        model.toString())
                                .exit())
                .isZero();
        CliRun predict =
                run(
                        "predict",
                        "--model",
                        model.toString(),
                        "--input",
                        reference(name + ".input.csv").toString(),
                        "--output",
                        predictions.toString());
        assertThat(predict.exit()).as(predict.output()).isZero();
        float[] expected = CsvMatrix.read(reference(name + ".output.csv")).rows();
        CsvMatrix actual = CsvMatrix.read(predictions);
        assertThat(actual.n()).isEqualTo(64);
        for (int q = 0; q < expected.length; q++) {
            assertThat(actual.rows()[q]).isCloseTo(expected[q], within(1e-4f));
        }
    }

    @Test
    void refitWithAFinerGridWritesAModelThatStillPredictsTheSame() throws Exception {
        Path model = temp.resolve("m.kans");
        Path refit = temp.resolve("m2.kans");
        run(
                "import",
                "--from",
                "efficient-kan",
                "--weights",
                reference("k2g8_4-8-1.weights.npz").toString(),
                "--out",
                model.toString());
        Path sample = reference("k2g8_4-8-1.refit-sample.csv");
        CliRun result =
                run(
                        "refit",
                        "--model",
                        model.toString(),
                        "--sample",
                        sample.toString(),
                        "--out",
                        refit.toString(),
                        "--grid-size",
                        "24");
        assertThat(result.exit()).as(result.output()).isZero();
        assertThat(result.output()).contains("G=24", "inside the new grid 100.00%");
        CsvMatrix data = CsvMatrix.read(sample);
        try (KanLearner before = ModelFile.read(model, "cpu");
                KanLearner after = ModelFile.read(refit, "cpu")) {
            assertThat(after.config().gridSize()).isEqualTo(24);
            assertThat(after.gridEpoch()).isEqualTo(1);
            float[] a = before.outputs(data.rows(), data.n());
            float[] b = after.outputs(data.rows(), data.n());
            double diff = 0;
            double norm = 0;
            for (int q = 0; q < a.length; q++) {
                diff += Math.pow(a[q] - b[q], 2);
                norm += Math.pow(a[q], 2);
            }
            assertThat(Math.sqrt(diff / norm)).isLessThan(0.10);
        }
    }

    @Test
    void exportThenImportGivesTheSamePredictions() throws Exception {
        Path model = temp.resolve("m.kans");
        Path npz = temp.resolve("w.npz");
        Path again = temp.resolve("again.kans");
        run(
                "import",
                "--from",
                "efficient-kan",
                "--weights",
                reference("k3g5_3-5-2.weights.npz").toString(),
                "--out",
                model.toString());
        assertThat(
                        run(
                                        "export",
                                        "--to",
                                        "efficient-kan",
                                        "--model",
                                        model.toString(),
                                        "--out",
                                        npz.toString())
                                .exit())
                .isZero();
        assertThat(
                        run(
                                        "import",
                                        "--from",
                                        "efficient-kan",
                                        "--weights",
                                        npz.toString(),
                                        "--out",
                                        again.toString())
                                .exit())
                .isZero();
        CsvMatrix input = CsvMatrix.read(reference("k3g5_3-5-2.input.csv"));
        try (KanLearner a = ModelFile.read(model, "cpu");
                KanLearner b = ModelFile.read(again, "cpu")) {
            assertThat(b.outputs(input.rows(), input.n()))
                    .containsExactly(a.outputs(input.rows(), input.n()));
        }
    }

    @Test
    void fitWarmStartsARegressionModelFromAHistoryCsvWithAHeader() throws Exception {
        Path data = temp.resolve("history.csv");
        StringBuilder csv = new StringBuilder("temperature,load,price\n");
        SplittableRandom random = new SplittableRandom(1);
        double labelSum = 0;
        double labelSquares = 0;
        int rows = 3000;
        for (int r = 0; r < rows; r++) {
            double a = 20 + 10 * random.nextGaussian();
            double b = 500 + 200 * random.nextDouble();
            double y = 50 + 0.05 * (a - 20) * (a - 20) + 0.1 * b;
            labelSum += y;
            labelSquares += y * y;
            csv.append(String.format(Locale.ROOT, "%.4f,%.4f,%.4f%n", a, b, y));
        }
        Files.writeString(data, csv);
        Path model = temp.resolve("fit.kans");
        String[] fitArgs = {"fit", "--data", data.toString(), "--layers", "2,5,1", "--epochs", "3"};
        CliRun fit = run(CliRun.with(fitArgs, "--lr", "0.02", "--out", model.toString()));
        assertThat(fit.exit()).as(fit.output()).isZero();
        assertThat(fit.output()).contains("epoch 3", "training RMSE");
        double std = Math.sqrt(labelSquares / rows - Math.pow(labelSum / rows, 2));
        double rmse =
                Double.parseDouble(
                        fit.output().replaceAll("(?s).*training RMSE ([0-9.]+).*", "$1"));
        assertThat(rmse).as("RMSE against the label's std %.3f", std).isLessThan(0.2 * std);

        // trained with momentum, written to learn on without it as a stream does; --beta1 keeps it
        assertThat(fit.output()).contains("learns on without momentum");
        Path kept = temp.resolve("kept.kans");
        CliRun keep =
                run(
                        CliRun.with(
                                fitArgs,
                                "--lr",
                                "0.02",
                                "--beta1",
                                "0.9",
                                "--out",
                                kept.toString()));
        assertThat(keep.exit()).as(keep.output()).isZero();
        assertThat(keep.output()).doesNotContain("without momentum");
        CsvMatrix table = CsvMatrix.read(data);
        try (KanLearner written = ModelFile.read(model, "cpu");
                KanLearner same = ModelFile.read(kept, "cpu")) {
            assertThat(written.config().beta1()).isZero();
            assertThat(same.config().beta1()).isEqualTo(0.9);
            float[] features = table.leading(2);
            assertThat(written.outputs(features, table.n()))
                    .as("the same training either way")
                    .containsExactly(same.outputs(features, table.n()));
        }
    }

    @Test
    void plotDrawsEveryEdgeOfEveryLayer() throws Exception {
        Path model = temp.resolve("m.kans");
        run(
                "import",
                "--from",
                "efficient-kan",
                "--weights",
                reference("k3g5_3-5-2.weights.npz").toString(),
                "--out",
                model.toString());
        Path plots = temp.resolve("plots");
        CliRun plot = run("plot", "--model", model.toString(), "--out", plots.toString());
        assertThat(plot.exit()).as(plot.output()).isZero();
        java.awt.image.BufferedImage first =
                javax.imageio.ImageIO.read(plots.resolve("layer-0.png").toFile());
        java.awt.image.BufferedImage second =
                javax.imageio.ImageIO.read(plots.resolve("layer-1.png").toFile());
        // 3 inputs x 5 outputs, then 5 inputs x 2 outputs, one cell per edge
        assertThat(first.getWidth()).isEqualTo(3 * 220);
        assertThat(first.getHeight()).isEqualTo(5 * 160 + 30);
        assertThat(second.getWidth()).isEqualTo(5 * 220);
        assertThat(second.getHeight()).isEqualTo(2 * 160 + 30);
    }

    @Test
    void badInputNamesTheFileLineAndColumnAndExitsWithTwo() throws Exception {
        Path data = temp.resolve("bad.csv");
        Files.writeString(data, "1,2,3\n4,five,6\n");
        CliRun fit =
                run(
                        "fit",
                        "--data",
                        data.toString(),
                        "--layers",
                        "2,3,1",
                        "--out",
                        temp.resolve("x.kans").toString());
        assertThat(fit.exit()).isEqualTo(2);
        assertThat(fit.output()).contains("bad.csv line 2, column 2: 'five' is not a number");

        Path model = temp.resolve("m.kans");
        run(
                "import",
                "--from",
                "efficient-kan",
                "--weights",
                reference("k3g5_3-5-2.weights.npz").toString(),
                "--out",
                model.toString());
        CliRun predict =
                run(
                        "predict",
                        "--model",
                        model.toString(),
                        "--input",
                        reference("k2g8_4-8-1.input.csv").toString(),
                        "--output",
                        temp.resolve("y.csv").toString());
        assertThat(predict.exit()).isEqualTo(2);
        assertThat(predict.output()).contains("has 4 columns, the model", "expects 3");

        CliRun notAModel =
                run(
                        "predict",
                        "--model",
                        data.toString(),
                        "--input",
                        data.toString(),
                        "--output",
                        temp.resolve("z.csv").toString());
        assertThat(notAModel.output()).contains("bad.csv", "not a kanstream model");
        assertThat(List.of(notAModel.exit())).containsExactly(2);
    }

    @Test
    void aBoundedRunRefusesToResumeFromACheckpointItCouldNeverFinish() {
        CliRun bounded =
                run(
                        "run",
                        "--bounded",
                        "--restore-from",
                        temp.resolve("chk-7").toString(),
                        "--create-topics=false");
        assertThat(bounded.exit()).isEqualTo(2);
        assertThat(bounded.output())
                .contains("--bounded cannot resume from", "chk-7", "--stop-when-idle");
    }

    @Test
    void anOptionSharedByCommandsReadsTheSameInEachWithTheDefaultOfTheConfig() {
        CommandLine cli = new CommandLine(new KanstreamCli());
        Map<String, List<String>> shared =
                Map.of(
                        "--device", List.of("run", "fit", "import", "predict"),
                        "--layers", List.of("run", "fit"),
                        "--hidden", List.of("replay", "bootstrap"),
                        "--batch-size", List.of("run", "replay", "bootstrap"),
                        "--drift-action", List.of("run", "replay"),
                        "--parallelism", List.of("run", "replay", "bootstrap"));
        OnlineJobConfig job = OnlineJobConfig.builder(OnlineJobConfig.defaultLearner()).build();
        Map<String, String> defaults =
                Map.of(
                        "--device", job.learner().model().device(),
                        "--layers", widths(OnlineJobConfig.DEFAULT_LAYERS),
                        "--hidden",
                                widths(
                                        OnlineJobConfig.DEFAULT_LAYERS.subList(
                                                1, OnlineJobConfig.DEFAULT_LAYERS.size() - 1)),
                        "--batch-size", String.valueOf(job.learner().batchSize()),
                        "--drift-action",
                                job.learner()
                                        .driftAction()
                                        .name()
                                        .toLowerCase(Locale.ROOT)
                                        .replace("_and_", "+"),
                        "--parallelism", String.valueOf(job.parallelism()));
        shared.forEach(
                (name, commands) -> {
                    for (String command : commands) {
                        CommandLine.Model.OptionSpec option =
                                cli.getSubcommands().get(command).getCommandSpec().findOption(name);
                        CommandLine.Model.OptionSpec first =
                                cli.getSubcommands()
                                        .get(commands.get(0))
                                        .getCommandSpec()
                                        .findOption(name);
                        assertThat(option).as(command + " " + name).isNotNull();
                        assertThat(option.description())
                                .as(command + " " + name)
                                .containsExactly(first.description());
                        assertThat(option.defaultValueString())
                                .as(command + " " + name)
                                .isEqualTo(defaults.get(name));
                    }
                });
    }

    private static String widths(List<Integer> widths) {
        return String.join(",", widths.stream().map(String::valueOf).toList());
    }

    @Test
    void everyCommandThatTalksToKafkaTakesTheSameKafkaOptions() {
        for (List<String> command :
                List.of(
                        List.of("run"),
                        List.of("produce"),
                        List.of("replay"),
                        List.of("bench"),
                        List.of("chaos", "steps"),
                        List.of("chaos", "wait-recovered"),
                        List.of("chaos", "verify"),
                        List.of("demo", "watch"),
                        List.of("demo", "dump"))) {
            List<String> args = new java.util.ArrayList<>(command);
            args.add("--help");
            CliRun help = run(args.toArray(String[]::new));
            assertThat(help.exit()).as(String.join(" ", args)).isZero();
            assertThat(help.output().replaceAll("\\s+", " "))
                    .as(String.join(" ", args))
                    .contains("--bootstrap-servers=HOST:PORT[,...]", "default localhost:9092")
                    .contains("--kafka-properties=FILE", "sasl.jaas.config");
        }
    }

    @Test
    void aKafkaPropertiesFileThatCannotWorkIsNamedBeforeAnythingStarts() throws Exception {
        CliRun missing =
                run(
                        "produce",
                        "--synthetic",
                        "drift",
                        "--kafka-properties",
                        temp.resolve("nope.properties").toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.output())
                .contains("--kafka-properties: no such file", "nope.properties");

        Path owned = temp.resolve("owned.properties");
        Files.writeString(owned, "security.protocol=SSL\nisolation.level=read_uncommitted\n");
        CliRun job = run("run", "--kafka-properties", owned.toString());
        assertThat(job.exit()).isEqualTo(2);
        assertThat(job.output()).contains("owned.properties set isolation.level", "exactly-once");
    }

    @Test
    void chaosFieldPrintsTheValuesAScriptNeedsFromAJsonDocument() {
        String sample =
                "{\"state\":\"RUNNING\",\"learner\":{\"kanEvents\":{\"max\":3.0,\"sum\":1200.0}},"
                        + "\"faults\":[{\"name\":\"kill\"}],\"rss_kib\":{\"tm-1\":5}}";
        InputStream originalIn = System.in;
        try {
            System.setIn(new ByteArrayInputStream(sample.getBytes(StandardCharsets.UTF_8)));
            CliRun values =
                    run(
                            "chaos",
                            "field",
                            "learner.kanEvents.sum",
                            "state",
                            "faults.0.name",
                            "rss_kib");
            assertThat(values.exit()).isZero();
            assertThat(values.output().lines())
                    .containsExactly("1200.0", "RUNNING", "kill", "{\"tm-1\":5}");

            System.setIn(new ByteArrayInputStream(sample.getBytes(StandardCharsets.UTF_8)));
            CliRun counted = run("chaos", "field", "--count", ".", "faults");
            assertThat(counted.output().lines()).containsExactly("4", "1");

            System.setIn(new ByteArrayInputStream(sample.getBytes(StandardCharsets.UTF_8)));
            CliRun missing = run("chaos", "field", "restarts");
            assertThat(missing.exit()).isEqualTo(1);
            assertThat(missing.output()).contains("no field restarts");

            System.setIn(new ByteArrayInputStream(sample.getBytes(StandardCharsets.UTF_8)));
            assertThat(run("chaos", "field", "restarts", "--default", "0").output().lines())
                    .containsExactly("0");
        } finally {
            System.setIn(originalIn);
        }
    }
}
