package io.kanstream.jobs.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.kanstream.jobs.CliRun;
import io.kanstream.jobs.cli.KanstreamCli;
import io.kanstream.jobs.produce.SyntheticDrift;
import io.kanstream.kan.Task;
import io.kanstream.stream.Event;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplayTest {
    @TempDir Path temp;

    static Path data(String... parts) {
        return Path.of(System.getProperty("kanstream.data.dir", "../data"), parts);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> summary(Path report) throws IOException {
        return new ObjectMapper().readValue(report.resolve("summary.json").toFile(), Map.class);
    }

    @SuppressWarnings("unchecked")
    static double figure(Map<String, Object> summary, String... path) {
        Object node = summary;
        for (String step : path) {
            node = ((Map<String, Object>) node).get(step);
        }
        return ((Number) node).doubleValue();
    }

    /** A synthetic stream with an abrupt concept change, as a CSV a user could have. */
    static Path driftCsv(Path file, Task task, int keys, int events, int driftAt)
            throws IOException {
        SyntheticDrift stream = new SyntheticDrift(keys, 4, driftAt, task, 0.05, 7);
        List<String> lines = new ArrayList<>();
        lines.add("time,key,x0,x1,x2,x3,label");
        for (int i = 0; i < events; i++) {
            Event e = stream.event(i, 1_700_000_000_000L + 1000L * i);
            float[] x = e.features();
            lines.add(
                    String.format(
                            Locale.ROOT,
                            "%d,%s,%s,%s,%s,%s,%s",
                            e.ts(),
                            e.key(),
                            x[0],
                            x[1],
                            x[2],
                            x[3],
                            task == Task.REGRESSION
                                    ? e.label().toString()
                                    : Integer.toString(e.label().intValue())));
        }
        Files.write(file, lines);
        return file;
    }

    @Test
    void elecReplayWithTheLagLabelBeatsTheNoChangeBaselineAndDrawsItsCharts() throws Exception {
        Path report = temp.resolve("elec");
        int exit =
                KanstreamCli.execute(
                        "replay",
                        "--input",
                        data("electricity", "electricity.csv").toString(),
                        "--label-column",
                        "class",
                        "--positive-label",
                        "UP",
                        "--lag-label",
                        "--report",
                        report.toString());
        assertThat(exit).isZero();
        Map<String, Object> summary = summary(report);
        double accuracy = figure(summary, "accuracy");
        double noChange = figure(summary, "baselines", "no_change", "accuracy");
        System.out.printf(
                "ELEC2 with lag label: KAN accuracy %.4f, kappa_t %.4f; no-change %.4f, linear %.4f,"
                        + " frozen %.4f%n",
                accuracy,
                figure(summary, "kappa_temporal"),
                noChange,
                figure(summary, "baselines", "linear", "accuracy"),
                figure(summary, "baselines", "frozen", "accuracy"));
        assertThat(figure(summary, "events")).isEqualTo(45312);
        assertThat(noChange).isCloseTo(0.8533, org.assertj.core.api.Assertions.within(0.0005));
        assertThat(accuracy).isGreaterThan(noChange);
        assertThat(figure(summary, "kappa_temporal")).isGreaterThan(0);
        for (String name : List.of("kappa", "log_loss", "auc", "ece")) {
            assertThat(summary).containsKey(name);
        }
        for (String baseline : List.of("no_change", "majority", "linear", "frozen")) {
            assertThat(figure(summary, "baselines", baseline, "accuracy")).isBetween(0.0, 1.0);
        }
        for (String file : ReportWriter.files()) {
            assertThat(report.resolve(file)).isNotEmptyFile();
        }
        BufferedImage chart = ImageIO.read(report.resolve("learning-curve.png").toFile());
        assertThat(chart.getWidth()).isEqualTo(1100);
        assertThat(Files.readString(report.resolve("report.html")))
                .contains("learning-curve.png", "no_change", "frozen", "Per key");
        assertThat(Files.readAllLines(report.resolve("metrics.csv")).size()).isGreaterThan(300);
    }

    @Test
    void wholeNumberLabelsReadAsARegressionSayHowToReadThemAsClasses() throws Exception {
        // three classes around the corners of a triangle, labelled 0, 1, 2
        List<String> lines = new ArrayList<>();
        lines.add("x0,x1,label");
        java.util.SplittableRandom random = new java.util.SplittableRandom(5);
        for (int i = 0; i < 1500; i++) {
            int c = random.nextInt(3);
            double angle = 2 * Math.PI * c / 3;
            lines.add(
                    String.format(
                            Locale.ROOT,
                            "%.4f,%.4f,%d",
                            2 * Math.cos(angle) + 0.5 * random.nextGaussian(),
                            2 * Math.sin(angle) + 0.5 * random.nextGaussian(),
                            c));
        }
        Path csv = Files.write(temp.resolve("classes.csv"), lines);

        CliRun inferred =
                CliRun.of(
                        "replay",
                        "--input",
                        csv.toString(),
                        "--report",
                        temp.resolve("inferred").toString());
        CliRun asClasses =
                CliRun.of(
                        "replay",
                        "--input",
                        csv.toString(),
                        "--task",
                        "multiclass",
                        "--out", // the same option as --report
                        temp.resolve("classes").toString());
        assertThat(inferred.exit()).isZero();
        assertThat(asClasses.exit()).isZero();
        assertThat(inferred.output() + asClasses.output())
                .containsOnlyOnce(
                        "note: the labels are 3 whole numbers from 0 to 2, read as a regression"
                                + " target; if they are classes, pass --task multiclass");
        // as classes, the KAN's log-loss is taken on its scores' class probabilities
        Map<String, Object> summary = summary(temp.resolve("classes"));
        assertThat(figure(summary, "accuracy")).isGreaterThan(0.85);
        assertThat(figure(summary, "log_loss"))
                .isLessThan(figure(summary, "baselines", "no_change", "log_loss"));
        // and AUC, each class's probability against the rest, averaged over the three
        assertThat(figure(summary, "auc")).isGreaterThan(0.9);
        assertThat(figure(summary, "baselines", "majority", "auc")).isBetween(0.35, 0.65);
        assertThat(Files.readString(temp.resolve("classes").resolve("report.html")))
                .contains("each class's probability ranked against the rest");
    }

    @Test
    void replayStartsEveryKeyFromAFittedModelAsARunWithModelWould() throws Exception {
        // one concept: a model fitted on its history, then a replay of what came after
        java.util.SplittableRandom random = new java.util.SplittableRandom(9);
        List<String> history = new ArrayList<>();
        List<String> after = new ArrayList<>(List.of("x0,x1,label"));
        for (int i = 0; i < 3_400; i++) {
            double a = random.nextDouble() * 2 - 1;
            double b = random.nextDouble() * 2 - 1;
            int label = Math.hypot(a, b) < 0.6 ? 1 : 0;
            String row = String.format(java.util.Locale.ROOT, "%.5f,%.5f,%d", a, b, label);
            (i < 3_000 ? history : after).add(row);
        }
        Path fitCsv = Files.write(temp.resolve("history.csv"), history);
        Path replayCsv = Files.write(temp.resolve("after.csv"), after);
        Path model = temp.resolve("fitted.kans");
        assertThat(
                        KanstreamCli.execute(
                                "fit",
                                "--data",
                                fitCsv.toString(),
                                "--layers",
                                "2,8,1",
                                "--task",
                                "binary",
                                "--out",
                                model.toString()))
                .isZero();

        Path warm = temp.resolve("warm");
        Path cold = temp.resolve("cold");
        String[] replay = {"replay", "--input", replayCsv.toString(), "--report"};
        assertThat(
                        KanstreamCli.execute(
                                CliRun.with(replay, warm.toString(), "--model", model.toString())))
                .isZero();
        assertThat(KanstreamCli.execute(CliRun.with(replay, cold.toString()))).isZero();
        Map<String, Object> started = summary(warm);
        // 400 rows: a fresh KAN is still learning the circle that the fitted one already knows
        assertThat(figure(started, "accuracy")).isGreaterThan(0.9);
        assertThat(figure(started, "accuracy")).isGreaterThan(figure(summary(cold), "accuracy"));
        assertThat(started.get("run").toString()).contains("fitted.kans");
        // its own steps, one per label, not the fitted model's before it
        assertThat(figure(started, "steps")).isEqualTo(400.0);

        // a model that does not fit the table, or settings a model keeps, are named
        String[] fromModel = CliRun.with(replay, cold.toString(), "--model", model.toString());
        CliRun wrongWidth = CliRun.of(CliRun.with(fromModel, "--lag-label"));
        CliRun hidden = CliRun.of(CliRun.with(fromModel, "--hidden", "4"));
        assertThat(wrongWidth.exit()).isNotZero();
        assertThat(wrongWidth.output())
                .contains("this table needs 3 inputs (2 features and the lag label)");
        assertThat(hidden.exit()).isNotZero();
        assertThat(hidden.output()).contains("--hidden cannot be combined with --model");
    }

    @Test
    void keysWithFewLabelsEachLearnFromEachOtherWithAModelTheyShare() throws Exception {
        // 200 cards with 8 labels each of one concept: alone, a card's model barely moves
        java.util.SplittableRandom random = new java.util.SplittableRandom(21);
        List<String> rows = new ArrayList<>(List.of("card,x0,x1,label"));
        for (int i = 0; i < 1_600; i++) {
            double a = random.nextDouble() * 2 - 1;
            double b = random.nextDouble() * 2 - 1;
            int label = Math.hypot(a, b) < 0.6 ? 1 : 0;
            rows.add(
                    String.format(java.util.Locale.ROOT, "c%d,%.5f,%.5f,%d", i % 200, a, b, label));
        }
        Path csv = Files.write(temp.resolve("cards.csv"), rows);
        String[] replay = {"replay", "--input", csv.toString(), "--key-column", "card", "--report"};
        Path alone = temp.resolve("alone");
        Path shared = temp.resolve("shared");
        assertThat(KanstreamCli.execute(CliRun.with(replay, alone.toString(), "--no-population")))
                .isZero();
        // the default shares a model between the keys
        assertThat(KanstreamCli.execute(CliRun.with(replay, shared.toString()))).isZero();
        assertThat(figure(summary(shared), "accuracy"))
                .isGreaterThan(figure(summary(alone), "accuracy") + 0.05);
        assertThat(figure(summary(shared), "log_loss"))
                .isLessThan(figure(summary(alone), "log_loss"));
    }

    @Test
    void replayingTheSameInputTwiceGivesIdenticalFigures() throws Exception {
        Path csv = driftCsv(temp.resolve("binary.csv"), Task.BINARY, 3, 3000, 1500);
        Map<String, Object> first = null;
        for (int run = 0; run < 2; run++) {
            Path report = temp.resolve("run" + run);
            int exit =
                    KanstreamCli.execute(
                            "replay",
                            "--input",
                            csv.toString(),
                            "--key-column",
                            "key",
                            "--time-column",
                            "time",
                            "--label-delay",
                            "40",
                            "--batch-size",
                            "4",
                            "--parallelism",
                            "2",
                            "--report",
                            report.toString());
            assertThat(exit).isZero();
            Map<String, Object> summary = summary(report);
            summary.remove("run");
            if (first == null) {
                first = summary;
            } else {
                assertThat(summary).isEqualTo(first);
            }
        }
        assertThat(figure(first, "labeled")).isEqualTo(3000);
        assertThat((Map<?, ?>) first.get("per_key")).hasSize(3);
    }

    @Test
    void aBinaryReplayReportsEveryModelsCalibrationAndDrawsTheReliabilityDiagram()
            throws Exception {
        Path csv = driftCsv(temp.resolve("calibration.csv"), Task.BINARY, 2, 2000, 1000);
        Path report = temp.resolve("calibration");
        int exit =
                KanstreamCli.execute(
                        "replay",
                        "--input",
                        csv.toString(),
                        "--key-column",
                        "key",
                        "--time-column",
                        "time",
                        "--report",
                        report.toString());
        assertThat(exit).isZero();

        Map<String, Object> summary = summary(report);
        assertThat(figure(summary, "ece")).isBetween(0.0, 1.0);
        for (String baseline : List.of("no_change", "majority", "linear", "frozen")) {
            assertThat(figure(summary, "baselines", baseline, "ece")).isBetween(0.0, 1.0);
        }
        BufferedImage diagram = ImageIO.read(report.resolve(ReportWriter.RELIABILITY_PNG).toFile());
        assertThat(diagram.getWidth()).isEqualTo(900);
        String html = Files.readString(report.resolve("report.html"));
        assertThat(html).contains("<img src=\"reliability.png\"", "Calibration", "MCE");
        // one row per bin of the per-bin table, the last bin closed at 1
        assertThat(html).contains("<td>[0.00, 0.10)</td>", "<td>[0.90, 1.00]</td>");
    }

    @Test
    void afterAnAbruptChangeTheLearningKanRecoversAndTheFrozenOneDoesNot() throws Exception {
        int driftAt = 4000;
        Path csv = driftCsv(temp.resolve("regression.csv"), Task.REGRESSION, 1, 12000, driftAt);
        Path report = temp.resolve("drift");
        int exit =
                KanstreamCli.execute(
                        "replay",
                        "--input",
                        csv.toString(),
                        "--key-column",
                        "key",
                        "--time-column",
                        "time",
                        "--label-column",
                        "label",
                        "--task",
                        "regression",
                        "--window",
                        "500",
                        "--warmup",
                        "2000",
                        "--report",
                        report.toString());
        assertThat(exit).isZero();
        List<String> lines = Files.readAllLines(report.resolve("metrics.csv"));
        List<String> header = List.of(lines.get(0).split(","));
        int kan = header.indexOf("kan_window_rmse");
        int frozen = header.indexOf("frozen_window_rmse");
        double kanBefore = Double.NaN;
        double frozenBefore = Double.NaN;
        int recoveredAt = -1;
        double frozenEnd = Double.NaN;
        for (String line : lines.subList(1, lines.size())) {
            String[] cells = line.split(",", -1);
            int row = Integer.parseInt(cells[0]);
            double k = Double.parseDouble(cells[kan]);
            double f = Double.parseDouble(cells[frozen]);
            if (row < driftAt) {
                kanBefore = k;
                frozenBefore = f;
            } else if (recoveredAt < 0 && row > driftAt + 100 && k <= 1.2 * kanBefore) {
                recoveredAt = row;
            }
            frozenEnd = f;
        }
        System.out.printf(
                "abrupt change at %d: KAN windowed RMSE %.4f before, back within 20%% after %d events;"
                        + " frozen KAN %.4f before, %.4f at the end%n",
                driftAt, kanBefore, recoveredAt - driftAt, frozenBefore, frozenEnd);
        assertThat(recoveredAt).as("the learning KAN recovers").isPositive();
        assertThat(frozenEnd).as("the frozen KAN does not").isGreaterThan(1.2 * frozenBefore);
        assertThat(figure(summary(report), "drifts")).isGreaterThanOrEqualTo(1);
        assertThat(report.resolve(ReportWriter.RELIABILITY_PNG))
                .as("no reliability diagram for regression")
                .doesNotExist();
    }

    @Test
    void aBadCellIsNamedByFileLineAndColumn() throws Exception {
        Path csv = temp.resolve("bad.csv");
        Files.writeString(csv, "a,b,label\n1,2,0\n3,x,1\n");
        assertThatThrownBy(
                        () ->
                                HistoryTable.read(
                                        csv,
                                        new HistoryTable.Options(
                                                "label", null, null, Set.of(), null, null)))
                .hasMessageContaining("bad.csv line 3, column b: 'x' is not a number");
        assertThatThrownBy(
                        () ->
                                HistoryTable.read(
                                        csv,
                                        new HistoryTable.Options(
                                                "class", null, null, Set.of(), null, null)))
                .hasMessageContaining("no label column 'class'");
    }
}
