package io.kanstream.jobs.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kanstream.jobs.cli.KanstreamCli;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvaluateCommandTest {
    @TempDir Path temp;

    @Test
    void quickSuiteReportsEveryModelOfEveryStreamAsMeanAndSdOverTwoSeeds() throws Exception {
        Path json = temp.resolve("evaluate.json");
        int exit =
                KanstreamCli.execute(
                        "evaluate", "--quick", "--streams", "toy,abrupt", "--out", json.toString());
        assertThat(exit).isZero();

        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(root.get("command").asText())
                .isEqualTo("kanstream evaluate --quick --streams toy,abrupt --out " + json);
        assertThat(root.get("date").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
        assertThat(root.get("wall_seconds").asDouble()).isPositive();
        assertThat(root.get("seeds")).hasSize(2);
        Map<String, List<String>> expected =
                Map.of(
                        "toy",
                        List.of(
                                "kan",
                                "kan-refit-off",
                                "kan-drift-off",
                                "kan+extension",
                                "kan-batch-32",
                                "kan-calibration-off",
                                "kan-average-off",
                                "kan-initial-rate-off",
                                "kan-population-off",
                                "kan-one-pass",
                                "linear"),
                        "abrupt",
                        List.of(
                                "kan",
                                "kan-refit-off",
                                "kan-drift-off",
                                "kan+extension",
                                "kan-batch-32",
                                "kan-calibration-off",
                                "kan-average-off",
                                "kan-initial-rate-off",
                                "kan-population-off",
                                "no_change",
                                "majority",
                                "linear",
                                "frozen"));
        assertThat(fieldNames(root.get("streams"))).containsExactly("toy", "abrupt");
        expected.forEach(
                (stream, models) -> {
                    JsonNode node = root.get("streams").get(stream);
                    assertThat(node.get("wall_seconds").asDouble()).isPositive();
                    assertThat(fieldNames(node.get("models")))
                            .as("models of %s", stream)
                            .containsExactlyElementsOf(models);
                    node.get("models")
                            .fields()
                            .forEachRemaining(
                                    model ->
                                            model.getValue()
                                                    .fields()
                                                    .forEachRemaining(
                                                            figure ->
                                                                    checkSpread(
                                                                            stream
                                                                                    + " "
                                                                                    + model.getKey()
                                                                                    + " "
                                                                                    + figure
                                                                                            .getKey(),
                                                                            figure.getValue())));
                });
        assertThat(fieldNames(root.get("streams").get("toy").get("models").get("kan")))
                .containsExactly("test_rmse", "rmse", "refits");
        assertThat(fieldNames(root.get("streams").get("abrupt").get("models").get("kan")))
                .contains("accuracy", "kappa_temporal", "log_loss");
        // every model but the reference is paired with it seed by seed; drift-off equals the
        // defaults on a stream without drift responses that change the learner
        JsonNode abrupt = root.get("streams").get("abrupt").get("models");
        assertThat(abrupt.get("kan").get("accuracy").has("paired_with_kan")).isFalse();
        JsonNode pairedLinear = abrupt.get("linear").get("accuracy").get("paired_with_kan");
        assertThat(pairedLinear.get("mean_difference").asDouble())
                .isCloseTo(
                        abrupt.get("linear").get("accuracy").get("mean").asDouble()
                                - abrupt.get("kan").get("accuracy").get("mean").asDouble(),
                        within(1e-12));
        assertThat(pairedLinear.get("seeds_behind").asInt()).isEqualTo(2); // far below the KAN
        assertThat(pairedLinear.get("verdict").asText()).isIn("worse", "tie");
        // the data of a synthetic stream is drawn from the seed: the baselines differ per seed
        JsonNode linear =
                root.get("streams").get("abrupt").get("models").get("linear").get("accuracy");
        assertThat(linear.get("per_seed").get(0).asDouble())
                .isNotEqualTo(linear.get("per_seed").get(1).asDouble());
        assertThat(linear.get("sd").asDouble()).isPositive();
    }

    @Test
    void variantsNamesWhichVariantsRunBesideTheReferenceAndRefusesUnknownOnes() throws Exception {
        Path json = temp.resolve("variants.json");
        int exit =
                KanstreamCli.execute(
                        "evaluate",
                        "--quick",
                        "--seeds",
                        "1",
                        "--streams",
                        "toy",
                        "--variants",
                        "kan+companion-1",
                        "--out",
                        json.toString());
        assertThat(exit).isZero();
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(fieldNames(root.get("streams").get("toy").get("models")))
                .containsExactly("kan", "kan+companion-1", "kan-one-pass", "linear");
        assertThat(fieldNames(root.get("variants"))).containsExactly("kan", "kan+companion-1");

        assertThat(
                        KanstreamCli.execute(
                                "evaluate",
                                "--quick",
                                "--variants",
                                "kan-no-such-thing",
                                "--out",
                                temp.resolve("none.json").toString()))
                .isNotZero();
        assertThat(temp.resolve("none.json")).doesNotExist();
    }

    @Test
    void seedsReplayedAtOnceGiveTheFiguresOfOneAtATime() throws Exception {
        JsonNode[] runs = new JsonNode[2];
        for (int jobs = 1; jobs <= 2; jobs++) {
            Path json = temp.resolve("jobs-" + jobs + ".json");
            int exit =
                    KanstreamCli.execute(
                            "evaluate",
                            "--quick",
                            "--streams",
                            "abrupt,few-labels",
                            "--variants",
                            "kan-average-off",
                            "--jobs",
                            Integer.toString(jobs),
                            "--out",
                            json.toString());
            assertThat(exit).isZero();
            runs[jobs - 1] = new ObjectMapper().readTree(json.toFile());
            assertThat(runs[jobs - 1].get("jobs").asInt()).isEqualTo(jobs);
        }
        for (String stream : List.of("abrupt", "few-labels")) {
            JsonNode one = runs[0].get("streams").get(stream).get("models");
            JsonNode two = runs[1].get("streams").get(stream).get("models");
            assertThat(fieldNames(two)).containsExactlyElementsOf(fieldNames(one));
            for (String model : fieldNames(one)) {
                for (String figure : fieldNames(one.get(model))) {
                    assertThat(two.get(model).get(figure).get("per_seed"))
                            .as("%s %s %s", stream, model, figure)
                            .isEqualTo(one.get(model).get(figure).get("per_seed"));
                }
            }
        }
        assertThat(
                        KanstreamCli.execute(
                                "evaluate",
                                "--quick",
                                "--jobs",
                                "0",
                                "--out",
                                temp.resolve("no-jobs.json").toString()))
                .isNotZero();
        assertThat(temp.resolve("no-jobs.json")).doesNotExist();
    }

    private static void checkSpread(String what, JsonNode figure) {
        JsonNode perSeed = figure.get("per_seed");
        assertThat(perSeed).as(what).hasSize(2);
        double a = perSeed.get(0).asDouble();
        double b = perSeed.get(1).asDouble();
        assertThat(perSeed.get(0).isNumber() && perSeed.get(1).isNumber())
                .as("%s per seed %s finite", what, perSeed)
                .isTrue();
        assertThat(List.of(a, b)).as(what).allMatch(Double::isFinite);
        assertThat(figure.get("mean").asDouble()).as(what).isCloseTo((a + b) / 2, within(1e-12));
        // the sample sd of two values is their distance over sqrt(2)
        assertThat(figure.get("sd").asDouble())
                .as(what)
                .isGreaterThanOrEqualTo(0)
                .isCloseTo(Math.abs(a - b) / Math.sqrt(2), within(1e-12));
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
