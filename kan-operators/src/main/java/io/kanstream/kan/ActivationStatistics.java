package io.kanstream.kan;

import java.util.Arrays;
import java.util.function.IntToDoubleFunction;

/**
 * Where each layer's inputs live, as a compact, exponentially decayed summary per layer input: what
 * grid refits draw their knots and fitting points from, and what tells the refit policy that a grid
 * no longer fits.
 *
 * <p>Per layer input (feature) one histogram whose bins are that feature's knot spans: one bin per
 * span of the extended grid (G + 2k), one for everything below the first knot and one for
 * everything above the last, and for those two the weighted sum of their values, so their mass can
 * be placed where it lies. Within a bin the density is taken as uniform. Bins on the knots make the
 * summary adaptive: a refit moves the knots to the summary's quantiles, and the next summary
 * resolves the distribution finer where the data is dense. Its size is (G + 2k + 4) floats per
 * feature — 60 bytes at G = 5, k = 3 — against a window of raw rows.
 *
 * <p>Every observation enters with weight 1 and the existing mass decays by 1 − 1/horizon per
 * observation, so the summary describes roughly the last {@code horizon} examples. The decay is
 * lazy (a new observation is added with a growing weight; the bins are rescaled when it gets
 * large). Summaries over the same knots add; {@link #rebin} moves one onto new knots.
 */
final class ActivationStatistics {
    private static final double RESCALE_AT = 1e12;

    private final double keep;
    private final float[][] mass; // [layer] (in_l, G + 2k + 2)
    private final float[][] tails; // [layer] (in_l, 2) weighted sums of values below / above
    private final int[] bins; // [layer] G + 2k + 2
    private double weight = 1; // of the next observation, relative to the stored mass
    private long seenSinceRefit;

    ActivationStatistics(KnotGrid[] grids, double horizon) {
        this.keep = 1 - 1 / horizon;
        int layers = grids.length;
        mass = new float[layers][];
        tails = new float[layers][];
        bins = new int[layers];
        for (int l = 0; l < layers; l++) {
            bins[l] = grids[l].spans() + 2;
            mass[l] = new float[grids[l].features() * bins[l]];
            tails[l] = new float[grids[l].features() * 2];
        }
    }

    /**
     * Records one example's input to one layer. Call {@link #advance} once per example after all
     * its layers.
     *
     * @param values the layer's inputs, at least {@code grid.features()} of them
     */
    void record(int layer, float[] values, KnotGrid grid) {
        int in = grid.features();
        int width = bins[layer];
        float w = (float) weight;
        for (int i = 0; i < in; i++) {
            float x = values[i];
            int bin = bin(grid, i, x);
            mass[layer][i * width + bin] += w;
            if (bin == 0) {
                tails[layer][2 * i] += w * x;
            } else if (bin == width - 1) {
                tails[layer][2 * i + 1] += w * x;
            }
        }
    }

    /** One example recorded: the stored mass ages by one step. */
    void advance() {
        seenSinceRefit++;
        weight /= keep;
        if (weight > RESCALE_AT) {
            float factor = (float) (1 / weight);
            for (int l = 0; l < mass.length; l++) {
                scale(mass[l], factor);
                scale(tails[l], factor);
            }
            weight = 1;
        }
    }

    private static void scale(float[] values, float factor) {
        for (int q = 0; q < values.length; q++) {
            values[q] *= factor;
        }
    }

    /** 0 below the first knot, j + 1 in span [t_j, t_(j+1)), the last bin from the last knot on. */
    private static int bin(KnotGrid grid, int feature, float x) {
        int last = grid.spans();
        if (!(x >= grid.knot(feature, 0))) {
            return 0; // below, or NaN (never reaches here: inputs are checked)
        }
        if (x >= grid.knot(feature, last)) {
            return last + 1;
        }
        int low = 0;
        int high = last; // t_low <= x < t_high
        while (high - low > 1) {
            int mid = (low + high) >>> 1;
            if (x >= grid.knot(feature, mid)) {
                low = mid;
            } else {
                high = mid;
            }
        }
        return low + 1;
    }

    /** Examples recorded since the last refit. */
    long seenSinceRefit() {
        return seenSinceRefit;
    }

    void resetSinceRefit() {
        seenSinceRefit = 0;
    }

    /** Sets the count since the last refit (a migrated state carries it). */
    void seenSinceRefit(long value) {
        seenSinceRefit = value;
    }

    /** Whether anything was recorded at all. */
    boolean isEmpty() {
        for (float[] m : mass) {
            for (float v : m) {
                if (v > 0) {
                    return false;
                }
            }
        }
        return true;
    }

    /** One feature's summary as a piecewise-uniform distribution. */
    Distribution distribution(int layer, int feature, KnotGrid grid) {
        int width = bins[layer];
        int spans = width - 2;
        double[] edges = new double[width + 1];
        double[] m = new double[width];
        for (int b = 0; b < width; b++) {
            m[b] = mass[layer][feature * width + b];
        }
        for (int j = 0; j <= spans; j++) {
            edges[j + 1] = grid.knot(feature, j);
        }
        double first = edges[1];
        double lastKnot = edges[spans + 1];
        // the overflow bins: uniform between the mirror of their mean and the knot they touch
        double below = m[0] > 0 ? tails[layer][2 * feature] / m[0] : first;
        double above = m[width - 1] > 0 ? tails[layer][2 * feature + 1] / m[width - 1] : lastKnot;
        edges[0] = Math.min(2 * below - first, first);
        edges[width] = Math.max(2 * above - lastKnot, lastKnot);
        return new Distribution(edges, m);
    }

    /**
     * The fraction of a layer's input mass outside its grids' interiors [t_k, t_(G+k)), over all
     * the layer's features, the largest over layers. Over all features, not the worst one: a single
     * trending feature (a date, a counter) always runs off its grid and should not drive refits on
     * its own; a shift of the distribution moves many.
     */
    double outsideFraction(KnotGrid[] grids) {
        return worstLayer(l -> outsideFraction(l, grids[l]));
    }

    private double worstLayer(IntToDoubleFunction perLayer) {
        double worst = 0;
        for (int l = 0; l < mass.length; l++) {
            worst = Math.max(worst, perLayer.applyAsDouble(l));
        }
        return worst;
    }

    /** The fraction of one layer's input mass, over all its features, outside the interiors. */
    double outsideFraction(int l, KnotGrid grid) {
        int k = grid.splineOrder();
        int g = grid.gridSize();
        double total = 0;
        double outside = 0;
        int width = bins[l];
        for (int i = 0; i < grid.features(); i++) {
            for (int b = 0; b < width; b++) {
                double v = mass[l][i * width + b];
                total += v;
                // interior spans are j = k .. G+k-1, bins j + 1
                if (b < k + 1 || b > g + k) {
                    outside += v;
                }
            }
        }
        return total > 0 ? outside / total : 0;
    }

    /**
     * How far the interior knots are from where the summary says they belong, in probability mass:
     * over a layer's features the mean of the largest |F(t_(k+j)) − j/G|, the largest over layers.
     * A grid fitted to the summary's quantiles scores about 0; a grid whose every span holds the
     * wrong share of the data scores up to 1.
     */
    double knotMisfit(KnotGrid[] grids) {
        return worstLayer(l -> knotMisfit(l, grids[l]));
    }

    /** The knot misfit of one layer: the mean over its features. */
    double knotMisfit(int l, KnotGrid grid) {
        int k = grid.splineOrder();
        int g = grid.gridSize();
        int width = bins[l];
        double sum = 0;
        int counted = 0;
        for (int i = 0; i < grid.features(); i++) {
            double total = 0;
            for (int b = 0; b < width; b++) {
                total += mass[l][i * width + b];
            }
            if (!(total > 0)) {
                continue;
            }
            double below = 0;
            for (int b = 0; b <= k; b++) {
                below += mass[l][i * width + b];
            }
            double gap = 0;
            for (int j = 0; j <= g; j++) {
                // below = F(t_(k+j)): bins 0 .. k + j
                gap = Math.max(gap, Math.abs(below / total - (double) j / g));
                if (j < g) {
                    below += mass[l][i * width + k + j + 1];
                }
            }
            sum += gap;
            counted++;
        }
        return counted > 0 ? sum / counted : 0;
    }

    /** Moves one layer's summary onto a new grid (after a refit), keeping its mass and means. */
    void rebin(int layer, KnotGrid oldGrid, KnotGrid newGrid) {
        int width = newGrid.spans() + 2;
        int in = newGrid.features();
        float[] newMass = new float[in * width];
        float[] newTails = new float[in * 2];
        for (int i = 0; i < in; i++) {
            Distribution d = distribution(layer, i, oldGrid);
            double previous = 0;
            double previousMoment = 0;
            for (int j = 0; j <= width - 2; j++) {
                double t = newGrid.knot(i, j);
                double cdf = d.massBelow(t);
                double moment = d.momentBelow(t);
                newMass[i * width + j] = (float) (cdf - previous);
                if (j == 0) {
                    newTails[2 * i] = (float) moment;
                }
                previous = cdf;
                previousMoment = moment;
            }
            newMass[i * width + width - 1] = (float) Math.max(0, d.total() - previous);
            newTails[2 * i + 1] = (float) (d.moment() - previousMoment);
        }
        bins[layer] = width;
        mass[layer] = newMass;
        tails[layer] = newTails;
    }

    // --- state access for the codec ---

    double weight() {
        return weight;
    }

    float[][] mass() {
        return mass;
    }

    float[][] tails() {
        return tails;
    }

    /**
     * The weight and the count of a restored summary whose bins were read into {@link #mass()} and
     * {@link #tails()} in place.
     */
    void restore(double weight, long seenSinceRefit) {
        this.weight = weight;
        this.seenSinceRefit = seenSinceRefit;
    }

    /**
     * A piecewise-uniform distribution: mass m[b] spread evenly over [edges[b], edges[b+1]].
     * Unnormalized: {@link #total} is the summary's (decayed) weight.
     */
    record Distribution(double[] edges, double[] mass) {
        double total() {
            double sum = 0;
            for (double v : mass) {
                sum += v;
            }
            return sum;
        }

        /** Mass below x. */
        double massBelow(double x) {
            double sum = 0;
            for (int b = 0; b < mass.length; b++) {
                double lo = edges[b];
                double hi = edges[b + 1];
                if (x >= hi) {
                    sum += mass[b];
                } else if (x > lo) {
                    sum += mass[b] * (x - lo) / (hi - lo);
                }
            }
            return sum;
        }

        /** ∫ x dm over (−∞, x): the mass below x times its mean. */
        double momentBelow(double x) {
            double sum = 0;
            for (int b = 0; b < mass.length; b++) {
                double lo = edges[b];
                double hi = Math.min(edges[b + 1], x);
                if (hi <= lo) {
                    continue;
                }
                double width = edges[b + 1] - lo;
                double share = width > 0 ? (hi - lo) / width : 1;
                sum += mass[b] * share * (lo + hi) / 2;
            }
            return sum;
        }

        double moment() {
            return momentBelow(Double.POSITIVE_INFINITY);
        }

        /**
         * The value below which a fraction q of the mass lies (0 ≤ q ≤ 1); NaN when there is no
         * mass.
         */
        double quantile(double q) {
            double total = total();
            if (!(total > 0)) {
                return Double.NaN;
            }
            double target = q * total;
            double sum = 0;
            for (int b = 0; b < mass.length; b++) {
                if (mass[b] <= 0) {
                    continue;
                }
                if (sum + mass[b] >= target) {
                    double share = (target - sum) / mass[b];
                    return edges[b] + Math.max(0, Math.min(1, share)) * (edges[b + 1] - edges[b]);
                }
                sum += mass[b];
            }
            for (int b = mass.length - 1; b >= 0; b--) {
                if (mass[b] > 0) {
                    return edges[b + 1];
                }
            }
            return Double.NaN;
        }

        /**
         * {@code points} values at evenly spaced quantiles from 0 to 1, ascending: the ends are the
         * edges of the outermost mass, so knots fitted to them cover everything the summary saw.
         */
        double[] sample(int points) {
            double[] values = new double[points];
            for (int m = 0; m < points; m++) {
                values[m] = quantile((double) m / (points - 1));
            }
            Arrays.sort(values);
            return values;
        }
    }
}
