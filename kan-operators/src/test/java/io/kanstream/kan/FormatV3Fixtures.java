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
 * with a companion KAN at 3× the learning rate ({@code --companions 3}), the part format 3 added,
 * and a regression learner with two companions (learning-rate factors 0.5 and 2). {@link
 * LearnerStateFixturesTest} restores them.
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
        write(dir, Task.REGRESSION, List.of(0.5, 2.0), "-mixture");
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
        write(dir, name, config);
    }

    /**
     * A learner of {@code config} after the stream of {@link FormatV2Fixtures} (scored, then
     * learned, one example at a time, its grids refit from its summaries halfway), written as
     * {@code <name>.kans} with its probes beside it.
     */
    static void write(Path dir, String name, KanConfig config) throws IOException {
        try (KanLearner learner = KanLearner.create(config)) {
            SplittableRandom random = new SplittableRandom(2024);
            for (int e = 0; e < FormatV2Fixtures.EXAMPLES; e++) {
                float[] row = FormatV1Fixtures.rows(random, 1);
                learner.score(row, 1);
                learner.learn(row, FormatV1Fixtures.labels(config.task(), row, random));
                if (e + 1 == FormatV2Fixtures.REFIT_AFTER) {
                    learner.refitFromStatistics();
                }
            }
            Files.write(dir.resolve(name + ".kans"), LearnerStateCodec.encode(learner));
            FormatV1Fixtures.writeProbes(learner, dir.resolve(name + ".probe.csv"));
        }
    }
}
