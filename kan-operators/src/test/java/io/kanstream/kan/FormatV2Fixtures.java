package io.kanstream.kan;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * How the model-state fixtures in {@code src/test/resources/state/v2/} were made: the same two
 * learners, stream and probes as {@link FormatV1Fixtures}, with a step per example (the job's batch
 * size), written with {@link LearnerStateCodec} format version 2. {@link LearnerStateFixturesTest}
 * restores them.
 *
 * <p>Kept to document the fixtures, not to refresh them: rerunning it on newer code writes the NEW
 * format. The command (from the repository's root, on a commit that writes format 2):
 *
 * <pre>
 * mvn -B -pl kan-operators test-compile org.codehaus.mojo:exec-maven-plugin:3.5.0:java \
 *     -Dexec.classpathScope=test -Dexec.mainClass=io.kanstream.kan.FormatV2Fixtures \
 *     -Dai.djl.offline=true -Dexec.args=kan-operators/src/test/resources/state/v2
 * </pre>
 */
public final class FormatV2Fixtures {
    /** 640 examples, a step each; the grids are refit from the summaries after 320. */
    static final int EXAMPLES = 640;

    static final int REFIT_AFTER = 320;

    private FormatV2Fixtures() {}

    public static void main(String[] args) throws IOException {
        Path dir = FormatV1Fixtures.outputDirectory(args, "FormatV2Fixtures", "v2");
        for (Task task : List.of(Task.BINARY, Task.REGRESSION)) {
            String name = "learner-4-8-1-" + task.name().toLowerCase(Locale.ROOT);
            try (KanLearner learner =
                    KanLearner.create(KanConfig.builder(List.of(4, 8, 1)).task(task).build())) {
                SplittableRandom random = new SplittableRandom(2024);
                for (int e = 0; e < EXAMPLES; e++) {
                    float[] row = FormatV1Fixtures.rows(random, 1);
                    learner.score(row, 1);
                    learner.learn(row, FormatV1Fixtures.labels(task, row, random));
                    if (e + 1 == REFIT_AFTER) {
                        learner.refitFromStatistics();
                    }
                }
                Files.write(dir.resolve(name + ".kans"), LearnerStateCodec.encode(learner));
                FormatV1Fixtures.writeProbes(learner, dir.resolve(name + ".probe.csv"));
            }
        }
    }
}
