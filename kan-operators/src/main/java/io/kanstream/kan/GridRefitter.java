package io.kanstream.kan;

import java.util.Arrays;

/**
 * Refits every layer's knot grid to a sample of network inputs, preserving the network's function
 * as closely as a spline on the new grid can.
 *
 * <p>Layer by layer, first to last: the new knots of a feature come from the quantiles of that
 * feature's values as the (already refit) layers below now produce them; then the spline weights
 * are re-solved so that each edge maps its new input to what the old edge produced from the old
 * input. For the first layer the inputs are the same, so this is exactly "every edge's spline
 * output with the new grid equals its output with the old grid"; for deeper layers it also absorbs
 * the small error of the layers below instead of passing it on. The fit is of the effective
 * coefficients C ⊙ S, and C = fit / S, so the scaler is applied once — not twice as in
 * efficient-kan's {@code update_grid}.
 */
final class GridRefitter {
    private final KanConfig config;

    GridRefitter(KanConfig config) {
        this.config = config;
    }

    /** What a refit did. */
    record Outcome(int gridSize, double[] insideFraction) {}

    /**
     * @param network refit in place
     * @param x0 (n, in) normalized network inputs, row-major
     * @param newGridSize the grid size afterwards (the current one, or a finer/coarser one)
     * @param blend how far knots move toward their target when the size is unchanged
     * @param relativeMargin extra margin on each side, as a fraction of each feature's range
     */
    Outcome refit(
            HostKan network,
            float[] x0,
            int n,
            int newGridSize,
            double blend,
            double relativeMargin) {
        if (n < 1) {
            throw new IllegalArgumentException("a grid refit needs at least one sample, got none");
        }
        float[][] oldInputs = network.layerInputs(x0, n);
        float[] current = x0;
        double[] inside = new double[network.size()];
        for (int l = 0; l < network.size(); l++) {
            HostKan.Layer layer = network.layer(l);
            int in = layer.in;
            int out = layer.out;
            int k = layer.order;
            int oldC = layer.coefficients;
            float[] oldBases = layer.bases(oldInputs[l], n); // (n, in, oldC)
            float[] scaled = layer.scaledSpline; // (out, in, oldC)
            float[] scaler = layer.splineScaler; // (out, in)

            float[][] knots = new float[in][];
            double[] column = new double[n];
            for (int i = 0; i < in; i++) {
                for (int s = 0; s < n; s++) {
                    column[s] = current[s * in + i];
                }
                Arrays.sort(column);
                double margin = config.gridMargin() + relativeMargin * (column[n - 1] - column[0]);
                knots[i] = KnotGrid.fitKnots(column, newGridSize, k, config.gridEps(), margin);
            }
            KnotGrid target = new KnotGrid(knots, newGridSize, k);
            KnotGrid grid = layer.grid.blend(target, blend);
            inside[l] = insideFraction(current, n, grid);

            int newC = newGridSize + k;
            // the per-edge fit, on a layer that has the new grid and the old Wb and S
            HostKan.Layer fitted =
                    new HostKan.Layer(
                            grid, out, layer.baseWeight, new float[out * in * newC], scaler);
            float[] newBases = fitted.bases(current, n); // (n, in, newC)
            float[] spline = fitted.splineWeight;
            double[] a = new double[n * newC];
            double[] y = new double[n * out];
            for (int i = 0; i < in; i++) {
                for (int s = 0; s < n; s++) {
                    for (int c = 0; c < newC; c++) {
                        a[s * newC + c] = newBases[(s * in + i) * newC + c];
                    }
                    for (int o = 0; o < out; o++) {
                        double edge = 0; // the old edge (o, i) at the old input
                        for (int c = 0; c < oldC; c++) {
                            edge +=
                                    oldBases[(s * in + i) * oldC + c]
                                            * scaled[(o * in + i) * oldC + c];
                        }
                        y[s * out + o] = edge;
                    }
                }
                double[] solved = SplineFit.solve(a, n, newC, y, out, config.refitSmoothing());
                for (int o = 0; o < out; o++) {
                    float s = scaler[o * in + i];
                    // An edge whose scaler is ~0 outputs ~0 whatever C is; fit C as if S were 1.
                    double divisor = Math.abs(s) > 1e-7 ? s : 1;
                    for (int c = 0; c < newC; c++) {
                        spline[(o * in + i) * newC + c] = (float) (solved[o * newC + c] / divisor);
                    }
                }
            }
            fitted.rescale();
            float[][] polished = polishLayer(fitted, current, n, newBases, oldInputs[l + 1]);
            network.refit(l, grid, polished[0], polished[1]);
            if (l + 1 < network.size()) {
                current = network.layer(l).outputs(current, n);
            }
        }
        return new Outcome(newGridSize, inside);
    }

    /**
     * A layer is linear in its base and spline weights, so they can be fit jointly to the old
     * layer's outputs on the sample; for the last layer that is the old network's output. This
     * absorbs what the per-edge fits could not preserve, including the small error of the layers
     * below. A ridge toward the per-edge solution keeps directions the sample does not determine
     * where they were, so a small window cannot overfit.
     *
     * @param layer the new grid with the per-edge solution
     * @param x (n, in) the layer's new inputs
     * @param bases (n, in, c) their bases under the new grid
     * @param target (n, out) the old layer's outputs on the old inputs
     * @return the new base weight (out, in) and spline weight (out, in, c)
     */
    private float[][] polishLayer(
            HostKan.Layer layer, float[] x, int n, float[] bases, float[] target) {
        int in = layer.in;
        int out = layer.out;
        int c = layer.coefficients;
        int width = in * (c + 1); // per input: silu, then c bases
        float[] base = layer.baseWeight; // (out, in)
        float[] scaled = layer.scaledSpline; // (out, in, c)
        float[] scaler = layer.splineScaler; // (out, in)
        double[] design = new double[n * width];
        for (int s = 0; s < n; s++) {
            for (int i = 0; i < in; i++) {
                double v = x[s * in + i];
                int column = s * width + i * (c + 1);
                design[column] = v / (1 + Math.exp(-v));
                for (int b = 0; b < c; b++) {
                    design[column + 1 + b] = bases[(s * in + i) * c + b];
                }
            }
        }
        double[] prior = new double[out * width];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                prior[o * width + i * (c + 1)] = base[o * in + i];
                for (int b = 0; b < c; b++) {
                    prior[o * width + i * (c + 1) + 1 + b] = scaled[(o * in + i) * c + b];
                }
            }
        }
        double[] y = new double[n * out];
        for (int q = 0; q < y.length; q++) {
            y[q] = target[q];
        }
        double[] theta = SplineFit.solveTowards(design, n, width, y, out, prior, POLISH_RIDGE);
        float[] newBase = new float[out * in];
        float[] newSpline = new float[out * in * c];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                newBase[o * in + i] = (float) theta[o * width + i * (c + 1)];
                float sc = scaler[o * in + i];
                double divisor = Math.abs(sc) > 1e-7 ? sc : 1;
                for (int b = 0; b < c; b++) {
                    newSpline[(o * in + i) * c + b] =
                            (float) (theta[o * width + i * (c + 1) + 1 + b] / divisor);
                }
            }
        }
        return new float[][] {newBase, newSpline};
    }

    private static final double POLISH_RIDGE = 1e-3;

    /** Fraction of the sample's values inside the grid's interior, over all features. */
    static double insideFraction(float[] x, int n, KnotGrid grid) {
        int in = grid.features();
        long inside = 0;
        for (int s = 0; s < n; s++) {
            for (int i = 0; i < in; i++) {
                float v = x[s * in + i];
                if (v >= grid.interiorLow(i) && v < grid.interiorHigh(i)) {
                    inside++;
                }
            }
        }
        return n == 0 ? 1 : (double) inside / ((long) n * in);
    }
}
