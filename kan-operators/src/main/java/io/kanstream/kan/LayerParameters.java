package io.kanstream.kan;

import java.util.Arrays;

/**
 * One layer's learned parameters on the host, in efficient-kan's shapes, row-major.
 *
 * @param grid (in, G + 2k + 1)
 * @param baseWeight (out, in)
 * @param splineWeight (out, in, G + k)
 * @param splineScaler (out, in)
 */
public record LayerParameters(
        KnotGrid grid, float[] baseWeight, float[] splineWeight, float[] splineScaler, int out) {

    public LayerParameters {
        int in = grid.features();
        int c = grid.coefficients();
        checkLength("base_weight", baseWeight, out, in);
        checkLength("spline_weight", splineWeight, out, in, c);
        checkLength("spline_scaler", splineScaler, out, in);
    }

    /** The message's shape is built only when the check fails: every decoded model runs these. */
    private static void checkLength(String name, float[] values, int... shape) {
        int expected = 1;
        for (int d : shape) {
            expected *= d;
        }
        if (values.length != expected) {
            throw new IllegalArgumentException(
                    name
                            + " has "
                            + values.length
                            + " values, expected shape "
                            + Arrays.toString(shape).replace('[', '(').replace(']', ')'));
        }
        for (int q = 0; q < values.length; q++) {
            if (!Float.isFinite(values[q])) {
                throw new IllegalArgumentException(name + " value " + q + " is " + values[q]);
            }
        }
    }

    public int in() {
        return grid.features();
    }
}
