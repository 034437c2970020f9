package io.kanstream.kan;

import java.util.Arrays;

/**
 * One layer's knot grid on the host: per input feature, G + 2k + 1 strictly increasing knots.
 * Immutable. The interior, where the B-spline bases of a feature sum to one, runs from knot k to
 * knot G + k.
 */
public final class KnotGrid {
    private final float[][] knots; // (in, G + 2k + 1)
    private final int gridSize;
    private final int splineOrder;

    KnotGrid(float[][] knots, int gridSize, int splineOrder) {
        int expected = gridSize + 2 * splineOrder + 1;
        for (int i = 0; i < knots.length; i++) {
            if (knots[i].length != expected) {
                throw new IllegalArgumentException(
                        "grid row "
                                + i
                                + " has "
                                + knots[i].length
                                + " knots, expected G + 2k + 1 = "
                                + expected);
            }
            for (int j = 1; j < expected; j++) {
                if (!(knots[i][j] > knots[i][j - 1])) {
                    throw new IllegalArgumentException(
                            "grid of feature "
                                    + i
                                    + " is not strictly increasing at knot "
                                    + j
                                    + ": "
                                    + knots[i][j - 1]
                                    + " then "
                                    + knots[i][j]);
                }
            }
        }
        this.knots = deepCopy(knots);
        this.gridSize = gridSize;
        this.splineOrder = splineOrder;
    }

    /** efficient-kan's initial grid: uniform on [low, high], extended by k steps each side. */
    static KnotGrid uniform(int features, int gridSize, int splineOrder, double low, double high) {
        float[][] knots = new float[features][];
        double step = (high - low) / gridSize;
        for (int i = 0; i < features; i++) {
            knots[i] = new float[gridSize + 2 * splineOrder + 1];
            for (int j = 0; j < knots[i].length; j++) {
                knots[i][j] = (float) ((j - splineOrder) * step + low);
            }
        }
        return new KnotGrid(knots, gridSize, splineOrder);
    }

    /**
     * The refit target for one feature, from samples of it: efficient-kan's mix of sample quantiles
     * (weight 1 − eps) and a uniform grid over [min − margin, max + margin] (weight eps), extended
     * by k uniform steps on each side, then pushed apart to a minimum spacing so constant features,
     * ties and outliers never collapse two knots.
     *
     * @param sorted the feature's samples, ascending, finite, at least one
     */
    static float[] fitKnots(
            double[] sorted, int gridSize, int splineOrder, double eps, double margin) {
        int n = sorted.length;
        double min = sorted[0];
        double max = sorted[n - 1];
        double step = (max - min + 2 * margin) / gridSize;
        double[] knots = new double[gridSize + 2 * splineOrder + 1];
        for (int j = 0; j <= gridSize; j++) {
            double position = (double) j * (n - 1) / gridSize;
            // efficient-kan indexes the sorted sample with a truncated linspace
            double adaptive = sorted[(int) Math.floor(position + 1e-9)];
            double uniform = min - margin + j * step;
            knots[splineOrder + j] = eps * uniform + (1 - eps) * adaptive;
        }
        for (int j = 1; j <= splineOrder; j++) {
            knots[splineOrder - j] = knots[splineOrder] - j * step;
            knots[splineOrder + gridSize + j] = knots[splineOrder + gridSize] + j * step;
        }
        // Minimum spacing relative to the uniform step; float32 must still tell knots apart.
        double spacing = step * 1e-3;
        float[] result = new float[knots.length];
        result[0] = (float) knots[0];
        for (int j = 1; j < knots.length; j++) {
            double floor = result[j - 1] + Math.max(spacing, Math.ulp(result[j - 1]) * 8);
            result[j] = (float) Math.max(knots[j], floor);
            if (!(result[j] > result[j - 1])) {
                result[j] = Math.nextUp(result[j - 1]);
            }
        }
        return result;
    }

    /**
     * Feature i's knots with every interior span split at its midpoint (2G intervals) and the k
     * outer knots on each side kept: the new knot vector contains the old one, so every spline on
     * the old grid is one on the new grid (knot insertion).
     */
    static float[] refine(KnotGrid grid, int feature) {
        int g = grid.gridSize;
        int k = grid.splineOrder;
        float[] old = grid.knots[feature];
        float[] knots = new float[2 * g + 2 * k + 1];
        for (int j = 0; j < g; j++) {
            float low = old[k + j];
            float high = old[k + j + 1];
            knots[k + 2 * j] = low;
            knots[k + 2 * j + 1] = (float) ((low + (double) high) / 2);
        }
        knots[k + 2 * g] = old[k + g];
        for (int j = 1; j <= k; j++) {
            knots[k - j] = old[k - j];
            knots[k + 2 * g + j] = old[k + g + j];
        }
        for (int j = 1; j < knots.length; j++) {
            if (!(knots[j] > knots[j - 1])) {
                knots[j] = Math.nextUp(knots[j - 1]);
            }
        }
        return knots;
    }

    /** Moves every knot the given fraction of the way to {@code target}; keeps monotonicity. */
    KnotGrid blend(KnotGrid target, double fraction) {
        if (fraction >= 1 || target.gridSize != gridSize || target.splineOrder != splineOrder) {
            return target;
        }
        float[][] mixed = new float[knots.length][];
        for (int i = 0; i < knots.length; i++) {
            mixed[i] = new float[knots[i].length];
            for (int j = 0; j < knots[i].length; j++) {
                mixed[i][j] =
                        (float) ((1 - fraction) * knots[i][j] + fraction * target.knots[i][j]);
                if (j > 0 && !(mixed[i][j] > mixed[i][j - 1])) {
                    mixed[i][j] = Math.nextUp(mixed[i][j - 1]);
                }
            }
        }
        return new KnotGrid(mixed, gridSize, splineOrder);
    }

    public int features() {
        return knots.length;
    }

    public int gridSize() {
        return gridSize;
    }

    public int splineOrder() {
        return splineOrder;
    }

    /** Knot j of feature i. */
    public float knot(int feature, int j) {
        return knots[feature][j];
    }

    /** Lower end of feature i's interior, t_k. */
    public float interiorLow(int feature) {
        return knots[feature][splineOrder];
    }

    /** Upper end of feature i's interior, t_(G+k). */
    public float interiorHigh(int feature) {
        return knots[feature][splineOrder + gridSize];
    }

    /** A copy of the knots, (in, G + 2k + 1). */
    public float[][] toArray() {
        return deepCopy(knots);
    }

    /** The knots flattened row-major, (in * (G + 2k + 1)). */
    float[] flat() {
        int m = knots.length == 0 ? 0 : knots[0].length;
        float[] flat = new float[knots.length * m];
        for (int i = 0; i < knots.length; i++) {
            System.arraycopy(knots[i], 0, flat, i * m, m);
        }
        return flat;
    }

    private static float[][] deepCopy(float[][] source) {
        float[][] copy = new float[source.length][];
        for (int i = 0; i < source.length; i++) {
            copy[i] = Arrays.copyOf(source[i], source[i].length);
        }
        return copy;
    }
}
