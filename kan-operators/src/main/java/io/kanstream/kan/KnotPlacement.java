package io.kanstream.kan;

/**
 * Places one feature's knots where a spline on them reproduces given curves best, keeping the
 * interior's two ends (and so its coverage of the inputs), the grid size and the spline order. From
 * each start (see {@link #starts}) it moves every other knot in turn, the outer ones included, to
 * the position between its neighbours with the smallest least-squares residual over all the curves
 * of that input's edges: where the old function has detail that a grid of the same size must spend
 * its knots on.
 *
 * @param x (m) the feature's values at the fitting points
 * @param targets (m, out) row-major: the values each of the feature's edges should take there
 * @param smoothing the least squares' second-difference penalty (see {@link SplineFit})
 */
record KnotPlacement(
        int gridSize, int splineOrder, float[] x, double[] targets, int out, double smoothing) {
    /** Positions tried for a knot between its neighbours, and passes over the knots. */
    static final int CANDIDATES = 7;

    static final int SWEEPS = 2;

    /**
     * Where the search starts from: the proposed knots (the inputs' quantiles, which put the
     * resolution where the inputs are), the same ends with the interior knots evenly spaced, and,
     * when they lie inside those ends, the old grid's interior knots (where the old function's
     * detail is).
     *
     * @param proposed a full knot row (G + 2k + 1)
     * @param old the old grid's knot row of the same feature
     */
    float[][] starts(float[] proposed, float[] old) {
        int k = splineOrder;
        float low = proposed[k];
        float high = proposed[k + gridSize];
        float[] uniform = proposed.clone();
        for (int j = 1; j < gridSize; j++) {
            uniform[k + j] = (float) (low + (high - (double) low) * j / gridSize);
        }
        boolean oldFits = old.length == proposed.length;
        float[] kept = proposed.clone();
        for (int j = k + 1; oldFits && j < k + gridSize; j++) {
            kept[j] = old[j];
            oldFits = old[j] > kept[j - 1] && old[j] < high;
        }
        return oldFits
                ? new float[][] {proposed, uniform, kept}
                : new float[][] {proposed, uniform};
    }

    /** {@link #improve} from each start; the result with the smallest residual. */
    float[] best(float[][] starts) {
        float[] best = null;
        double bestResidual = Double.POSITIVE_INFINITY;
        for (float[] start : starts) {
            float[] placed = improve(start);
            double r = residual(placed);
            if (r < bestResidual) {
                bestResidual = r;
                best = placed;
            }
        }
        return best;
    }

    /**
     * Coordinate descent over the knots from {@code knots} (not changed): never ends with a larger
     * residual than it started with.
     *
     * @param knots a full knot row (G + 2k + 1), strictly increasing
     */
    float[] improve(float[] knots) {
        int k = splineOrder;
        float[] best = knots.clone();
        double bestResidual = residual(best);
        int last = best.length - 1;
        for (int sweep = 0; sweep < SWEEPS; sweep++) {
            boolean moved = false;
            // the outermost knots may move up to the interior's width further out
            double span = best[k + gridSize] - best[k];
            for (int j = 0; j <= last; j++) {
                if (j == k || j == k + gridSize) {
                    continue; // the interior's ends stay: they cover the inputs
                }
                double low = j > 0 ? best[j - 1] : best[1] - span;
                double high = j < last ? best[j + 1] : best[last - 1] + span;
                float[] trial = best.clone();
                for (int q = 1; q <= CANDIDATES; q++) {
                    float position = (float) (low + (high - low) * q / (CANDIDATES + 1));
                    if (!(position > low && position < high)) {
                        continue;
                    }
                    trial[j] = position;
                    double r = residual(trial);
                    if (r < bestResidual) {
                        bestResidual = r;
                        best[j] = position;
                        moved = true;
                    }
                }
            }
            if (!moved) {
                break;
            }
        }
        return best;
    }

    /** The least-squares residual of the curves on a spline over {@code knots}. */
    double residual(float[] knots) {
        KnotGrid grid = new KnotGrid(new float[][] {knots}, gridSize, splineOrder);
        int c = grid.coefficients();
        HostKan.Layer layer =
                new HostKan.Layer(grid, 1, new float[1], new float[c], new float[] {1});
        int m = x.length;
        float[] bases = layer.bases(x, m);
        double[] a = new double[m * c];
        for (int q = 0; q < a.length; q++) {
            a[q] = bases[q];
        }
        double[] solved = SplineFit.solve(a, m, c, targets, out, smoothing);
        double sum = 0;
        for (int s = 0; s < m; s++) {
            for (int o = 0; o < out; o++) {
                double fit = 0;
                for (int b = 0; b < c; b++) {
                    fit += a[s * c + b] * solved[o * c + b];
                }
                double d = fit - targets[s * out + o];
                sum += d * d;
            }
        }
        return sum;
    }
}
