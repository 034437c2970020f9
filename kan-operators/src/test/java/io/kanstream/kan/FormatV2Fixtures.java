package io.kanstream.kan;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
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
        if (args.length != 1) {
            throw new IllegalArgumentException(
                    "usage: FormatV2Fixtures <output directory>, e.g."
                            + " kan-operators/src/test/resources/state/v2");
        }
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        for (Task task : List.of(Task.BINARY, Task.REGRESSION)) {
            write(task, dir);
        }
    }

    private static void write(Task task, Path dir) throws IOException {
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

            int probes = FormatV1Fixtures.PROBES;
            float[] rows = FormatV1Fixtures.rows(new SplittableRandom(99), probes);
            float[] outputs = learner.outputs(rows, probes);
            try (Writer out =
                    Files.newBufferedWriter(
                            dir.resolve(name + ".probe.csv"), StandardCharsets.UTF_8)) {
                out.write(
                        String.format(
                                Locale.ROOT,
                                "# steps=%d examples=%d gridEpoch=%d%n",
                                learner.steps(),
                                learner.examples(),
                                learner.gridEpoch()));
                out.write("x0,x1,x2,x3,output\n");
                for (int s = 0; s < probes; s++) {
                    for (int d = 0; d < 4; d++) {
                        out.write(Float.toString(rows[4 * s + d]));
                        out.write(',');
                    }
                    out.write(Float.toString(outputs[s]));
                    out.write('\n');
                }
            }
            System.out.printf(
                    "%s: steps %d, examples %d, grid epoch %d%n",
                    name, learner.steps(), learner.examples(), learner.gridEpoch());
        }
    }
}
