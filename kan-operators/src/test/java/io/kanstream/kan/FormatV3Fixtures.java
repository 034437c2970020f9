package io.kanstream.kan;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * How the model-state fixtures in {@code src/test/resources/state/v3/} were made: the learners,
 * stream and probes of {@link FormatV2Fixtures}, plus a regression learner with two companions
 * ({@link LearnerMixture}), written with {@link LearnerStateCodec} format version 3. {@link
 * LearnerStateFixturesTest} restores them and checks that encoding what it decoded gives the same
 * bytes: format 3 is what the job writes today, so its bytes must not move.
 *
 * <p>Kept to document the fixtures, not to refresh them: rerunning it on newer code writes the
 * newer format. The command (from the repository's root, on a commit that writes format 3):
 *
 * <pre>
 * mvn -B -pl kan-operators test-compile org.codehaus.mojo:exec-maven-plugin:3.5.0:java \
 *     -Dexec.classpathScope=test -Dexec.mainClass=io.kanstream.kan.FormatV3Fixtures \
 *     -Dai.djl.offline=true -Dexec.args=kan-operators/src/test/resources/state/v3
 * </pre>
 */
public final class FormatV3Fixtures {
    private FormatV3Fixtures() {}

    public static void main(String[] args) throws IOException {
        Path dir = FormatV1Fixtures.outputDirectory(args, "FormatV3Fixtures", "v3");
        write(dir, "learner-4-8-1-binary", KanConfig.builder(List.of(4, 8, 1)).task(Task.BINARY));
        write(
                dir,
                "learner-4-8-1-regression",
                KanConfig.builder(List.of(4, 8, 1)).task(Task.REGRESSION));
        write(
                dir,
                "learner-4-8-1-mixture",
                KanConfig.builder(List.of(4, 8, 1))
                        .task(Task.REGRESSION)
                        .companionRates(List.of(0.5, 2.0)));
    }

    private static void write(Path dir, String name, KanConfig.Builder config) throws IOException {
        Task task = config.build().task();
        try (KanLearner learner = KanLearner.create(config.build())) {
            SplittableRandom random = new SplittableRandom(2024);
            for (int e = 0; e < FormatV2Fixtures.EXAMPLES; e++) {
                float[] row = FormatV1Fixtures.rows(random, 1);
                learner.score(row, 1);
                learner.learn(row, FormatV1Fixtures.labels(task, row, random));
                if (e + 1 == FormatV2Fixtures.REFIT_AFTER) {
                    learner.refitFromStatistics();
                }
            }
            byte[] bytes = LearnerStateCodec.encode(learner);
            Files.write(dir.resolve(name + ".kans"), bytes);
            FormatV1Fixtures.writeProbes(learner, dir.resolve(name + ".probe.csv"));
            System.out.printf(
                    "%s: steps %d, examples %d, grid epoch %d, %d bytes%n",
                    name, learner.steps(), learner.examples(), learner.gridEpoch(), bytes.length);
        }
    }
}
