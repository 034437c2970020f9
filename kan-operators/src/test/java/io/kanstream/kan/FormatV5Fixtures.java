package io.kanstream.kan;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * How the model-state fixtures in {@code src/test/resources/state/v5/} were made: the learners,
 * stream, refit and probes of {@link FormatV3Fixtures}, with every default of the configuration,
 * among them Adam without momentum and the parameter average over 100 steps ({@link
 * ParameterAverage}), which only format 5 writes. {@link LearnerStateFixturesTest} restores them.
 *
 * <p>Kept to document the fixtures, not to refresh them: rerunning it on newer code writes the NEW
 * format. The command (from the repository's root, on a commit that writes format 5):
 *
 * <pre>
 * mvn -B -pl kan-operators test-compile org.codehaus.mojo:exec-maven-plugin:3.5.0:java \
 *     -Dexec.classpathScope=test -Dexec.mainClass=io.kanstream.kan.FormatV5Fixtures \
 *     -Dai.djl.offline=true -Dexec.args=kan-operators/src/test/resources/state/v5
 * </pre>
 */
public final class FormatV5Fixtures {
    private FormatV5Fixtures() {}

    public static void main(String[] args) throws IOException {
        Path dir = FormatV1Fixtures.outputDirectory(args, "FormatV5Fixtures", "v5");
        write(dir, Task.BINARY);
        write(dir, Task.REGRESSION);
    }

    private static void write(Path dir, Task task) throws IOException {
        String name = "learner-4-8-1-" + task.name().toLowerCase(Locale.ROOT);
        FormatV3Fixtures.write(dir, name, KanConfig.builder(List.of(4, 8, 1)).task(task).build());
    }
}
