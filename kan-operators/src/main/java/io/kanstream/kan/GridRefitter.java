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

    /** What a refit would do: the new layers, and how much it changes their outputs. */
    record Proposal(
            int gridSize,
            KnotGrid[] grids,
            float[][] baseWeights,
            float[][] splineWeights,
            double[] insideFraction,
            double change) {}

    /** Fitting points drawn from each feature's summary when no rows are given. */
    static final int SUMMARY_POINTS = 64;

    /**
     * Proposes new grids and weights for every layer, leaving the network as it is.
     *
     * <p>Each feature's new knots come from the quantiles of its running summary (of the rows, when
     * rows are given). The spline weights are re-solved so that every edge reproduces its old
     * output on fitting points: the given rows pushed through the network (with the layers below
     * already refit), or, without rows, {@value #SUMMARY_POINTS} points per feature at the
     * summary's quantiles — each edge is a function of one input, so points drawn from that input's
     * own summary are enough.
     *
     * @param statistics the layers' input summaries, on the network's current grids (read only when
     *     no rows are given)
     * @param x0 (n, in) normalized network inputs, row-major, or null to fit on the summaries
     * @param newGridSize the grid size afterwards (the current one, or a finer/coarser one)
     * @param blend how far knots move toward their target when the size is unchanged
     * @param relativeMargin extra margin on each side, as a fraction of each feature's range
     * @param layersToRefit which layers get new grids; the others keep theirs (null: all)
     */
    Proposal propose(
            HostKan network,
            ActivationStatistics statistics,
            float[] x0,
            int n,
            int newGridSize,
            double blend,
            double relativeMargin,
            boolean[] layersToRefit) {
        boolean rows = x0 != null;
        if (rows && n < 1) {
            throw new IllegalArgumentException("a grid refit needs at least one sample, got none");
        }
        int layers = network.size();
        float[][] oldInputs = rows ? network.layerInputs(x0, n) : null;
        float[] current = x0;
        double[] inside = new double[layers];
        KnotGrid[] grids = new KnotGrid[layers];
        float[][] bases = new float[layers][];
        float[][] splines = new float[layers][];
        double changeSquares = 0;
        double totalSquares = 0;
        for (int l = 0; l < layers; l++) {
            HostKan.Layer layer = network.layer(l);
            int in = layer.in;
            int out = layer.out;
            int k = layer.order;
            int oldC = layer.coefficients;
            if (layersToRefit != null
                    && !layersToRefit[l]
                    && newGridSize == layer.grid.gridSize()) {
                grids[l] = layer.grid;
                bases[l] = layer.baseWeight.clone();
                splines[l] = layer.splineWeight.clone();
                inside[l] = Double.NaN;
                if (rows) {
                    current = layer.outputs(current, n);
                }
                continue;
            }

            double[][] samples = new double[in][];
            float[][] knots = new float[in][];
            for (int i = 0; i < in; i++) {
                if (rows) {
                    // a sample is its own best summary: its exact quantiles
                    samples[i] = new double[n];
                    for (int s = 0; s < n; s++) {
                        samples[i][s] = current[s * in + i];
                    }
                    Arrays.sort(samples[i]);
                } else {
                    samples[i] = statistics.distribution(l, i, layer.grid).sample(SUMMARY_POINTS);
                }
                double[] sorted = samples[i];
                if (Double.isNaN(sorted[0])) {
                    // nothing recorded for this input: refit it to its current interior
                    sorted = new double[] {layer.grid.interiorLow(i), layer.grid.interiorHigh(i)};
                    samples[i] = sorted;
                }
                double margin =
                        config.gridMargin()
                                + relativeMargin * (sorted[sorted.length - 1] - sorted[0]);
                knots[i] =
                        refines(layer.grid, newGridSize, rows)
                                ? KnotGrid.refine(layer.grid, i)
                                : KnotGrid.fitKnots(
                                        sorted, newGridSize, k, config.gridEps(), margin);
            }
            KnotGrid target = new KnotGrid(knots, newGridSize, k);
            KnotGrid grid = layer.grid.blend(target, blend);

            float[] fitInputs; // (m, in): this layer's new inputs at the fitting points
            float[] oldLayerInputs; // (m, in): the old layer's inputs at the same points
            int m;
            if (rows) {
                m = n;
                fitInputs = current;
                oldLayerInputs = oldInputs[l];
            } else {
                m = SUMMARY_POINTS;
                fitInputs = new float[m * in];
                for (int s = 0; s < m; s++) {
                    for (int i = 0; i < in; i++) {
                        double[] column = samples[i];
                        fitInputs[s * in + i] =
                                (float) column[Math.min(column.length - 1, s * column.length / m)];
                    }
                }
                oldLayerInputs = fitInputs;
            }
            float[] oldBases = layer.bases(oldLayerInputs, m); // (m, in, oldC)
            float[] scaled = layer.scaledSpline(); // (out, in, oldC)
            float[] scaler = layer.splineScaler; // (out, in)
            // A same-size refit from a sample of rows: a finer grid carries the old function
            // closely from the quantiles alone, and the search's cost grows with G. The stream's
            // refits from the summaries keep the quantile knots the suite was measured with.
            if (rows && newGridSize == layer.grid.gridSize()) {
                grid = placeKnots(layer, scaled, grid, fitInputs, oldBases, m);
            }
            inside[l] = insideFraction(fitInputs, m, grid);

            int newC = grid.coefficients();
            // the per-edge fit, on a layer that has the new grid and the old Wb and S
            HostKan.Layer fitted =
                    new HostKan.Layer(
                            grid, out, layer.baseWeight, new float[out * in * newC], scaler);
            float[] newBases = fitted.bases(fitInputs, m); // (m, in, newC)
            float[] spline = fitted.splineWeight;
            double[] a = new double[m * newC];
            double[] y = new double[m * out];
            for (int i = 0; i < in; i++) {
                for (int s = 0; s < m; s++) {
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
                double[] solved = SplineFit.solve(a, m, newC, y, out, config.refitSmoothing());
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
            float[] newBase = layer.baseWeight.clone();
            float[] newSpline = spline;
            float[] oldOutputs = rows ? oldInputs[l + 1] : layer.outputs(oldLayerInputs, m);
            if (rows) {
                float[][] polished = polishLayer(fitted, fitInputs, m, newBases, oldOutputs);
                newBase = polished[0];
                newSpline = polished[1];
            }
            HostKan.Layer result = new HostKan.Layer(grid, out, newBase, newSpline, scaler);
            float[] newOutputs = result.outputs(fitInputs, m);
            for (int q = 0; q < newOutputs.length; q++) {
                double d = newOutputs[q] - oldOutputs[q];
                changeSquares += d * d;
                totalSquares += (double) oldOutputs[q] * oldOutputs[q];
            }
            grids[l] = grid;
            bases[l] = newBase;
            splines[l] = newSpline;
            if (rows) {
                current = newOutputs;
            }
        }
        double change = totalSquares > 0 ? Math.sqrt(changeSquares / totalSquares) : 0;
        return new Proposal(newGridSize, grids, bases, splines, inside, change);
    }

    /** At most this many of a sample's rows steer the knot search (evenly spread over them). */
    static final int PLACEMENT_POINTS = 256;

    /**
     * Moves each feature's interior and outer knots (the interior's ends stay, so the sample stays
     * covered) to where a spline of this size reproduces the old edges of that input best (see
     * {@link KnotPlacement}). The quantiles alone put the knots where the sample is dense; when the
     * sample reaches far beyond the old grid, a grid of the same size is too coarse to carry the
     * old function's detail everywhere, and where its knots go decides how much is lost.
     *
     * @param scaled (out, in, oldC) the layer's C ⊙ S
     * @param proposed the grid from the sample's quantiles
     * @param x (m, in) the layer's new inputs at the fitting points
     * @param oldBases (m, in, oldC) the old grid's bases at the old inputs
     */
    private KnotGrid placeKnots(
            HostKan.Layer layer,
            float[] scaled,
            KnotGrid proposed,
            float[] x,
            float[] oldBases,
            int m) {
        int in = layer.in;
        int out = layer.out;
        int oldC = layer.coefficients;
        int stride = (m + PLACEMENT_POINTS - 1) / PLACEMENT_POINTS;
        int points = (m + stride - 1) / stride;
        float[][] placed = new float[in][];
        for (int i = 0; i < in; i++) {
            float[] column = new float[points];
            double[] curves = new double[points * out]; // the old edges (o, i), spline part
            for (int p = 0; p < points; p++) {
                int s = p * stride;
                column[p] = x[s * in + i];
                for (int o = 0; o < out; o++) {
                    double edge = 0;
                    for (int c = 0; c < oldC; c++) {
                        edge += oldBases[(s * in + i) * oldC + c] * scaled[(o * in + i) * oldC + c];
                    }
                    curves[p * out + o] = edge;
                }
            }
            KnotPlacement placement =
                    new KnotPlacement(
                            proposed.gridSize(),
                            proposed.splineOrder(),
                            column,
                            curves,
                            out,
                            config.refitSmoothing());
            placed[i] = placement.best(placement.starts(proposed.row(i), layer.grid.row(i)));
        }
        return new KnotGrid(placed, proposed.gridSize(), proposed.splineOrder());
    }

    /**
     * A grid extension from the running summaries splits every interior span in two instead of
     * moving knots: the refined knot vector contains the old one, so the finer grid can reproduce
     * every edge exactly (up to the least squares' smoothing). Moving knots is the job of the
     * outside-grid refits.
     */
    private static boolean refines(KnotGrid grid, int newGridSize, boolean rows) {
        return !rows && newGridSize == 2 * grid.gridSize();
    }

    /** Puts a proposal into the network and moves the summaries onto the new grids. */
    static void apply(HostKan network, ActivationStatistics statistics, Proposal proposal) {
        for (int l = 0; l < network.size(); l++) {
            KnotGrid old = network.layer(l).grid;
            network.refit(
                    l, proposal.grids()[l], proposal.baseWeights()[l], proposal.splineWeights()[l]);
            statistics.rebin(l, old, proposal.grids()[l]);
        }
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
        float[] scaled = layer.scaledSpline(); // (out, in, c)
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
