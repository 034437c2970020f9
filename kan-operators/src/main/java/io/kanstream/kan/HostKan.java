package io.kanstream.kan;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The network's parameters and Adam's moments on the host, and everything a learner does with them
 * in plain Java: efficient-kan's initialization, the forward pass, a whole training step
 * (closed-form backward, then Adam), and the per-layer bases and outputs a grid refit needs.
 *
 * <p>A stream scores one event at a time and learns from a few dozen labels at a time. Through DJL
 * that is some hundred native ops of a few elements each per call, and the per-op cost (JNI,
 * dispatch, allocation) is all that is paid: about 0.2 ms to score and 0.5 ms per step for a small
 * KAN, and a millisecond to build a model's tensors when a key's state is decoded. The same
 * arithmetic in Java takes microseconds. It is the same function in float: the B-spline recursion
 * does the operations of {@link BSplineBasis} in the same order on the same guarded reciprocals
 * (the grid's {@link KnotGrid.Tables}), C ⊙ S is the same float product, the gradients are those of
 * {@link KanLayer}, and Adam is DJL's fused update written out; only the order of sums differs from
 * the device's matrix products (a few ulps).
 *
 * <p>This is the model's home copy and one {@link KanKernel}; {@link DeviceKan}, the other, mirrors
 * it on the device for calls large enough to be worth it, and {@link KanLearner} keeps the two in
 * step.
 */
final class HostKan implements KanKernel {
    private final Layer[] layers;
    private final int inputs;
    private final int outputs;
    private int widest; // the widest layer input or output
    private int scratch; // the largest scratch a layer needs
    private long flopsPerSample;

    /**
     * The gradients of a step between its backward pass and its update, one buffer per thread for
     * every learner the thread steps. A learner holding its own would carry its parameters' size
     * again, and every step would write them far from the cache at many keys; a step's gradients
     * are only read by the update that follows it.
     */
    private static final ThreadLocal<Gradients> GRADIENTS = ThreadLocal.withInitial(Gradients::new);

    /**
     * A thread's gradient buffers, [layer][Wb, C, S], each at least as long as the parameter of the
     * largest network the thread stepped, and the pass whose backward filled them last. One array
     * per parameter, read from index 0 as the parameter itself is, keeps Adam's loop vectorizable.
     */
    private static final class Gradients {
        float[][][] values = new float[0][][];
        Pass filledBy;

        /** Buffers long enough for {@code layers}'s parameters. */
        float[][][] fit(Layer[] layers) {
            if (values.length < layers.length) {
                values = Arrays.copyOf(values, layers.length);
            }
            for (int l = 0; l < layers.length; l++) {
                if (values[l] == null) {
                    values[l] = new float[ParameterIndex.PER_LAYER][0];
                }
                Layer layer = layers[l];
                grow(l, 0, layer.baseWeight.length);
                grow(l, 1, layer.splineWeight.length);
                grow(l, 2, layer.splineScaler.length);
            }
            return values;
        }

        private void grow(int layer, int parameter, int length) {
            if (values[layer][parameter].length < length) {
                values[layer][parameter] = new float[length];
            }
        }
    }

    private HostKan(Layer[] layers) {
        this.layers = layers;
        this.inputs = layers[0].in;
        this.outputs = layers[layers.length - 1].out;
        sizes();
    }

    private void sizes() {
        int w = 0;
        int sc = 0;
        long flops = 0;
        for (Layer layer : layers) {
            w = Math.max(w, Math.max(layer.in, layer.out));
            sc = Math.max(sc, layer.scratchSize());
            flops += (long) layer.in * layer.out * (layer.coefficients + 2);
        }
        widest = w;
        scratch = sc;
        flopsPerSample = flops;
    }

    /** The given parameters, copied, with Adam's moments at zero. */
    static HostKan of(List<LayerParameters> parameters) {
        return of(parameters, true);
    }

    /**
     * The given parameters with Adam's moments at zero; {@code copy} false takes the arrays
     * themselves, for a caller that holds them nowhere else (the codec's, just read).
     */
    static HostKan of(List<LayerParameters> parameters, boolean copy) {
        Layer[] layers = new Layer[parameters.size()];
        for (int l = 0; l < layers.length; l++) {
            LayerParameters p = parameters.get(l);
            float[] base = p.baseWeight();
            float[] spline = p.splineWeight();
            float[] scaler = p.splineScaler();
            layers[l] =
                    copy
                            ? new Layer(
                                    p.grid(), p.out(), base.clone(), spline.clone(), scaler.clone())
                            : new Layer(p.grid(), p.out(), base, spline, scaler);
        }
        return new HostKan(layers);
    }

    /**
     * efficient-kan's initialization: Wb and S Kaiming-uniform with a = √5·scale, C the
     * least-squares fit of small noise at the grid's G + 1 interior knots.
     */
    static HostKan initialize(KanConfig config) {
        SplittableRandom random = new SplittableRandom(config.seed());
        List<Integer> widths = config.layers();
        Layer[] layers = new Layer[widths.size() - 1];
        int g = config.gridSize();
        int k = config.splineOrder();
        int c = config.coefficients();
        for (int l = 0; l + 1 < widths.size(); l++) {
            int in = widths.get(l);
            int out = widths.get(l + 1);
            KnotGrid grid = KnotGrid.uniform(in, g, k, config.gridLow(), config.gridHigh());
            float[] base = kaimingUniform(random, out * in, in, config.scaleBase());
            float[] scaler = kaimingUniform(random, out * in, in, config.scaleSpline());
            Layer layer = new Layer(grid, out, base, new float[out * in * c], scaler);
            // noise at the interior knots: (G+1, in, out)
            float[] points = new float[(g + 1) * in]; // (G+1, in)
            for (int j = 0; j <= g; j++) {
                for (int i = 0; i < in; i++) {
                    points[j * in + i] = grid.knot(i, k + j);
                }
            }
            double[] noise = new double[(g + 1) * in * out];
            for (int q = 0; q < noise.length; q++) {
                noise[q] = (random.nextDouble() - 0.5) * config.scaleNoise() / g;
            }
            float[] bases = layer.bases(points, g + 1); // (G+1, in, c)
            // KnotGrid.uniform gives every input the same knots, so every input's fit is the same
            // system: one solve, with each input's noise as further right-hand sides (each column
            // is solved as it would be alone). The noise, (G+1, in, out), is already those columns.
            double[] design = new double[(g + 1) * c];
            for (int j = 0; j <= g; j++) {
                for (int b = 0; b < c; b++) {
                    design[j * c + b] = bases[j * in * c + b]; // input 0
                }
            }
            double[] coefficients = SplineFit.solve(design, g + 1, c, noise, in * out, 0);
            float[] spline = new float[out * in * c]; // (out, in, c); coefficients (in, out, c)
            for (int i = 0; i < in; i++) {
                for (int o = 0; o < out; o++) {
                    for (int b = 0; b < c; b++) {
                        spline[(o * in + i) * c + b] = (float) coefficients[(i * out + o) * c + b];
                    }
                }
            }
            layers[l] = new Layer(grid, out, base, spline, scaler);
        }
        return new HostKan(layers);
    }

    private static float[] kaimingUniform(
            SplittableRandom random, int size, int fanIn, double scale) {
        double a = Math.sqrt(5) * scale;
        double gain = Math.sqrt(2 / (1 + a * a));
        double bound = gain * Math.sqrt(3.0 / fanIn);
        float[] values = new float[size];
        for (int q = 0; q < size; q++) {
            values[q] = (float) ((random.nextDouble() * 2 - 1) * bound);
        }
        return values;
    }

    int size() {
        return layers.length;
    }

    int inputs() {
        return inputs;
    }

    int outputs() {
        return outputs;
    }

    /** Multiply-adds of one sample's forward pass, roughly: what decides host or device. */
    long flopsPerSample() {
        return flopsPerSample;
    }

    Layer layer(int index) {
        return layers[index];
    }

    /** Replaces a layer's grid and weights (a refit); the moments follow {@link Layer#refit}. */
    void refit(int index, KnotGrid grid, float[] baseWeight, float[] splineWeight) {
        layers[index] = layers[index].refit(grid, baseWeight, splineWeight);
        sizes();
    }

    /** The current parameters, copied, in the order of the layers. */
    List<LayerParameters> parameters() {
        LayerParameters[] result = new LayerParameters[layers.length];
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            result[l] =
                    new LayerParameters(
                            layer.grid,
                            layer.baseWeight.clone(),
                            layer.splineWeight.clone(),
                            layer.splineScaler.clone(),
                            layer.out);
        }
        return List.of(result);
    }

    /** One parameter, numbered as {@link ParameterIndex} says; not a copy. */
    float[] parameter(int index) {
        Layer layer = layers[ParameterIndex.layer(index)];
        return ParameterIndex.pick(
                ParameterIndex.position(index),
                layer.baseWeight,
                layer.splineWeight,
                layer.splineScaler);
    }

    /**
     * One moment of one parameter, indexed as {@link #parameter}; not a copy. A first moment that
     * was never needed (Adam without momentum) is made, at zero, when asked for.
     */
    float[] moment(int index, boolean first) {
        Layer layer = layers[ParameterIndex.layer(index)];
        int p = ParameterIndex.position(index);
        return first ? layer.firstMoments(p) : layer.second[p];
    }

    /** Sets every Adam first moment to zero, and the second moments too when asked. */
    void resetMoments(boolean second) {
        for (Layer layer : layers) {
            for (int p = 0; p < ParameterIndex.PER_LAYER; p++) {
                if (layer.first[p] != null) {
                    java.util.Arrays.fill(layer.first[p], 0);
                }
                if (second) {
                    java.util.Arrays.fill(layer.second[p], 0);
                }
            }
        }
    }

    /** Every C ⊙ S after their values were written from outside (a device step). */
    void parametersWritten() {
        for (Layer layer : layers) {
            layer.rescale();
        }
    }

    @Override
    public float[] outputs(float[] x, int n) {
        return outputs(x, n, null);
    }

    /**
     * @param x (n, in) row-major, normalized
     * @param statistics receives every layer's inputs of every sample, or null
     * @return (n, out) row-major
     */
    float[] outputs(float[] x, int n, ActivationStatistics statistics) {
        return forwardRows(x, n, statistics, null);
    }

    /**
     * The outputs of this network's grids under other parameters of the same shapes: what a {@link
     * ParameterAverage} scores. Per output the terms are summed in the order of {@link #outputs},
     * so parameters equal to this network's give its very outputs.
     *
     * @param parameters [{@link ParameterIndex}] arrays of this network's parameters' sizes
     * @param x (n, in) row-major, normalized
     * @return (n, out) row-major
     */
    float[] outputsWith(float[][] parameters, float[] x, int n) {
        return forwardRows(x, n, null, parameters);
    }

    /** Row by row through every layer, with its own parameters or, if given, these. */
    private float[] forwardRows(
            float[] x, int n, ActivationStatistics statistics, float[][] parameters) {
        float[] result = new float[n * outputs];
        float[] a = new float[widest];
        float[] b = new float[widest];
        float[] work = new float[scratch];
        int[] spansOf = new int[widest];
        for (int s = 0; s < n; s++) {
            System.arraycopy(x, s * inputs, a, 0, inputs);
            for (int l = 0; l < layers.length; l++) {
                if (statistics != null) {
                    statistics.record(l, a, layers[l].grid);
                }
                if (parameters == null) {
                    layers[l].forward(a, b, work, spansOf);
                } else {
                    layers[l].forwardWith(
                            a,
                            b,
                            work,
                            spansOf,
                            parameters[ParameterIndex.of(l, ParameterIndex.BASE_WEIGHT)],
                            parameters[ParameterIndex.of(l, ParameterIndex.SPLINE_WEIGHT)],
                            parameters[ParameterIndex.of(l, ParameterIndex.SPLINE_SCALER)]);
                }
                float[] swap = a;
                a = b;
                b = swap;
            }
            if (statistics != null) {
                statistics.advance();
            }
            System.arraycopy(a, 0, result, s * outputs, outputs);
        }
        return result;
    }

    /**
     * One row's forward pass, kept whole so that a step on the same row can start from it instead
     * of running the forward pass again; every layer's input goes into {@code statistics}. Its
     * outputs are {@link #outputs}' to the bit (the same per-output sums).
     */
    Pass scoreRow(float[] x, ActivationStatistics statistics) {
        Pass pass = new Pass(x, 1);
        for (int l = 0; l < layers.length; l++) {
            statistics.record(l, pass.input[l], layers[l].grid);
        }
        statistics.advance();
        return pass;
    }

    /**
     * Every layer's input, plus the final output.
     *
     * @return [l] (n, in_l) for each layer l, then (n, out)
     */
    float[][] layerInputs(float[] x, int n) {
        float[][] result = new float[layers.length + 1][];
        result[0] = x;
        for (int l = 0; l < layers.length; l++) {
            result[l + 1] = layers[l].outputs(result[l], n);
        }
        return result;
    }

    /** A forward pass over a batch, keeping what the backward pass needs. */
    final class Pass implements Step {
        final int n;
        final float[][] input; // [l] (n, in_l); input[0] is the caller's array
        final float[][] sigmoid; // [l] (n, in_l)
        final float[][] bases; // [l] (n, in_l, G+k)
        final float[][] previous; // [l] (n, in_l, G+k+1), null when k = 0
        final int[][] spans; // [l] (n, in_l) the span of each value, −1 outside the grid
        final float[] output; // (n, out)

        private Pass(float[] x, int n) {
            this.n = n;
            int count = layers.length;
            input = new float[count][];
            sigmoid = new float[count][];
            spans = new int[count][];
            bases = new float[count][];
            previous = new float[count][];
            input[0] = x;
            float[] work = new float[scratch];
            float[] y = x;
            for (int l = 0; l < count; l++) {
                Layer layer = layers[l];
                input[l] = y;
                sigmoid[l] = new float[n * layer.in];
                bases[l] = new float[n * layer.in * layer.coefficients];
                previous[l] =
                        layer.order >= 1
                                ? new float[n * layer.in * (layer.coefficients + 1)]
                                : null;
                y = new float[n * layer.out];
                spans[l] = new int[n * layer.in];
                layer.forwardBatch(
                        input[l], n, sigmoid[l], bases[l], previous[l], spans[l], y, work);
            }
            output = y;
        }

        @Override
        public float[] outputs() {
            return output;
        }

        @Override
        public double backward(float[] dOut) {
            return HostKan.this.backward(this, dOut);
        }

        @Override
        public void update(AdamOptimizer.Rates rates, float gradientScale) {
            HostKan.this.update(this, rates, gradientScale);
        }

        /** Nothing to release: a host pass is plain arrays. */
        @Override
        public void close() {}
    }

    @Override
    public Pass forward(float[] x, int n) {
        return new Pass(x, n);
    }

    /**
     * Backward pass: fills every layer's parameter gradients.
     *
     * @param dOut (n, out) dLoss/dOutput
     * @return the global L2 norm of all parameter gradients
     */
    double backward(Pass pass, float[] dOut) {
        Gradients buffer = GRADIENTS.get();
        float[][][] g = buffer.fit(layers);
        buffer.filledBy = pass;
        double squares = 0;
        float[] upstream = dOut;
        for (int l = layers.length - 1; l >= 0; l--) {
            Layer layer = layers[l];
            squares +=
                    layer.parameterGradients(
                            g[l],
                            pass.input[l],
                            pass.sigmoid[l],
                            pass.bases[l],
                            pass.spans[l],
                            upstream,
                            pass.n);
            if (l > 0) {
                upstream =
                        layer.inputGradient(
                                pass.input[l],
                                pass.sigmoid[l],
                                pass.previous[l],
                                pass.spans[l],
                                upstream,
                                pass.n);
            }
        }
        return Math.sqrt(squares);
    }

    /** Adam on every parameter from the gradients {@link #backward} computed for {@code pass}. */
    void update(Pass pass, AdamOptimizer.Rates rates, float gradientScale) {
        Gradients buffer = GRADIENTS.get();
        if (buffer.filledBy != pass) {
            throw new IllegalStateException(
                    "a host step's update must follow its own backward pass on the same thread,"
                            + " with no other backward pass in between");
        }
        buffer.filledBy = null;
        for (int l = 0; l < layers.length; l++) {
            layers[l].update(rates, gradientScale, buffer.values[l]);
        }
    }

    /** One layer: its grid's tables, its parameters and their moments. */
    static final class Layer {
        final KnotGrid grid;
        final int in;
        final int out;
        final int order;
        final int coefficients;
        final int spans; // m − 1 = G + 2k order-0 bases per feature
        // the grid's shared tables (KnotGrid.Tables), never written here
        final float[] knots; // (in, m)
        final float[][] leftInv; // [p] (in, m−1−p)   1/(t_(j+p) − t_j), guarded
        final float[][] rightInv; // [p] (in, m−1−p)   1/(t_(j+p+1) − t_(j+1)), guarded
        final float[] derivLeft; // (in, G+k)   k/(t_(j+k) − t_j)
        final float[] derivRight; // (in, G+k)   k/(t_(j+k+1) − t_(j+1))
        final float[] baseWeight; // (out, in)
        final float[] splineWeight; // (out, in, G+k)
        final float[] splineScaler; // (out, in)
        // C ⊙ S, (out, in, G+k), for a layer of one output; a wider layer keeps it only as the
        // rows below (scaledSpline() gives it in this layout)
        private final float[] scaledSpline;
        // the same values with the output index last, one array per row, so the forward pass's
        // inner loops run over outputs with unit stride from index 0: Java 17's C2 vectorizes
        // a[o] += b * c[o] but not c[offset + o] with a loop-invariant offset. Null for a layer
        // of one output (a network's last, as a rule), whose rows would be one float each: there
        // Wb and C ⊙ S are read as they are, and the learner is a few hundred small arrays lighter.
        // Every step rewrites C ⊙ S, so it is kept in one layout only.
        final float[][] baseByInput; // [in] (out) = Wbᵀ
        final float[][] scaledByInput; // [in · (G+k)] (out)
        // Adam's moments, in the order Wb, C, S. The first moments are made by firstMoments once
        // a step with momentum (β₁ > 0) or a caller needs them: with β₁ = 0 Adam's m is the
        // gradient itself, and a key would carry its parameters' size again for nothing
        final float[][] first = new float[ParameterIndex.PER_LAYER][];
        final float[][] second = new float[ParameterIndex.PER_LAYER][];

        Layer(
                KnotGrid grid,
                int out,
                float[] baseWeight,
                float[] splineWeight,
                float[] splineScaler) {
            this.grid = grid;
            this.in = grid.features();
            this.out = out;
            order = grid.splineOrder();
            coefficients = grid.coefficients();
            spans = grid.spans();
            KnotGrid.Tables tables = grid.tables();
            knots = tables.knots;
            leftInv = tables.leftInv;
            rightInv = tables.rightInv;
            derivLeft = tables.derivLeft;
            derivRight = tables.derivRight;
            this.baseWeight = baseWeight;
            this.splineWeight = splineWeight;
            this.splineScaler = splineScaler;
            scaledSpline = out == 1 ? new float[in * coefficients] : null;
            baseByInput = out == 1 ? null : new float[in][out];
            scaledByInput = out == 1 ? null : new float[in * coefficients][out];
            float[][] params = {baseWeight, splineWeight, splineScaler};
            for (int p = 0; p < ParameterIndex.PER_LAYER; p++) {
                second[p] = new float[params[p].length];
            }
            rescale();
        }

        /**
         * This layer on a new grid with new base and spline weights, the scaler kept. The second
         * moments stay (their scale is still right) and the first moments of Wb and C are dropped
         * (they point along the old coordinates). With another number of coefficients (a grid
         * extension) each new coefficient of an edge takes the mean second moment of that edge's
         * old ones: starting them at zero while bias correction counts every step taken so far
         * would make the next steps of C several times the learning rate.
         */
        Layer refit(KnotGrid newGrid, float[] newBase, float[] newSpline) {
            Layer next = new Layer(newGrid, out, newBase, newSpline, splineScaler);
            if (first[2] != null) {
                System.arraycopy(first[2], 0, next.firstMoments(2), 0, first[2].length);
            }
            System.arraycopy(second[0], 0, next.second[0], 0, second[0].length);
            System.arraycopy(second[2], 0, next.second[2], 0, second[2].length);
            if (next.coefficients == coefficients) {
                System.arraycopy(second[1], 0, next.second[1], 0, second[1].length);
            } else {
                for (int edge = 0; edge < out * in; edge++) {
                    float mean = 0;
                    for (int c = 0; c < coefficients; c++) {
                        mean += second[1][edge * coefficients + c];
                    }
                    mean /= coefficients;
                    java.util.Arrays.fill(
                            next.second[1],
                            edge * next.coefficients,
                            (edge + 1) * next.coefficients,
                            mean);
                }
            }
            return next;
        }

        /** C ⊙ S, the same float products as the device's. */
        void rescale() {
            if (out == 1) {
                for (int q = 0; q < in; q++) {
                    float s = splineScaler[q];
                    for (int c = 0; c < coefficients; c++) {
                        scaledSpline[q * coefficients + c] = splineWeight[q * coefficients + c] * s;
                    }
                }
                return; // combine reads Wb and C ⊙ S themselves
            }
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    baseByInput[i][o] = baseWeight[o * in + i];
                    int from = (o * in + i) * coefficients;
                    float s = splineScaler[o * in + i];
                    for (int c = 0; c < coefficients; c++) {
                        scaledByInput[i * coefficients + c][o] = splineWeight[from + c] * s;
                    }
                }
            }
        }

        /** C ⊙ S, (out, in, G+k) row-major: for reading (refits, curves), not for the hot loops. */
        float[] scaledSpline() {
            if (out == 1) {
                return scaledSpline;
            }
            int width = in * coefficients;
            float[] flat = new float[out * width];
            for (int q = 0; q < width; q++) {
                for (int o = 0; o < out; o++) {
                    flat[o * width + q] = scaledByInput[q][o];
                }
            }
            return flat;
        }

        /**
         * The bases of x under this layer's grid.
         *
         * @param x (n, in) row-major
         * @return (n, in, G+k) row-major
         */
        float[] bases(float[] x, int n) {
            float[] result = new float[n * in * coefficients];
            float[] work = new float[spans];
            for (int q = 0; q < n * in; q++) {
                bases(x[q], q % in, work, result, q * coefficients, null, 0);
            }
            return result;
        }

        /**
         * The layer's outputs.
         *
         * @param x (n, in) row-major
         * @return (n, out) row-major
         */
        float[] outputs(float[] x, int n) {
            float[] result = new float[n * out];
            float[] row = new float[in];
            float[] y = new float[out];
            float[] work = new float[scratchSize()];
            int[] spansOf = new int[in];
            for (int s = 0; s < n; s++) {
                System.arraycopy(x, s * in, row, 0, in);
                forward(row, y, work, spansOf);
                System.arraycopy(y, 0, result, s * out, out);
            }
            return result;
        }

        int scratchSize() {
            return spans + in * coefficients + in;
        }

        /**
         * The order-k bases of one value of feature i into {@code into[at, at + G+k)}, and the
         * order k − 1 ones into {@code previous[prevAt, prevAt + G+k+1)} when previous is not null.
         *
         * <p>At most k + 1 bases are non-zero: those of the span x lies in and the k before it. The
         * Cox–de Boor recursion runs over that window only, with the full recursion's operations
         * for each value it computes; the values it skips are exact zeros there too.
         *
         * @param scratch at least G + 2k floats
         * @return the span j with t_j ≤ x < t_(j+1), or −1 when x lies in none (all bases 0)
         */
        private int bases(
                float xi,
                int i,
                float[] scratch,
                float[] into,
                int at,
                float[] previous,
                int prevAt) {
            Arrays.fill(into, at, at + coefficients, 0f);
            if (previous != null) {
                Arrays.fill(previous, prevAt, prevAt + coefficients + 1, 0f);
            }
            int t0 = i * (spans + 1);
            int span = -1;
            for (int j = 0; j < spans; j++) {
                if (xi >= knots[t0 + j] && xi < knots[t0 + j + 1]) {
                    span = j;
                    break;
                }
            }
            if (span < 0) {
                return -1;
            }
            // the order-0 bases: 1 at the span, 0 at the k before it and the one after
            for (int j = Math.max(0, span - order); j <= Math.min(span + 1, spans - 1); j++) {
                scratch[j] = 0f;
            }
            scratch[span] = 1f;
            for (int p = 1; p <= order; p++) {
                int width = spans - p; // order p has bases 0 .. width − 1
                if (p == order && previous != null) {
                    for (int j = Math.max(0, span - p + 1); j <= Math.min(span, width); j++) {
                        previous[prevAt + j] = scratch[j];
                    }
                }
                float[] li = leftInv[p];
                float[] ri = rightInv[p];
                int r0 = i * width;
                // ascending and in place: B_p[j] needs B_(p−1)[j] and B_(p−1)[j+1], and the
                // latter is overwritten only on the next iteration
                for (int j = Math.max(0, span - p); j <= Math.min(span, width - 1); j++) {
                    float left = (xi - knots[t0 + j]) * li[r0 + j] * scratch[j];
                    float right = (xi - knots[t0 + j + p + 1]) * ri[r0 + j] * scratch[j + 1];
                    scratch[j] = left - right;
                }
            }
            for (int j = Math.max(0, span - order); j <= Math.min(span, coefficients - 1); j++) {
                into[at + j] = scratch[j];
            }
            return span;
        }

        /** The first coefficient that can be non-zero for a value in span j. */
        private int first(int span) {
            return Math.max(0, span - order);
        }

        /** The last coefficient that can be non-zero for a value in span j. */
        private int last(int span) {
            return Math.min(span, coefficients - 1);
        }

        /** y = silu(x) · Wbᵀ + B(x) · (C ⊙ S)ᵀ for one sample. */
        void forward(float[] x, float[] y, float[] scratch, int[] spansOf) {
            siluAndBases(x, scratch, spansOf);
            combine(scratch, spans + in * coefficients, scratch, spans, spansOf, 0, y);
        }

        /**
         * One sample's SiLUs and bases into {@code scratch}: [0, spans) the recursion's work, then
         * the bases (in, G+k), then the SiLUs (in); each input's span into {@code spansOf}.
         */
        private void siluAndBases(float[] x, float[] scratch, int[] spansOf) {
            int basesAt = spans;
            int siluAt = basesAt + in * coefficients;
            for (int i = 0; i < in; i++) {
                float xi = x[i];
                float sigmoid = (float) (1 / (1 + Math.exp(-xi)));
                scratch[siluAt + i] = xi * sigmoid;
                spansOf[i] = bases(xi, i, scratch, scratch, basesAt + i * coefficients, null, 0);
            }
        }

        /**
         * {@link #forward} under other parameters in their stored layout (Wb (out, in), C (out, in,
         * G+k), S (out, in)): one output at a time, its terms in {@link #combine}'s order and C ⊙ S
         * rounded to a float first as {@link #rescale} does, so this layer's own parameters give
         * its very outputs.
         */
        void forwardWith(
                float[] x,
                float[] y,
                float[] scratch,
                int[] spansOf,
                float[] base,
                float[] spline,
                float[] scaler) {
            siluAndBases(x, scratch, spansOf);
            int basesAt = spans;
            int siluAt = basesAt + in * coefficients;
            for (int o = 0; o < out; o++) {
                float sum = 0f;
                for (int i = 0; i < in; i++) {
                    sum += scratch[siluAt + i] * base[o * in + i];
                }
                for (int i = 0; i < in; i++) {
                    int span = spansOf[i];
                    if (span < 0) {
                        continue;
                    }
                    int edge = o * in + i;
                    float s = scaler[edge];
                    for (int c = first(span); c <= last(span); c++) {
                        float scaled = spline[edge * coefficients + c] * s;
                        sum += scratch[basesAt + i * coefficients + c] * scaled;
                    }
                }
                y[o] = sum;
            }
        }

        /**
         * y[o] = Σ silu · Wb + Σ bases · (C ⊙ S), for one sample, over the non-zero bases only: the
         * terms left out are exact zeros, so the sum is the full one.
         *
         * @param y receives the out values at index 0 (an offset would keep the loops scalar)
         */
        private void combine(
                float[] silu,
                int siluAt,
                float[] bases,
                int basesAt,
                int[] spansOf,
                int spansAt,
                float[] y) {
            // Every y[o] takes its terms in the order of a per-output dot product (the SiLU
            // terms by input, then the spline terms by input and coefficient), so the sums are
            // the same floats; the inner loops run over o. A layer of one output reads Wb and
            // C ⊙ S as they are.
            Arrays.fill(y, 0, out, 0f);
            for (int i = 0; i < in; i++) {
                float a = silu[siluAt + i];
                if (baseByInput == null) {
                    y[0] += a * baseWeight[i];
                    continue;
                }
                float[] w = baseByInput[i];
                for (int o = 0; o < out; o++) {
                    y[o] += a * w[o];
                }
            }
            for (int i = 0; i < in; i++) {
                int span = spansOf[spansAt + i];
                if (span < 0) {
                    continue;
                }
                int q0 = i * coefficients;
                for (int c = first(span); c <= last(span); c++) {
                    float b = bases[basesAt + q0 + c];
                    if (scaledByInput == null) {
                        y[0] += b * scaledSpline[q0 + c];
                        continue;
                    }
                    float[] w = scaledByInput[q0 + c];
                    for (int o = 0; o < out; o++) {
                        y[o] += b * w[o];
                    }
                }
            }
        }

        /** The forward pass over a batch, keeping σ(x), the bases and the order k − 1 bases. */
        void forwardBatch(
                float[] x,
                int n,
                float[] sigmoid,
                float[] bases,
                float[] previous,
                int[] spansOf,
                float[] y,
                float[] scratch) {
            int siluAt = spans;
            float[] sum = new float[out];
            for (int s = 0; s < n; s++) {
                for (int i = 0; i < in; i++) {
                    int q = s * in + i;
                    float xi = x[q];
                    float sg = (float) (1 / (1 + Math.exp(-xi)));
                    sigmoid[q] = sg;
                    scratch[siluAt + i] = xi * sg;
                    spansOf[q] =
                            bases(
                                    xi,
                                    i,
                                    scratch,
                                    bases,
                                    q * coefficients,
                                    previous,
                                    q * (coefficients + 1));
                }
                combine(scratch, siluAt, bases, s * in * coefficients, spansOf, s * in, sum);
                System.arraycopy(sum, 0, y, s * out, out);
            }
        }

        /**
         * Gradients of Wb, C and S from dLoss/dOutput; returns their sum of squares.
         *
         * @param dOut (n, out)
         */
        double parameterGradients(
                float[][] g,
                float[] x,
                float[] sigmoid,
                float[] bases,
                int[] spansOf,
                float[] dOut,
                int n) {
            int width = in * coefficients;
            int edges = out * in;
            float[] gBase = g[0];
            Arrays.fill(gBase, 0, edges, 0f);
            // dLoss/d(C ⊙ S) is summed where dLoss/dC goes, and turned into it in place below
            float[] gSpline = g[1];
            Arrays.fill(gSpline, 0, edges * coefficients, 0f);
            float[] gScaler = g[2]; // every element in use is written below
            for (int s = 0; s < n; s++) {
                for (int o = 0; o < out; o++) {
                    float d = dOut[s * out + o];
                    if (d == 0) {
                        continue;
                    }
                    int w0 = o * in;
                    int x0 = s * in;
                    for (int i = 0; i < in; i++) {
                        gBase[w0 + i] += d * (x[x0 + i] * sigmoid[x0 + i]);
                    }
                    int c0 = o * width;
                    int b0 = s * width;
                    for (int i = 0; i < in; i++) {
                        int span = spansOf[x0 + i];
                        if (span < 0) {
                            continue;
                        }
                        int q0 = i * coefficients;
                        for (int c = first(span); c <= last(span); c++) {
                            gSpline[c0 + q0 + c] += d * bases[b0 + q0 + c];
                        }
                    }
                }
            }
            double squares = 0;
            for (int q = 0; q < edges; q++) {
                float s = splineScaler[q];
                float sum = 0;
                for (int c = 0; c < coefficients; c++) {
                    int r = q * coefficients + c;
                    float scaled = gSpline[r];
                    float gc = scaled * s;
                    gSpline[r] = gc;
                    squares += (double) gc * gc;
                    sum += scaled * splineWeight[r];
                }
                gScaler[q] = sum;
                float gb = gBase[q];
                squares += (double) sum * sum + (double) gb * gb;
            }
            return squares;
        }

        /**
         * dLoss/dInput for the layer below: dOut · Wb ⊙ silu'(x) + Σ_c (dOut · (C ⊙ S)) ⊙ dB/dx.
         *
         * @return (n, in)
         */
        float[] inputGradient(
                float[] x, float[] sigmoid, float[] previous, int[] spansOf, float[] dOut, int n) {
            int width = in * coefficients;
            float[] dx = new float[n * in];
            for (int s = 0; s < n; s++) {
                for (int i = 0; i < in; i++) {
                    float acc = 0;
                    for (int o = 0; o < out; o++) {
                        acc += dOut[s * out + o] * baseWeight[o * in + i];
                    }
                    int q = s * in + i;
                    float sg = sigmoid[q];
                    // silu'(x) = σ(x) · (1 + x · (1 − σ(x)))
                    dx[q] = acc * (sg * (x[q] * (1 - sg) + 1));
                }
                if (order < 1) {
                    continue;
                }
                // dB/dx is non-zero where the bases are: only there is dLoss/dB needed
                for (int i = 0; i < in; i++) {
                    int q = s * in + i;
                    int span = spansOf[q];
                    if (span < 0) {
                        continue;
                    }
                    int p0 = q * (coefficients + 1);
                    int d0 = i * coefficients;
                    float sum = 0;
                    for (int c = first(span); c <= last(span); c++) {
                        float dBase = 0;
                        for (int o = 0; o < out; o++) {
                            float d = dOut[s * out + o];
                            if (d != 0) {
                                dBase +=
                                        d
                                                * (scaledByInput == null
                                                        ? scaledSpline[d0 + c]
                                                        : scaledByInput[d0 + c][o]);
                            }
                        }
                        float derivative =
                                previous[p0 + c] * derivLeft[d0 + c]
                                        - previous[p0 + c + 1] * derivRight[d0 + c];
                        sum += dBase * derivative;
                    }
                    dx[q] += sum;
                }
            }
            return dx;
        }

        /** The first moments of parameter p, made at zero when they do not exist yet. */
        float[] firstMoments(int p) {
            if (first[p] == null) {
                first[p] = new float[second[p].length];
            }
            return first[p];
        }

        /**
         * DJL's fused Adam update, element by element, on Wb, C and S.
         *
         * @param gradients of Wb, C and S, each from index 0 (the arrays may be longer)
         */
        void update(AdamOptimizer.Rates rates, float gradientScale, float[][] gradients) {
            float[][] params = {baseWeight, splineWeight, splineScaler};
            float b1 = rates.beta1();
            float b2 = rates.beta2();
            for (int p = 0; p < 3; p++) {
                float[] w = params[p];
                float[] g = gradients[p];
                float[] m = b1 == 0 ? null : firstMoments(p);
                float[] v = second[p];
                for (int q = 0; q < w.length; q++) {
                    float grad = gradientScale == 1 ? g[q] : g[q] * gradientScale;
                    if (rates.decoupled()) {
                        w[q] -= w[q] * rates.learningRate() * rates.weightDecay();
                    } else {
                        grad += w[q] * rates.weightDecay();
                    }
                    float mq = grad; // β₁ = 0: m = 0·m + 1·g
                    if (m != null) {
                        mq = m[q] = m[q] * b1 + grad * (1 - b1);
                    }
                    v[q] = v[q] * b2 + grad * grad * (1 - b2);
                    w[q] -=
                            mq
                                    * rates.biasCorrected()
                                    / ((float) Math.sqrt(v[q]) + rates.epsilon());
                }
            }
            rescale();
        }
    }
}
