package io.kanstream.jobs.evaluate;

import io.kanstream.jobs.produce.SyntheticDrift;
import io.kanstream.jobs.replay.HistoryRow;
import io.kanstream.jobs.replay.HistoryTable;
import io.kanstream.kan.Task;
import io.kanstream.stream.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The suite's synthetic streams as tables, each a pure function of its seed and length. Keys take
 * turns (row i belongs to key i mod keys) and event time is the row index.
 */
final class SyntheticStreams {
    static final int KEYS = 2;
    private static final double NOISE = 0.1;

    /** How far the covariate streams' input means move, in standard deviations of the start. */
    static final double SHIFT = 8;

    private SyntheticStreams() {}

    /** {@link SyntheticDrift}'s binary stream, 4 features: the concept changes at once halfway. */
    static HistoryTable abrupt(long seed, int events) {
        SyntheticDrift stream = new SyntheticDrift(KEYS, 4, events / 2, Task.BINARY, NOISE, seed);
        List<HistoryRow> rows = new ArrayList<>(events);
        for (int i = 0; i < events; i++) {
            Event e = stream.event(i, i);
            rows.add(new HistoryRow(i, e.key(), i, e.features(), e.label()));
        }
        return table(rows, 4, Task.BINARY);
    }

    /**
     * A binary concept that turns steadily: the label is whether {@code sin(π u + φ) + v² − ½ x2
     * x3} plus noise is above 0, where (u, v) is (x0, x1) rotated by an angle growing from 0 to π
     * over the stream — half a turn, so the last concept mirrors the first. x uniform in [-1, 1]⁴,
     * φ = 0.9 × the key's index.
     */
    static HistoryTable gradual(long seed, int events) {
        SplittableRandom random = new SplittableRandom(seed);
        List<HistoryRow> rows = new ArrayList<>(events);
        for (int i = 0; i < events; i++) {
            float[] x = uniformRow(random);
            int key = i % KEYS;
            double angle = Math.PI * i / events;
            double u = x[0] * Math.cos(angle) - x[1] * Math.sin(angle);
            double v = x[0] * Math.sin(angle) + x[1] * Math.cos(angle);
            rows.add(new HistoryRow(i, "key-" + key, i, x, turningConcept(u, v, x, key, random)));
        }
        return table(rows, 4, Task.BINARY);
    }

    /**
     * Covariate shift under a fixed concept: {@code y = sin(1.5 x0) + cos(x1)} plus noise, with x
     * Gaussian of unit spread whose mean moves linearly from 0 (the first rows) to +{@link #SHIFT}
     * (the last), in both features: the inputs leave the range the first window showed, where a
     * KAN's splines were never fitted. For {@link Task#BINARY} the label is whether y is above 0.
     */
    static HistoryTable covariate(long seed, int events, Task task) {
        return covariate(seed, events, task, false);
    }

    /**
     * The covariate stream with its inputs' mean at 0 for the first half and at +{@link #SHIFT}
     * from the middle on: a jump the input normalizer's running moments cannot absorb at once, so
     * the model's inputs land far outside its grids.
     */
    static HistoryTable covariateJump(long seed, int events) {
        return covariate(seed, events, Task.REGRESSION, true);
    }

    private static HistoryTable covariate(long seed, int events, Task task, boolean jump) {
        SplittableRandom random = new SplittableRandom(seed);
        List<HistoryRow> rows = new ArrayList<>(events);
        for (int i = 0; i < events; i++) {
            double mean = jump ? (2 * i < events ? 0 : SHIFT) : SHIFT * i / events;
            float x0 = (float) (mean + random.nextGaussian());
            float x1 = (float) (mean + random.nextGaussian());
            double y = Math.sin(1.5 * x0) + Math.cos(x1) + NOISE * random.nextGaussian();
            double label = task == Task.BINARY ? (y > 0 ? 1 : 0) : y;
            rows.add(new HistoryRow(i, "key-" + (i % KEYS), i, new float[] {x0, x1}, label));
        }
        return table(rows, 2, task);
    }

    /** SEA's thresholds on x0 + x1, one per quarter of the stream. */
    static final double[] SEA_THRESHOLDS = {8, 9, 7, 9.5};

    /** The share of SEA's labels that are flipped, and of the hyperplane's. */
    static final double SEA_NOISE = 0.1;

    static final double HYPERPLANE_NOISE = 0.05;
    static final int HYPERPLANE_FEATURES = 10;

    /** How far each hyperplane weight moves per row, and how often its direction turns. */
    static final double HYPERPLANE_STEP = 0.001;

    static final double HYPERPLANE_TURN = 1e-4;

    /**
     * The SEA concepts (Street and Kim, KDD 2001): three features uniform in [0, 10], of which the
     * third is irrelevant; the label is whether x0 + x1 ≤ θ, with θ stepping through {@link
     * #SEA_THRESHOLDS} at each quarter of the stream (three abrupt changes), and {@link #SEA_NOISE}
     * of the labels flipped. A linear concept with label noise: what an online logistic regression
     * is made for.
     */
    static HistoryTable sea(long seed, int events) {
        SplittableRandom random = new SplittableRandom(seed);
        List<HistoryRow> rows = new ArrayList<>(events);
        for (int i = 0; i < events; i++) {
            float[] x = new float[3];
            for (int f = 0; f < 3; f++) {
                x[f] = (float) (10 * random.nextDouble());
            }
            double threshold = SEA_THRESHOLDS[(int) ((long) i * SEA_THRESHOLDS.length / events)];
            boolean label = x[0] + x[1] <= threshold;
            if (random.nextDouble() < SEA_NOISE) {
                label = !label;
            }
            rows.add(new HistoryRow(i, "key-" + (i % KEYS), i, x, label ? 1 : 0));
        }
        return table(rows, 3, Task.BINARY);
    }

    /**
     * A rotating hyperplane (Hulten, Spencer and Domingos, KDD 2001): {@link #HYPERPLANE_FEATURES}
     * features uniform in [0, 1]; the label is whether Σ wᵢxᵢ ≥ ½ Σ wᵢ. The weights start uniform
     * in [0, 1] and each moves by {@link #HYPERPLANE_STEP} per row in a direction that turns with
     * probability {@link #HYPERPLANE_TURN} per row, so the boundary drifts all the time; {@link
     * #HYPERPLANE_NOISE} of the labels are flipped. A linear concept in ten dimensions that never
     * stops moving.
     */
    static HistoryTable hyperplane(long seed, int events) {
        SplittableRandom random = new SplittableRandom(seed);
        int d = HYPERPLANE_FEATURES;
        double[] w = new double[d];
        int[] direction = new int[d];
        for (int f = 0; f < d; f++) {
            w[f] = random.nextDouble();
            direction[f] = random.nextBoolean() ? 1 : -1;
        }
        List<HistoryRow> rows = new ArrayList<>(events);
        for (int i = 0; i < events; i++) {
            float[] x = new float[d];
            double dot = 0;
            double sum = 0;
            for (int f = 0; f < d; f++) {
                x[f] = (float) random.nextDouble();
                dot += w[f] * x[f];
                sum += w[f];
            }
            boolean label = dot >= sum / 2;
            if (random.nextDouble() < HYPERPLANE_NOISE) {
                label = !label;
            }
            rows.add(new HistoryRow(i, "key-" + (i % KEYS), i, x, label ? 1 : 0));
            for (int f = 0; f < d; f++) {
                if (random.nextDouble() < HYPERPLANE_TURN) {
                    direction[f] = -direction[f];
                }
                w[f] += direction[f] * HYPERPLANE_STEP;
            }
        }
        return table(rows, d, Task.BINARY);
    }

    /** The circling classes' number, distance of their centres from the origin, and spread. */
    static final int CIRCLING_CLASSES = 3;

    static final double CIRCLING_RADIUS = 2;

    /**
     * Three classes, each a Gaussian cloud of unit spread in two features, whose centres sit {@link
     * #CIRCLING_RADIUS} from the origin at angles 2πc/3 and turn together by half a circle over the
     * stream: a multiclass concept that drifts all the time, where the classes overlap enough that
     * probabilities matter.
     */
    static HistoryTable circling(long seed, int events) {
        SplittableRandom random = new SplittableRandom(seed);
        List<HistoryRow> rows = new ArrayList<>(events);
        for (int i = 0; i < events; i++) {
            int c = random.nextInt(CIRCLING_CLASSES);
            double angle = 2 * Math.PI * c / CIRCLING_CLASSES + Math.PI * i / events;
            float[] x = {
                (float) (CIRCLING_RADIUS * Math.cos(angle) + random.nextGaussian()),
                (float) (CIRCLING_RADIUS * Math.sin(angle) + random.nextGaussian())
            };
            rows.add(new HistoryRow(i, "key-" + (i % KEYS), i, x, c));
        }
        return table(rows, 2, Task.MULTICLASS, CIRCLING_CLASSES);
    }

    /** Labels each key of the {@link #fewLabels} stream gets. */
    static final int LABELS_PER_KEY = 50;

    /**
     * Many keys with few labels each, as one model per card or device sees them: {@code events /
     * }{@link #LABELS_PER_KEY} keys in turn, each labeled by the {@link #gradual} stream's concept
     * without its turn, {@code sin(π x0 + φ) + x1² − ½ x2 x3} plus noise above 0, its phase φ = 0.9
     * × (the key's index mod 7). x uniform in [-1, 1]⁴.
     */
    static HistoryTable fewLabels(long seed, int events) {
        SplittableRandom random = new SplittableRandom(seed);
        int keys = Math.max(1, events / LABELS_PER_KEY);
        List<HistoryRow> rows = new ArrayList<>(events);
        for (int i = 0; i < events; i++) {
            float[] x = uniformRow(random);
            int key = i % keys;
            rows.add(
                    new HistoryRow(
                            i, "key-" + key, i, x, turningConcept(x[0], x[1], x, key % 7, random)));
        }
        return table(rows, 4, Task.BINARY);
    }

    /** Four features uniform in [-1, 1]. */
    private static float[] uniformRow(SplittableRandom random) {
        float[] x = new float[4];
        for (int f = 0; f < 4; f++) {
            x[f] = (float) (2 * random.nextDouble() - 1);
        }
        return x;
    }

    /**
     * The gradual stream's label: whether {@code sin(π u + 0.9 phase) + v² − ½ x2 x3} plus noise is
     * above 0, (u, v) being (x0, x1) as the concept sees them.
     */
    private static int turningConcept(
            double u, double v, float[] x, int phase, SplittableRandom random) {
        double y =
                Math.sin(Math.PI * u + 0.9 * phase)
                        + v * v
                        - 0.5 * x[2] * x[3]
                        + NOISE * random.nextGaussian();
        return y > 0 ? 1 : 0;
    }

    private static HistoryTable table(List<HistoryRow> rows, int features, Task task) {
        return table(rows, features, task, task == Task.BINARY ? 2 : 0);
    }

    /** Features named x0, x1, …; classes named by their index. */
    private static HistoryTable table(List<HistoryRow> rows, int features, Task task, int classes) {
        List<String> names = new ArrayList<>();
        for (int f = 0; f < features; f++) {
            names.add("x" + f);
        }
        List<String> classNames = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            classNames.add(Integer.toString(c));
        }
        return new HistoryTable(List.copyOf(rows), names, task, List.copyOf(classNames));
    }
}
