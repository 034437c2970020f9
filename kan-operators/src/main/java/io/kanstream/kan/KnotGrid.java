package io.kanstream.kan;

import java.util.Arrays;

/**
 * One layer's knot grid: per input feature, G + 2k + 1 strictly increasing knots, and the
 * arithmetic of grid size G and spline order k that every kernel, the pool, the state format and
 * the importer share (coefficients G + k, knots G + 2k + 1, spans G + 2k). Immutable. The interior,
 * where the B-spline bases of a feature sum to one, runs from knot k to knot G + k.
 *
 * <p>The Cox–de Boor recursion divides by knot differences that depend on the grid only; their
 * guarded reciprocals are computed here once per grid ({@link #tables()}), and the host's loops,
 * the device's {@link BSplineBasis} and the pool's slots all read these same floats: that is what
 * lets the host's and the device's bases agree to the bit.
 */
public final class KnotGrid {
    private final float[] knots; // (in, G + 2k + 1) row-major
    private final int features;
    private final int gridSize;
    private final int splineOrder;
    private volatile Tables tables; // built on first use: most grids a refit proposes are dropped

    KnotGrid(float[][] knots, int gridSize, int splineOrder) {
        this(flatten(knots, knotCount(gridSize, splineOrder)), knots.length, gridSize, splineOrder);
    }

    private KnotGrid(float[] knots, int features, int gridSize, int splineOrder) {
        int m = knotCount(gridSize, splineOrder);
        for (int i = 0; i < features; i++) {
            for (int j = 1; j < m; j++) {
                float before = knots[i * m + j - 1];
                float knot = knots[i * m + j];
                if (!(knot > before)) {
                    throw new IllegalArgumentException(
                            "grid of feature "
                                    + i
                                    + " is not strictly increasing at knot "
                                    + j
                                    + ": "
                                    + before
                                    + " then "
                                    + knot);
                }
            }
        }
        this.knots = knots;
        this.features = features;
        this.gridSize = gridSize;
        this.splineOrder = splineOrder;
    }

    /**
     * A grid from its knots flattened row-major, as the state format and efficient-kan's {@code
     * grid} tensor hold them.
     *
     * @param flat (features, G + 2k + 1), copied
     */
    static KnotGrid fromFlat(float[] flat, int features, int gridSize, int splineOrder) {
        int m = knotCount(gridSize, splineOrder);
        if (flat.length != features * m) {
            throw new IllegalArgumentException(
                    "a grid of "
                            + features
                            + " features with G = "
                            + gridSize
                            + ", k = "
                            + splineOrder
                            + " has "
                            + features
                            + " × (G + 2k + 1) = "
                            + features * m
                            + " knots, got "
                            + flat.length);
        }
        return adopt(flat.clone(), features, gridSize, splineOrder);
    }

    /**
     * {@link #fromFlat} without the copy, for a caller whose array nobody else holds (the codec's,
     * just read): the grid keeps it and it must not change any more. Knots that are a uniform grid
     * give the shared one ({@link #uniform}), so that restored keys share it as new keys do.
     */
    static KnotGrid adopt(float[] flat, int features, int gridSize, int splineOrder) {
        if (flat.length != features * knotCount(gridSize, splineOrder)) {
            return fromFlat(flat, features, gridSize, splineOrder); // its message
        }
        KnotGrid shared = sharedUniform(flat, features, gridSize, splineOrder);
        return shared != null ? shared : new KnotGrid(flat, features, gridSize, splineOrder);
    }

    /** The shared uniform grid with exactly these knots, or null when they are not one. */
    private static KnotGrid sharedUniform(
            float[] flat, int features, int gridSize, int splineOrder) {
        UniformSpec spec =
                new UniformSpec(
                        features,
                        gridSize,
                        splineOrder,
                        flat[splineOrder],
                        flat[splineOrder + gridSize]);
        KnotGrid known = UNIFORM.get(spec);
        if (known != null) {
            return Arrays.equals(known.knots, flat) ? known : null;
        }
        // only uniform grids join the shared ones (a refitted grid would add one per key), and
        // checking costs no allocation: a refitted key's every decode on RocksDB comes here
        int m = knotCount(gridSize, splineOrder);
        double step = (spec.high() - spec.low()) / gridSize;
        for (int i = 0; i < features; i++) {
            for (int j = 0; j < m; j++) {
                float uniform = uniformKnot(j, splineOrder, step, spec.low());
                if (Float.floatToIntBits(flat[i * m + j]) != Float.floatToIntBits(uniform)) {
                    return null;
                }
            }
        }
        return UNIFORM.computeIfAbsent(
                spec, s -> new KnotGrid(flat, features, gridSize, splineOrder));
    }

    /** B-spline coefficients per edge, G + k. */
    public static int coefficients(int gridSize, int splineOrder) {
        return gridSize + splineOrder;
    }

    /** Knots per feature, G + 2k + 1: the interior's G + 1 and k more on each side. */
    public static int knotCount(int gridSize, int splineOrder) {
        return gridSize + 2 * splineOrder + 1;
    }

    private static float[] flatten(float[][] rows, int m) {
        float[] flat = new float[rows.length * m];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].length != m) {
                throw new IllegalArgumentException(
                        "grid row "
                                + i
                                + " has "
                                + rows[i].length
                                + " knots, expected G + 2k + 1 = "
                                + m);
            }
            System.arraycopy(rows[i], 0, flat, i * m, m);
        }
        return flat;
    }

    /** What determines a uniform grid: grids made from equal specs are equal. */
    private record UniformSpec(
            int features, int gridSize, int splineOrder, double low, double high) {}

    /**
     * The uniform grids made so far, one per spec: every new learner of a job starts on the same
     * grids, and sharing them (and their tables) keeps the tables that every forward and backward
     * pass reads in the cache however many keys there are, instead of one copy per key. Grids are
     * immutable, so sharing one is the same as holding an equal copy; the specs are a job's layer
     * shapes, a handful.
     */
    private static final java.util.concurrent.ConcurrentHashMap<UniformSpec, KnotGrid> UNIFORM =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** efficient-kan's initial grid: uniform on [low, high], extended by k steps each side. */
    static KnotGrid uniform(int features, int gridSize, int splineOrder, double low, double high) {
        return UNIFORM.computeIfAbsent(
                new UniformSpec(features, gridSize, splineOrder, low, high),
                spec -> buildUniform(features, gridSize, splineOrder, low, high));
    }

    private static KnotGrid buildUniform(
            int features, int gridSize, int splineOrder, double low, double high) {
        int m = knotCount(gridSize, splineOrder);
        float[] knots = new float[features * m];
        double step = (high - low) / gridSize;
        for (int i = 0; i < features; i++) {
            for (int j = 0; j < m; j++) {
                knots[i * m + j] = uniformKnot(j, splineOrder, step, low);
            }
        }
        return new KnotGrid(knots, features, gridSize, splineOrder);
    }

    /** Knot j of every feature of a uniform grid from {@code low} in steps of {@code step}. */
    private static float uniformKnot(int j, int splineOrder, double step, double low) {
        return (float) ((j - splineOrder) * step + low);
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
        double[] knots = new double[knotCount(gridSize, splineOrder)];
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
        float[] old = grid.row(feature);
        float[] knots = new float[knotCount(2 * g, k)];
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
        int m = knotCount();
        float[] mixed = new float[knots.length];
        for (int q = 0; q < knots.length; q++) {
            mixed[q] = (float) ((1 - fraction) * knots[q] + fraction * target.knots[q]);
            if (q % m > 0 && !(mixed[q] > mixed[q - 1])) {
                mixed[q] = Math.nextUp(mixed[q - 1]);
            }
        }
        return new KnotGrid(mixed, features, gridSize, splineOrder);
    }

    public int features() {
        return features;
    }

    public int gridSize() {
        return gridSize;
    }

    public int splineOrder() {
        return splineOrder;
    }

    /** B-spline coefficients per edge, G + k. */
    public int coefficients() {
        return coefficients(gridSize, splineOrder);
    }

    /** Knots per feature, G + 2k + 1. */
    public int knotCount() {
        return knotCount(gridSize, splineOrder);
    }

    /** Spans between consecutive knots per feature, G + 2k: the order-0 bases. */
    public int spans() {
        return knotCount() - 1;
    }

    /** Knot j of feature i. */
    public float knot(int feature, int j) {
        return knots[feature * knotCount() + j];
    }

    /** Lower end of feature i's interior, t_k. */
    public float interiorLow(int feature) {
        return knot(feature, splineOrder);
    }

    /** Upper end of feature i's interior, t_(G+k). */
    public float interiorHigh(int feature) {
        return knot(feature, splineOrder + gridSize);
    }

    /** A copy of the knots, (in, G + 2k + 1). */
    public float[][] toArray() {
        float[][] rows = new float[features][];
        for (int i = 0; i < features; i++) {
            rows[i] = row(i);
        }
        return rows;
    }

    /** A copy of feature i's knots, (G + 2k + 1). */
    float[] row(int feature) {
        int m = knotCount();
        return Arrays.copyOfRange(knots, feature * m, (feature + 1) * m);
    }

    /** A copy of the knots flattened row-major, (in * (G + 2k + 1)). */
    float[] flat() {
        return knots.clone();
    }

    /** The knots flattened row-major, (in * (G + 2k + 1)): the grid's own array, never written. */
    float[] knots() {
        return knots;
    }

    /** The recursion's tables of this grid, computed on first use. */
    Tables tables() {
        Tables t = tables;
        if (t == null) {
            t = new Tables(this); // a race computes the same floats twice, harmlessly
            tables = t;
        }
        return t;
    }

    /**
     * Everything the Cox–de Boor recursion and its derivative read of a grid, flattened row-major
     * by feature; m = G + 2k + 1. Shared, never written: the arrays belong to the grid.
     */
    static final class Tables {
        final float[] knots; // (in, m)
        final float[][] leftInv; // [p] (in, m−1−p)   1/(t_(j+p) − t_j); [0] unused
        final float[][] rightInv; // [p] (in, m−1−p)   1/(t_(j+p+1) − t_(j+1)); [0] unused
        final float[] derivLeft; // (in, G+k)   k/(t_(j+k) − t_j), zeros when k = 0
        final float[] derivRight; // (in, G+k)   k/(t_(j+k+1) − t_(j+1)), zeros when k = 0

        private Tables(KnotGrid grid) {
            int in = grid.features;
            int k = grid.splineOrder;
            int m = grid.knotCount();
            int c = grid.coefficients();
            float[] t = grid.knots;
            knots = t;
            leftInv = new float[k + 1][];
            rightInv = new float[k + 1][];
            // The right-hand reciprocal of j is the left-hand one of j + 1: each is computed once,
            // by the same float operations, into inverse, and copied to both tables.
            float[] inverse = new float[m];
            for (int p = 1; p <= k; p++) {
                int width = m - 1 - p;
                leftInv[p] = new float[in * width];
                rightInv[p] = new float[in * width];
                for (int i = 0; i < in; i++) {
                    int t0 = i * m;
                    for (int j = 0; j <= width; j++) {
                        inverse[j] = guardedInverse(t[t0 + j + p] - t[t0 + j], 1);
                    }
                    System.arraycopy(inverse, 0, leftInv[p], i * width, width);
                    System.arraycopy(inverse, 1, rightInv[p], i * width, width);
                }
            }
            derivLeft = new float[in * c];
            derivRight = new float[in * c];
            for (int i = 0; i < in && k >= 1; i++) {
                int t0 = i * m;
                for (int j = 0; j <= c; j++) {
                    inverse[j] = guardedInverse(t[t0 + j + k] - t[t0 + j], k);
                }
                System.arraycopy(inverse, 0, derivLeft, i * c, c);
                System.arraycopy(inverse, 1, derivRight, i * c, c);
            }
        }

        private static float guardedInverse(float difference, int scale) {
            // Coincident knots: the Cox–de Boor convention 0/0 = 0 drops the term.
            return difference > 1e-12f && Float.isFinite(difference) ? scale / difference : 0f;
        }
    }
}
