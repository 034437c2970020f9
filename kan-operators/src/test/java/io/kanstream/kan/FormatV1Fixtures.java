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
 * How the model-state fixtures in {@code src/test/resources/state/v1/} were made: two learners of
 * the job's default shape (4,8,1), one binary and one regression, trained on a deterministic
 * synthetic stream and written with {@link LearnerStateCodec} format version 1, each with a probe
 * file of inputs, the learner's outputs on them and its counters. {@link LearnerStateFixturesTest}
 * restores them.
 *
 * <p>Kept to document the fixtures, not to refresh them: rerunning it on newer code writes the NEW
 * format, and the point of the fixtures is that they hold the old one. Don't.
 *
 * <pre>
 * mvn -B -pl kan-operators test-compile org.codehaus.mojo:exec-maven-plugin:3.5.0:java \
 *     -Dexec.classpathScope=test -Dexec.mainClass=io.kanstream.kan.FormatV1Fixtures \
 *     -Dai.djl.offline=true -Dexec.args=kan-operators/src/test/resources/state/v1
 * </pre>
 *
 * (run from the repository's root: the output directory is relative to where Maven runs). The same
 * code writes the same bytes on every run.
 */
public final class FormatV1Fixtures {
    /** Examples per mini-batch, as the job's default batch size. */
    static final int BATCH = 32;

    /**
     * 20 batches: 640 examples, more than the 512-row statistics window, so the window has wrapped.
     */
    static final int BATCHES = 20;

    /** The grids are refit from the statistics after this many batches, then learning goes on. */
    static final int REFIT_AFTER = 10;

    static final int PROBES = 16;

    private FormatV1Fixtures() {}

    public static void main(String[] args) throws IOException {
        Path dir = outputDirectory(args, "FormatV1Fixtures", "v1");
        for (Task task : List.of(Task.BINARY, Task.REGRESSION)) {
            write(task, dir);
        }
    }

    /** The one argument of a fixture generator, created. */
    static Path outputDirectory(String[] args, String generator, String version)
            throws IOException {
        if (args.length != 1) {
            throw new IllegalArgumentException(
                    "usage: "
                            + generator
                            + " <output directory>, e.g. kan-operators/src/test/resources/state/"
                            + version);
        }
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        return dir;
    }

    private static void write(Task task, Path dir) throws IOException {
        String name = "learner-4-8-1-" + task.name().toLowerCase(Locale.ROOT);
        try (KanLearner learner =
                KanLearner.create(KanConfig.builder(List.of(4, 8, 1)).task(task).build())) {
            SplittableRandom random = new SplittableRandom(2024);
            for (int b = 0; b < BATCHES; b++) {
                float[] rows = rows(random, BATCH);
                learner.learn(rows, labels(task, rows, random));
                if (b + 1 == REFIT_AFTER) {
                    learner.refitFromStatistics();
                }
            }
            Files.write(dir.resolve(name + ".kans"), LearnerStateCodec.encode(learner));
            writeProbes(learner, dir.resolve(name + ".probe.csv"));
            System.out.printf(
                    "%s: steps %d, examples %d, grid epoch %d%n",
                    name, learner.steps(), learner.examples(), learner.gridEpoch());
        }
    }

    /** A fixture's probe file: the learner's counters, then each probe row and its output. */
    static void writeProbes(KanLearner learner, Path file) throws IOException {
        writeProbes(learner, file, "");
    }

    /**
     * @param moreCounters appended to the counters' line as written, e.g. {@code " name=value"}:
     *     what a later format adds
     */
    static void writeProbes(KanLearner learner, Path file, String moreCounters) throws IOException {
        float[] probes = rows(new SplittableRandom(99), PROBES);
        float[] outputs = learner.outputs(probes, PROBES);
        try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            out.write(
                    String.format(
                            Locale.ROOT,
                            "# steps=%d examples=%d gridEpoch=%d%s%n",
                            learner.steps(),
                            learner.examples(),
                            learner.gridEpoch(),
                            moreCounters));
            out.write("x0,x1,x2,x3,output\n");
            for (int s = 0; s < PROBES; s++) {
                for (int d = 0; d < 4; d++) {
                    out.write(Float.toString(probes[4 * s + d]));
                    out.write(',');
                }
                out.write(Float.toString(outputs[s]));
                out.write('\n');
            }
        }
    }

    /**
     * (n, 4) rows in raw units far from the grid's [-1, 1], so the normalizer has work: feature d
     * has mean 10·d and standard deviation d + 1.
     */
    static float[] rows(SplittableRandom random, int n) {
        float[] rows = new float[n * 4];
        for (int q = 0; q < rows.length; q++) {
            int d = q % 4;
            rows[q] = (float) (10 * d + (d + 1) * random.nextGaussian());
        }
        return rows;
    }

    /** A smooth function of the standardized features; thresholded (with noise) for binary. */
    static double[] labels(Task task, float[] rows, SplittableRandom random) {
        double[] labels = new double[rows.length / 4];
        for (int s = 0; s < labels.length; s++) {
            double[] z = new double[4];
            for (int d = 0; d < 4; d++) {
                z[d] = (rows[4 * s + d] - 10 * d) / (d + 1);
            }
            double f = Math.sin(z[0]) + 0.5 * z[1] * z[2] - 0.3 * z[3];
            double noise = 0.1 * random.nextGaussian();
            labels[s] = task == Task.BINARY ? (f + noise > 0 ? 1 : 0) : 50 + 10 * (f + noise);
        }
        return labels;
    }
}
