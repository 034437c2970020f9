package io.kanstream.kan;

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
        checkLength("base_weight", baseWeight, out * in, "(" + out + ", " + in + ")");
        checkLength(
                "spline_weight",
                splineWeight,
                out * in * c,
                "(" + out + ", " + in + ", " + c + ")");
        checkLength("spline_scaler", splineScaler, out * in, "(" + out + ", " + in + ")");
    }

    private static void checkLength(String name, float[] values, int expected, String shape) {
        if (values.length != expected) {
            throw new IllegalArgumentException(
                    name + " has " + values.length + " values, expected shape " + shape);
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
