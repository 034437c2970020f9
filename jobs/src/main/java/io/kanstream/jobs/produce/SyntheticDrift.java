package io.kanstream.jobs.produce;

import io.kanstream.kan.Task;
import io.kanstream.stream.Event;
import java.util.SplittableRandom;

/**
 * A synthetic stream with an abrupt concept drift: events spread round-robin over {@code keys}
 * model keys, features uniform in [-1, 1], and a label that is a smooth function of the features
 * until event {@code driftAt}, and another one from then on.
 *
 * <p>Each key has its own phase, so the keys' models differ. Before the drift the target is {@code
 * sin(π x0 + φ) + x1² − ½ x2 x3}; after it {@code −sin(π x0 + φ) + ½ x2 − x1 x3} (feature indices
 * wrap around when there are fewer than four). Regression labels add Gaussian noise; binary labels
 * are whether the noisy target is above zero.
 *
 * <p>Event {@code i} is a pure function of the seed and {@code i}, id included ({@code
 * s<seed>-<i>}): sending the same range twice sends the same events, which downstream deduplication
 * by id recognizes.
 */
public final class SyntheticDrift {
    private final int keys;
    private final int features;
    private final long driftAt;
    private final Task task;
    private final double noise;
    private final long seed;

    /**
     * @param keys number of model keys, {@code key-0 … key-(keys−1)}
     * @param features features per event
     * @param driftAt index of the first event labeled by the second concept
     * @param task {@link Task#REGRESSION} or {@link Task#BINARY}
     * @param noise standard deviation of the label noise, in target units
     */
    public SyntheticDrift(
            int keys, int features, long driftAt, Task task, double noise, long seed) {
        if (keys < 1) {
            throw new IllegalArgumentException("keys must be at least 1, got " + keys);
        }
        if (features < 1) {
            throw new IllegalArgumentException("features must be at least 1, got " + features);
        }
        if (driftAt < 0) {
            throw new IllegalArgumentException("drift-at must be >= 0, got " + driftAt);
        }
        if (task == Task.MULTICLASS) {
            throw new IllegalArgumentException(
                    "the synthetic drift stream is regression or binary, not multiclass");
        }
        if (!(noise >= 0)) {
            throw new IllegalArgumentException("noise must be >= 0, got " + noise);
        }
        this.keys = keys;
        this.features = features;
        this.driftAt = driftAt;
        this.task = task;
        this.noise = noise;
        this.seed = seed;
    }

    /** The model key of event {@code index}. */
    public String key(long index) {
        return "key-" + Math.floorMod(index, keys);
    }

    /** The id of event {@code index}. */
    public String id(long index) {
        return "s" + seed + "-" + index;
    }

    /** Event {@code index}, labeled, with event time {@code ts}. */
    public Event event(long index, long ts) {
        SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
        float[] x = new float[features];
        for (int i = 0; i < features; i++) {
            x[i] = (float) (2 * random.nextDouble() - 1);
        }
        int keyIndex = (int) Math.floorMod(index, keys);
        double y = target(x, keyIndex, index >= driftAt) + noise * gaussian(random);
        double label = task == Task.BINARY ? (y > 0 ? 1 : 0) : y;
        return new Event(id(index), key(index), ts, x, label);
    }

    /** The noise-free target of one event: the concept in force, for the key's phase. */
    static double target(float[] x, int keyIndex, boolean drifted) {
        double phase = 0.9 * keyIndex;
        double x0 = x[0];
        double x1 = x[1 % x.length];
        double x2 = x[2 % x.length];
        double x3 = x[3 % x.length];
        return drifted
                ? -Math.sin(Math.PI * x0 + phase) + 0.5 * x2 - x1 * x3
                : Math.sin(Math.PI * x0 + phase) + x1 * x1 - 0.5 * x2 * x3;
    }

    private static double gaussian(SplittableRandom random) {
        // Box-Muller; 1 - u keeps the logarithm finite
        double u = 1 - random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
