package io.kanstream.kan;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * How the model-state fixtures in {@code src/test/resources/state/v7/} were made: the learners,
 * stream, refit and probes of {@link FormatV5Fixtures} with every default of the commit that
 * introduced format 7, whose binary calibration learns a temperature and no bias, the flag only
 * format 7 writes. {@link LearnerStateFixturesTest} restores them.
 *
 * <p>Kept to document the fixtures, not to refresh them: rerunning it on newer code writes the NEW
 * format. The command (from the repository's root, on a commit that writes format 7):
 *
 * <pre>
 * mvn -B -pl kan-operators test-compile org.codehaus.mojo:exec-maven-plugin:3.5.0:java \
 *     -Dexec.classpathScope=test -Dexec.mainClass=io.kanstream.kan.FormatV7Fixtures \
 *     -Dai.djl.offline=true -Dexec.args=kan-operators/src/test/resources/state/v7
 * </pre>
 */
public final class FormatV7Fixtures {
    private FormatV7Fixtures() {}

    public static void main(String[] args) throws IOException {
        Path dir = FormatV1Fixtures.outputDirectory(args, "FormatV7Fixtures", "v7");
        for (Task task : List.of(Task.BINARY, Task.REGRESSION)) {
            String name = "learner-4-8-1-" + task.name().toLowerCase(Locale.ROOT);
            FormatV3Fixtures.write(
                    dir, name, KanConfig.builder(List.of(4, 8, 1)).task(task).build());
        }
    }
}
