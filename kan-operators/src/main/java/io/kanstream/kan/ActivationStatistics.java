package io.kanstream.kan;

import java.util.Arrays;

/**
 * What the learner knows about where each layer's inputs live, for deciding when and how to refit
 * grids.
 *
 * <ul>
 *   <li>A window of the most recent (normalized) network inputs, as whole rows. A refit pushes this
 *       window through the current network, so every layer is refit from its inputs as the model
 *       computes them now, not as an older model did.
 *   <li>Per layer and feature since the last refit: how many values were seen, how many fell
 *       outside the grid's interior [t_k, t_(G+k)) — where every spline basis is zero and only the
 *       SiLU branch acts — and the range seen.
 * </ul>
 */
final class ActivationStatistics {
    private final int inputs;
    private final int capacity;
    private final float[] window; // (capacity, inputs), a ring
    private int filled;
    private int next;
    private final long[][] seen; // [layer][feature]
    private final long[][] outside; // [layer][feature]
    private final float[][] min; // [layer][feature]
    private final float[][] max; // [layer][feature]

    ActivationStatistics(int[] layerInputs, int capacity) {
        this.inputs = layerInputs[0];
        this.capacity = capacity;
        this.window = new float[capacity * inputs];
        this.seen = new long[layerInputs.length][];
        this.outside = new long[layerInputs.length][];
        this.min = new float[layerInputs.length][];
        this.max = new float[layerInputs.length][];
        for (int l = 0; l < layerInputs.length; l++) {
            seen[l] = new long[layerInputs[l]];
            outside[l] = new long[layerInputs[l]];
            min[l] = new float[layerInputs[l]];
            max[l] = new float[layerInputs[l]];
        }
        resetSinceRefit();
    }

    /**
     * @param raw (n, in_0) row-major, the examples as they came
     * @param layerInputs [l] (n, in_l) row-major, the inputs of each layer for n examples
     */
    void record(float[] raw, float[][] layerInputs, int n, KnotGrid[] grids) {
        float[] rows = raw;
        for (int s = 0; s < n; s++) {
            System.arraycopy(rows, s * inputs, window, next * inputs, inputs);
            next = (next + 1) % capacity;
            filled = Math.min(filled + 1, capacity);
        }
        for (int l = 0; l < seen.length; l++) {
            int in = seen[l].length;
            KnotGrid grid = grids[l];
            for (int i = 0; i < in; i++) {
                float low = grid.interiorLow(i);
                float high = grid.interiorHigh(i);
                for (int s = 0; s < n; s++) {
                    float x = layerInputs[l][s * in + i];
                    seen[l][i]++;
                    if (x < low || x >= high) {
                        outside[l][i]++;
                    }
                    min[l][i] = Math.min(min[l][i], x);
                    max[l][i] = Math.max(max[l][i], x);
                }
            }
        }
    }

    /**
     * The fraction of a layer's input values that fell outside its grids since the last refit, the
     * largest over layers. Over all of a layer's features, not the worst one: a single trending
     * feature (a date, a counter) always runs off its grid and should not drive refits on its own;
     * a shift of the distribution moves many.
     */
    double outsideFraction() {
        double worst = 0;
        for (int l = 0; l < seen.length; l++) {
            long total = 0;
            long out = 0;
            for (int i = 0; i < seen[l].length; i++) {
                total += seen[l][i];
                out += outside[l][i];
            }
            if (total > 0) {
                worst = Math.max(worst, (double) out / total);
            }
        }
        return worst;
    }

    /** Values seen by layer 0 since the last refit, per feature (all features see the same). */
    long seenSinceRefit() {
        return seen[0].length == 0 ? 0 : seen[0][0];
    }

    int windowSize() {
        return filled;
    }

    /** The window's raw rows, oldest first, (filled, inputs) row-major. */
    float[] windowRows() {
        float[] rows = new float[filled * inputs];
        int start = filled < capacity ? 0 : next;
        for (int r = 0; r < filled; r++) {
            int source = (start + r) % capacity;
            System.arraycopy(window, source * inputs, rows, r * inputs, inputs);
        }
        return rows;
    }

    void resetSinceRefit() {
        for (int l = 0; l < seen.length; l++) {
            Arrays.fill(seen[l], 0);
            Arrays.fill(outside[l], 0);
            Arrays.fill(min[l], Float.POSITIVE_INFINITY);
            Arrays.fill(max[l], Float.NEGATIVE_INFINITY);
        }
    }

    // --- state access for the codec ---

    int capacity() {
        return capacity;
    }

    float[] rawWindow() {
        return window;
    }

    int next() {
        return next;
    }

    long[][] seen() {
        return seen;
    }

    long[][] outside() {
        return outside;
    }

    float[][] min() {
        return min;
    }

    float[][] max() {
        return max;
    }

    void restore(
            float[] rawWindow,
            int filled,
            int next,
            long[][] seen,
            long[][] outside,
            float[][] min,
            float[][] max) {
        System.arraycopy(rawWindow, 0, window, 0, window.length);
        this.filled = filled;
        this.next = next;
        for (int l = 0; l < this.seen.length; l++) {
            System.arraycopy(seen[l], 0, this.seen[l], 0, this.seen[l].length);
            System.arraycopy(outside[l], 0, this.outside[l], 0, this.outside[l].length);
            System.arraycopy(min[l], 0, this.min[l], 0, this.min[l].length);
            System.arraycopy(max[l], 0, this.max[l], 0, this.max[l].length);
        }
    }
}
