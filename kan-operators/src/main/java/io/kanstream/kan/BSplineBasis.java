package io.kanstream.kan;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * B-spline bases of one layer's knot grid, evaluated by the Cox–de Boor recursion on the device,
 * vectorized over batch and features.
 *
 * <p>Every knot difference the recursion divides by depends on the grid only: its guarded
 * reciprocal comes from the grid's {@link KnotGrid.Tables}, the same floats the host's loops use.
 */
final class BSplineBasis implements AutoCloseable {
    private final int order;
    private final int coefficients;
    private final NDArray lower; // (in, m-1)   t_j
    private final NDArray upper; // (in, m-1)   t_(j+1)
    private final NDArray[] leftKnot; // [p] (in, m-1-p)   t_j
    private final NDArray[] leftInv; // [p] (in, m-1-p)   1/(t_(j+p) - t_j)
    private final NDArray[] rightKnot; // [p] (in, m-1-p)   t_(j+p+1)
    private final NDArray[] rightInv; // [p] (in, m-1-p)   1/(t_(j+p+1) - t_(j+1))
    private final NDArray derivLeft; // (in, G+k)   k/(t_(j+k) - t_j)
    private final NDArray derivRight; // (in, G+k)   k/(t_(j+k+1) - t_(j+1))

    BSplineBasis(KnotGrid grid, NDManager manager) {
        this.order = grid.splineOrder();
        this.coefficients = grid.coefficients();
        int in = grid.features();
        int m = grid.knotCount();
        KnotGrid.Tables tables = grid.tables();
        float[] t = tables.knots; // (in, m)
        lower = persistent(manager, slice(t, in, m, 0, m - 1), in);
        upper = persistent(manager, slice(t, in, m, 1, m - 1), in);
        leftKnot = new NDArray[order + 1];
        leftInv = new NDArray[order + 1];
        rightKnot = new NDArray[order + 1];
        rightInv = new NDArray[order + 1];
        for (int p = 1; p <= order; p++) {
            int width = m - 1 - p;
            leftKnot[p] = persistent(manager, slice(t, in, m, 0, width), in);
            leftInv[p] = persistent(manager, tables.leftInv[p], in);
            rightKnot[p] = persistent(manager, slice(t, in, m, p + 1, width), in);
            rightInv[p] = persistent(manager, tables.rightInv[p], in);
        }
        if (order >= 1) {
            derivLeft = persistent(manager, tables.derivLeft, in);
            derivRight = persistent(manager, tables.derivRight, in);
        } else {
            derivLeft = null;
            derivRight = null;
        }
    }

    /** The bases of order k and, for the derivative, of order k − 1. */
    record Bases(NDArray value, NDArray previous) {}

    /**
     * @param x (batch, in)
     * @return value (batch, in, G+k); previous (batch, in, G+k+1), null when k = 0
     */
    Bases evaluate(NDArray x) {
        NDArray xe = x.expandDims(2); // (batch, in, 1)
        NDArray b =
                xe.gte(lower)
                        .logicalAnd(xe.lt(upper))
                        .toType(DataType.FLOAT32, false); // (batch, in, m-1)
        NDArray previous = null;
        long width = coefficients + order; // m-1, the order-0 width
        for (int p = 1; p <= order; p++) {
            width--; // m-1-p
            // one native split each: b[..., :width] and b[..., 1:] as views
            NDArray head = b.split(new long[] {width}, 2).get(0);
            NDArray tail = b.split(new long[] {1}, 2).get(1);
            NDArray left = xe.sub(leftKnot[p]).mul(leftInv[p]).mul(head);
            NDArray right = xe.sub(rightKnot[p]).mul(rightInv[p]).mul(tail);
            previous = b;
            b = left.sub(right); // (batch, in, m-1-p)
        }
        return new Bases(b, previous);
    }

    /**
     * dB/dx of the order-k bases from the order k − 1 ones; only for k ≥ 1 (order-0 bases are
     * piecewise constant, their derivative is zero).
     *
     * @param previous (batch, in, G+k+1)
     * @return (batch, in, G+k)
     */
    NDArray derivative(NDArray previous) {
        NDArray head = previous.split(new long[] {coefficients}, 2).get(0);
        NDArray tail = previous.split(new long[] {1}, 2).get(1);
        return head.mul(derivLeft).sub(tail.mul(derivRight));
    }

    int order() {
        return order;
    }

    /**
     * @param t (rows, m) row-major
     * @return (rows, width): columns from, from + 1, ... of every row
     */
    private static float[] slice(float[] t, int rows, int m, int from, int width) {
        float[] flat = new float[rows * width];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(t, i * m + from, flat, i * width, width);
        }
        return flat;
    }

    private static NDArray persistent(NDManager manager, float[] values, int rows) {
        NDArray array = manager.create(values, new Shape(rows, values.length / Math.max(rows, 1)));
        NDScope.unregister(array);
        return array;
    }

    @Override
    public void close() {
        lower.close();
        upper.close();
        for (int p = 1; p <= order; p++) {
            leftKnot[p].close();
            leftInv[p].close();
            rightKnot[p].close();
            rightInv[p].close();
        }
        if (derivLeft != null) {
            derivLeft.close();
            derivRight.close();
        }
    }
}
