package io.kanstream.kan;

import java.util.Arrays;

/**
 * What turns a classifier's network outputs into probabilities that mean what they say: a bound on
 * the logits, then online Platt scaling.
 *
 * <ol>
 *   <li><b>Bound.</b> The network's raw output z becomes {@code L·tanh(z/L)}: no logit leaves (−L,
 *       L) whatever the weights do, so one confident mistake costs at most about L nats, and the
 *       training gradient fades as a logit nears the bound instead of pushing it on for ever.
 *   <li><b>Platt scaling, online.</b> The bounded logits u are mapped to {@code a·u} (binary) or
 *       {@code a·u_c} (multiclass): one temperature, which keeps every decision the network makes
 *       and only says how sure it should be. a is fitted by a damped online Newton step on the
 *       log-loss of each labeled example, scored before the network learns from it (Gupta and
 *       Ramdas, "Online Platt Scaling with Calibeating", ICML 2023). The curvature it divides by is
 *       a decayed sum, so the calibrator follows drift with a memory of about {@link #HORIZON}
 *       examples. A binary model whose configuration asks for it ({@link
 *       KanConfig#calibrationBias()}, as every model written before state format 7 did) also learns
 *       Platt's bias b, {@code a·u + b}, by a two-dimensional step.
 * </ol>
 *
 * Regression outputs pass through unchanged. The scale a stays in [0, {@link #MAX_SCALE}] and every
 * bias within ±L, so the final logits are bounded too.
 */
final class OutputCalibration {
    /** Examples of memory in the calibrator's curvature. */
    static final double HORIZON = 500;

    static final double MAX_SCALE = 2;

    /** Curvature of the prior that holds a = 1, b = 0 until examples say otherwise. */
    private static final double PRIOR = 4;

    /**
     * The bias's curvature at the start: as sure of b = 0 as a full memory of examples scored at p
     * = ½ would make it ({@link #HORIZON} · ¼). A key's first labels are too few to say how its
     * network's logits are off, and a bias fitted to them moves weak scores to whichever class
     * those labels happened to favour; the network learns its own offset as it learns anyway. The
     * extra certainty fades over the calibrator's memory like any example's, down to {@link
     * #PRIOR}, so a key with many labels learns its bias as freely as with PRIOR alone.
     */
    static final double BIAS_PRIOR_AT_START = HORIZON / 4;

    private final Task task;
    private final double bound;
    private final int outputs;
    private final boolean learnsBias;
    double scale = 1;
    // binary: [1]; multiclass: [classes], zero unless a state written before kept learned ones,
    // which fade as labels come
    final double[] bias;

    /**
     * Binary: the 2×2 curvature {aa, ab, bb}, of which a model that learns no bias uses aa alone;
     * multiclass: a's first, then one per class that the state layout keeps from when the biases
     * were learned, no longer used.
     */
    final double[] curvature;

    /** Whether Platt's bias is learned beside the temperature (binary models that ask for it). */
    boolean learnsBias() {
        return learnsBias;
    }

    OutputCalibration(Task task, double bound, int outputs, boolean learnsBias) {
        this.task = task;
        this.bound = bound;
        this.outputs = outputs;
        this.learnsBias = learnsBias && task == Task.BINARY;
        this.bias = new double[task == Task.MULTICLASS ? outputs : 1];
        this.curvature = new double[task == Task.MULTICLASS ? outputs + 1 : 3];
        reset();
    }

    /** The identity map with only the prior's confidence. */
    private void reset() {
        scale = 1;
        Arrays.fill(bias, 0);
        if (task == Task.MULTICLASS) {
            Arrays.fill(curvature, PRIOR);
        } else {
            curvature[0] = PRIOR;
            curvature[1] = 0;
            curvature[2] = BIAS_PRIOR_AT_START;
        }
    }

    boolean active() {
        return task != Task.REGRESSION && bound > 0;
    }

    /** The bounded logits of raw outputs, in place; (n, outputs) row-major. */
    void bound(float[] raw) {
        if (!active()) {
            return;
        }
        for (int q = 0; q < raw.length; q++) {
            raw[q] = (float) (bound * Math.tanh(raw[q] / bound));
        }
    }

    /**
     * Turns dLoss/d(bounded logit) into dLoss/d(raw output), in place.
     *
     * @param bounded the bounded logits the gradient was taken at
     */
    void chainGradient(float[] bounded, float[] gradient) {
        if (!active()) {
            return;
        }
        for (int q = 0; q < gradient.length; q++) {
            double t = bounded[q] / bound;
            gradient[q] = (float) (gradient[q] * (1 - t * t));
        }
    }

    /** Calibrated logits of bounded ones, in place; (n, outputs) row-major. */
    void apply(float[] bounded) {
        if (!active()) {
            return;
        }
        for (int q = 0; q < bounded.length; q++) {
            bounded[q] = (float) (scale * bounded[q] + bias[bias.length == 1 ? 0 : q % outputs]);
        }
    }

    /**
     * One online Newton step per labeled example, in order.
     *
     * @param bounded (n, outputs) the bounded logits the examples were scored with
     * @param labels (n) 0/1 or class indices
     */
    void learn(float[] bounded, double[] labels) {
        if (!active()) {
            return;
        }
        double keep = 1 - 1 / HORIZON;
        for (int s = 0; s < labels.length; s++) {
            if (task == Task.BINARY) {
                learnBinary(bounded[s], labels[s], keep);
            } else {
                learnMulticlass(bounded, s * outputs, (int) labels[s], keep);
            }
        }
    }

    private void learnBinary(double u, double y, double keep) {
        double p = Task.sigmoid(scale * u + bias[0]);
        double w = Math.max(p * (1 - p), 1e-4);
        // decay toward the prior, not toward zero: the step never divides by a vanishing curvature
        curvature[0] = keep * curvature[0] + (1 - keep) * PRIOR + w * u * u;
        if (!learnsBias) {
            scale = clamp(scale - (p - y) * u / curvature[0], 0, MAX_SCALE);
            return;
        }
        curvature[1] = keep * curvature[1] + w * u;
        curvature[2] = keep * curvature[2] + (1 - keep) * PRIOR + w;
        double ga = (p - y) * u;
        double gb = p - y;
        double det = curvature[0] * curvature[2] - curvature[1] * curvature[1];
        if (!(det > 1e-12)) {
            return;
        }
        double da = (curvature[2] * ga - curvature[1] * gb) / det;
        double db = (curvature[0] * gb - curvature[1] * ga) / det;
        scale = clamp(scale - da, 0, MAX_SCALE);
        bias[0] = clamp(bias[0] - db, -bound, bound);
    }

    private void learnMulticlass(float[] bounded, int offset, int label, double keep) {
        float[] z = new float[outputs];
        for (int c = 0; c < outputs; c++) {
            z[c] = (float) (scale * bounded[offset + c] + bias[c]);
        }
        double[] p = Task.softmax(z, 0, outputs);
        double mean = 0;
        double meanSquare = 0;
        double ga = 0;
        for (int c = 0; c < outputs; c++) {
            double u = bounded[offset + c];
            mean += p[c] * u;
            meanSquare += p[c] * u * u;
            ga += (p[c] - (c == label ? 1 : 0)) * u;
        }
        curvature[0] =
                keep * curvature[0] + (1 - keep) * PRIOR + Math.max(meanSquare - mean * mean, 1e-4);
        scale = clamp(scale - ga / curvature[0], 0, MAX_SCALE);
        // No per-class bias is learned: the network's last layer already carries each class's
        // prior, and biases fitted over a few hundred examples moved decisions between
        // overlapping classes (docs/learning.md, "Multiclass calibration by temperature"). Biases
        // a state written before carries fade over the calibrator's memory.
        for (int c = 0; c < outputs; c++) {
            bias[c] *= keep;
        }
    }

    private static double clamp(double v, double low, double high) {
        return Double.isFinite(v) ? Math.max(low, Math.min(high, v)) : (low + high) / 2;
    }
}
