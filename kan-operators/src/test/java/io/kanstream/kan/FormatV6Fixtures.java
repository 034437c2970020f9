package io.kanstream.kan;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * How the model-state fixtures in {@code src/test/resources/state/v6/} were made: the learners,
 * stream, refit and probes of {@link FormatV5Fixtures}, then two looks at the grids that a policy
 * of zero tolerance declines, so that the refits declined in a row, which only format 6 writes, are
 * 2. {@link LearnerStateFixturesTest} restores them.
 *
 * <p>Kept to document the fixtures, not to refresh them: rerunning it on newer code writes the NEW
 * format. The command (from the repository's root, on a commit that writes format 6):
 *
 * <pre>
 * mvn -B -pl kan-operators test-compile org.codehaus.mojo:exec-maven-plugin:3.5.0:java \
 *     -Dexec.classpathScope=test -Dexec.mainClass=io.kanstream.kan.FormatV6Fixtures \
 *     -Dai.djl.offline=true -Dexec.args=kan-operators/src/test/resources/state/v6
 * </pre>
 */
public final class FormatV6Fixtures {
    private FormatV6Fixtures() {}

    /**
     * The defaults but a tolerance of 0: every proposal changes the outputs, so each is declined.
     */
    private static final RefitPolicy DECLINES_ALL =
            new RefitPolicy(0.2, 0.15, 0, 500, 2, 0, 0, 1000);

    public static void main(String[] args) throws IOException {
        Path dir = FormatV1Fixtures.outputDirectory(args, "FormatV6Fixtures", "v6");
        write(dir, Task.BINARY);
        write(dir, Task.REGRESSION);
    }

    private static void write(Path dir, Task task) throws IOException {
        String name = "learner-4-8-1-" + task.name().toLowerCase(Locale.ROOT);
        Path model = dir.resolve(name + ".kans");
        FormatV3Fixtures.write(dir, name, KanConfig.builder(List.of(4, 8, 1)).task(task).build());
        try (KanLearner learner = LearnerStateCodec.decode(Files.readAllBytes(model), "cpu")) {
            for (int look = 0; look < 2; look++) {
                if (learner.refitWithinTolerance(DECLINES_ALL) != null) {
                    throw new IllegalStateException("a refit within tolerance 0 was applied");
                }
            }
            Files.write(model, LearnerStateCodec.encode(learner));
            // the probe file's counters, and the one this format adds
            FormatV1Fixtures.writeProbes(
                    learner,
                    dir.resolve(name + ".probe.csv"),
                    " declinedInARow=" + learner.declinedInARow());
        }
    }
}
