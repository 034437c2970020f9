package io.kanstream.kan;

import java.util.List;

/**
 * The network's forward pass in plain Java on a snapshot of its parameters, for scoring on the CPU.
 *
 * <p>A stream scores one event at a time. Through DJL that is some hundred native ops of a few
 * elements each, and the per-op cost (JNI, dispatch, allocation) is all that is paid: about 0.2 ms
 * per event for a small KAN. The same arithmetic in Java takes microseconds. It is the same
 * function in float: the B-spline recursion does the operations of {@link BSplineBasis} in the same
 * order on the same guarded reciprocals, C ⊙ S is taken from the device as computed there, and only
 * the order of the final sums differs from the device's matrix products (a few ulps).
 *
 * <p>A snapshot goes stale when the parameters change; {@link KanNetwork} drops it after every step
 * and refit and builds a new one on the next call.
 */
final class HostForward {
    private final Layer[] layers;
    private final int inputs;
    private final int outputs;
    private final int widest; // the widest layer input or output
    private final int scratch; // the largest scratch a layer needs

    private HostForward(Layer[] layers) {
        this.layers = layers;
        this.inputs = layers[0].in;
        this.outputs = layers[layers.length - 1].out;
        int w = 0;
        int sc = 0;
        for (Layer layer : layers) {
            w = Math.max(w, Math.max(layer.in, layer.out));
            sc = Math.max(sc, layer.scratchSize());
        }
        this.widest = w;
        this.scratch = sc;
    }

    static HostForward of(List<KanLayer> network) {
        Layer[] layers = new Layer[network.size()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = new Layer(network.get(l));
        }
        return new HostForward(layers);
    }

    /**
     * @param x (n, in) row-major, normalized
     * @return (n, out) row-major
     */
    float[] outputs(float[] x, int n) {
        float[] result = new float[n * outputs];
        float[] a = new float[widest];
        float[] b = new float[widest];
        float[] work = new float[scratch];
        for (int s = 0; s < n; s++) {
            System.arraycopy(x, s * inputs, a, 0, inputs);
            for (Layer layer : layers) {
                layer.forward(a, b, work);
                float[] swap = a;
                a = b;
                b = swap;
            }
            System.arraycopy(a, 0, result, s * outputs, outputs);
        }
        return result;
    }

    private static final class Layer {
        final int in;
        final int out;
        final int order;
        final int coefficients;
        final int spans; // m − 1 = G + 2k order-0 bases per feature
        final float[] knots; // (in, m)
        final float[][] leftInv; // [p] (in, m−1−p)
        final float[][] rightInv; // [p] (in, m−1−p)
        final float[] baseWeight; // (out, in)
        final float[] scaledSpline; // (out, in, G+k)

        Layer(KanLayer layer) {
            KnotGrid grid = layer.grid();
            in = layer.in;
            out = layer.out;
            order = grid.splineOrder();
            coefficients = grid.gridSize() + order;
            int m = grid.gridSize() + 2 * order + 1;
            spans = m - 1;
            float[][] t = grid.toArray();
            knots = new float[in * m];
            for (int i = 0; i < in; i++) {
                System.arraycopy(t[i], 0, knots, i * m, m);
            }
            leftInv = new float[order + 1][];
            rightInv = new float[order + 1][];
            for (int p = 1; p <= order; p++) {
                int width = m - 1 - p;
                leftInv[p] = new float[in * width];
                rightInv[p] = new float[in * width];
                for (int i = 0; i < in; i++) {
                    for (int j = 0; j < width; j++) {
                        leftInv[p][i * width + j] =
                                BSplineBasis.guardedInverse(t[i][j + p] - t[i][j], 1);
                        rightInv[p][i * width + j] =
                                BSplineBasis.guardedInverse(t[i][j + p + 1] - t[i][j + 1], 1);
                    }
                }
            }
            baseWeight = layer.baseWeight.toFloatArray();
            scaledSpline = layer.scaledSplineOnHost();
        }

        int scratchSize() {
            return 2 * spans + in * coefficients + in;
        }

        /** y = silu(x) · Wbᵀ + B(x) · (C ⊙ S)ᵀ for one sample. */
        void forward(float[] x, float[] y, float[] scratch) {
            int m = spans + 1;
            // scratch: [0, spans) current order, [spans, 2 spans) next, then bases, then silu
            int basesAt = 2 * spans;
            int siluAt = basesAt + in * coefficients;
            for (int i = 0; i < in; i++) {
                float xi = x[i];
                float sigmoid = (float) (1 / (1 + Math.exp(-xi)));
                scratch[siluAt + i] = xi * sigmoid;
                int t0 = i * m;
                for (int j = 0; j < spans; j++) {
                    scratch[j] = xi >= knots[t0 + j] && xi < knots[t0 + j + 1] ? 1f : 0f;
                }
                for (int p = 1; p <= order; p++) {
                    int width = spans - p;
                    float[] li = leftInv[p];
                    float[] ri = rightInv[p];
                    int r0 = i * width;
                    for (int j = 0; j < width; j++) {
                        float left = (xi - knots[t0 + j]) * li[r0 + j] * scratch[j];
                        float right = (xi - knots[t0 + j + p + 1]) * ri[r0 + j] * scratch[j + 1];
                        scratch[spans + j] = left - right;
                    }
                    System.arraycopy(scratch, spans, scratch, 0, width);
                }
                System.arraycopy(scratch, 0, scratch, basesAt + i * coefficients, coefficients);
            }
            for (int o = 0; o < out; o++) {
                float sum = 0;
                int w0 = o * in;
                int c0 = o * in * coefficients;
                for (int i = 0; i < in; i++) {
                    sum += scratch[siluAt + i] * baseWeight[w0 + i];
                }
                for (int q = 0; q < in * coefficients; q++) {
                    sum += scratch[basesAt + q] * scaledSpline[c0 + q];
                }
                y[o] = sum;
            }
        }
    }
}
