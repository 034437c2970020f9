package io.kanstream.kan;

/**
 * Every learned edge function of one layer, sampled: φ_(o,i)(x) = Wb[o,i]·silu(x) + Σ_c
 * B_c(x)·C[o,i,c]·S[o,i], over a range a little wider than the grid's interior — what pykan users
 * look at to read a KAN.
 *
 * @param layer the layer index
 * @param x [i][p] sample points of input i, in the layer's input units (for layer 0 the raw feature
 *     units when the model normalizes its inputs)
 * @param phi [o][i][p] the edge function from input i to output o at those points
 */
public record EdgeCurves(int layer, double[][] x, double[][][] phi) {

    static EdgeCurves sample(KanLearner learner, int layer, int points) {
        if (layer < 0 || layer >= learner.layerCount()) {
            throw new IllegalArgumentException(
                    "layer " + layer + " does not exist: the model has " + learner.layerCount());
        }
        if (points < 2) {
            throw new IllegalArgumentException("need at least 2 points, got " + points);
        }
        HostKan.Layer l = learner.host().layer(layer);
        KnotGrid grid = l.grid;
        int in = l.in;
        int out = l.out;
        int c = l.coefficients;
        float[] z = new float[points * in]; // (points, in) in the layer's own units
        for (int i = 0; i < in; i++) {
            double low = grid.interiorLow(i);
            double high = grid.interiorHigh(i);
            double pad = 0.1 * (high - low);
            for (int p = 0; p < points; p++) {
                z[p * in + i] = (float) (low - pad + (high - low + 2 * pad) * p / (points - 1));
            }
        }
        float[] bases = l.bases(z, points); // (points, in, c)
        float[] scaled = l.scaledSpline(); // (out, in, c)
        float[] base = l.baseWeight; // (out, in)
        double[][][] phi = new double[out][in][points];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                for (int p = 0; p < points; p++) {
                    double v = z[p * in + i];
                    double value = base[o * in + i] * v / (1 + Math.exp(-v));
                    for (int b = 0; b < c; b++) {
                        value += bases[(p * in + i) * c + b] * scaled[(o * in + i) * c + b];
                    }
                    phi[o][i][p] = value;
                }
            }
        }
        double[][] x = new double[in][points];
        for (int i = 0; i < in; i++) {
            for (int p = 0; p < points; p++) {
                double v = z[p * in + i];
                x[i][p] =
                        layer == 0
                                ? v * learner.normalizer.scale(i) + learner.normalizer.offset(i)
                                : v;
            }
        }
        return new EdgeCurves(layer, x, phi);
    }
}
