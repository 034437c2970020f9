package io.kanstream.kan;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * How the model-state fixtures in {@code src/test/resources/state/v3/} were made: the learners,
 * stream and probes of {@link FormatV2Fixtures} (Adam with its first moment, β₁ = 0.9, the default
 * of their commit), written with {@link LearnerStateCodec} format version 3, and a third learner
 * with a companion KAN at 3× the learning rate ({@code --companions 3}), the part format 3 added.
 * {@link LearnerStateFixturesTest} restores them.
 *
 * <p>Kept to document the fixtures, not to refresh them: rerunning it on newer code writes the NEW
 * format. The command (from the repository's root, on a commit that writes format 3):
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
        write(dir, Task.BINARY, List.of(), "");
        write(dir, Task.REGRESSION, List.of(), "");
        write(dir, Task.BINARY, List.of(3.0), "-companions");
    }

    private static void write(Path dir, Task task, List<Double> companions, String suffix)
            throws IOException {
        String name = "learner-4-8-1-" + task.name().toLowerCase(Locale.ROOT) + suffix;
        KanConfig config =
                KanConfig.builder(List.of(4, 8, 1))
                        .task(task)
                        .beta1(0.9)
                        .companionRates(companions)
                        .build();
        try (KanLearner learner = KanLearner.create(config)) {
            SplittableRandom random = new SplittableRandom(2024);
            for (int e = 0; e < FormatV2Fixtures.EXAMPLES; e++) {
                float[] row = FormatV1Fixtures.rows(random, 1);
                learner.score(row, 1);
                learner.learn(row, FormatV1Fixtures.labels(task, row, random));
                if (e + 1 == FormatV2Fixtures.REFIT_AFTER) {
                    learner.refitFromStatistics();
                }
            }
            Files.write(dir.resolve(name + ".kans"), LearnerStateCodec.encode(learner));
            FormatV1Fixtures.writeProbes(learner, dir.resolve(name + ".probe.csv"));
        }
    }
}
