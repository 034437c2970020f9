package io.kanstream.kan;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;

/**
 * One KAN layer, in → out: y = silu(x) · Wbᵀ + flatten(B(x)) · flatten(C ⊙ S)ᵀ, with B the B-spline
 * bases of the layer's knot grid (see {@code KAN.md}).
 *
 * <p>Gradients are closed-form: given the bases the layer is linear in Wb, C and S, and the input
 * gradient needs only the SiLU derivative and the B-spline derivative. That keeps a training step
 * free of DJL's JVM-global gradient collector, which allows one collection at a time per JVM and
 * would serialize every Flink subtask in a TaskManager.
 *
 * <p>The parameters live on the mirror's manager and are updated in place; everything a forward or
 * backward pass creates belongs to the caller's {@link NDScope}. A refit changes the grid on the
 * host; the mirror is then rebuilt.
 */
final class KanLayer implements AutoCloseable {
    final int in;
    final int out;
    private final int coefficients; // G + k
    private final BSplineBasis basis;
    final NDArray baseWeight; // (out, in)
    final NDArray splineWeight; // (out, in, G+k)
    final NDArray splineScaler; // (out, in)

    KanLayer(
            KnotGrid grid,
            float[] baseWeight,
            float[] splineWeight,
            float[] splineScaler,
            int out,
            NDManager manager) {
        this.in = grid.features();
        this.out = out;
        this.coefficients = grid.coefficients();
        this.baseWeight = persistent(manager.create(baseWeight, new Shape(out, in)));
        this.splineWeight =
                persistent(manager.create(splineWeight, new Shape(out, in, coefficients)));
        this.splineScaler = persistent(manager.create(splineScaler, new Shape(out, in)));
        this.basis = new BSplineBasis(grid, manager);
    }

    /** The parameters in the order base weight, spline weight, spline scaler. */
    NDArray[] parameters() {
        return new NDArray[] {baseWeight, splineWeight, splineScaler};
    }

    /** What a forward pass keeps for the backward pass. */
    record Activations(
            NDArray input, // (batch, in)
            NDArray sigmoid, // (batch, in)
            NDArray silu, // (batch, in)
            NDArray basesFlat, // (batch, in*(G+k))
            NDArray previousBases, // (batch, in, G+k+1) or null
            NDArray scaledFlat, // (out, in*(G+k))
            NDArray output) {} // (batch, out)

    /**
     * @param x (batch, in)
     */
    Activations forward(NDArray x) {
        long batch = x.getShape().get(0);
        NDArray sigmoid = Activation.sigmoid(x); // (batch, in)
        NDArray silu = x.mul(sigmoid); // (batch, in)
        NDArray baseOut = Linear.linear(silu, baseWeight).singletonOrThrow(); // (batch, out)
        BSplineBasis.Bases bases = basis.evaluate(x); // (batch, in, G+k)
        NDArray basesFlat = bases.value().reshape(batch, (long) in * coefficients);
        NDArray scaledFlat =
                splineWeight
                        .mul(splineScaler.expandDims(2))
                        .reshape(out, (long) in * coefficients); // (out, in*(G+k))
        NDArray output =
                baseOut.add(
                        Linear.linear(basesFlat, scaledFlat).singletonOrThrow()); // (batch, out)
        return new Activations(x, sigmoid, silu, basesFlat, bases.previous(), scaledFlat, output);
    }

    /** Parameter gradients, in the order base weight, spline weight, spline scaler. */
    record Gradients(NDArray baseWeight, NDArray splineWeight, NDArray splineScaler) {
        NDArray[] all() {
            return new NDArray[] {baseWeight, splineWeight, splineScaler};
        }
    }

    /**
     * @param a the activations of the forward pass
     * @param dOut (batch, out) dLoss/dOutput
     */
    Gradients parameterGradients(Activations a, NDArray dOut) {
        NDArray dOutT = dOut.transpose(); // (out, batch)
        NDArray gBase = dOutT.matMul(a.silu()); // (out, in)
        NDArray gScaled =
                dOutT.matMul(a.basesFlat()).reshape(out, in, coefficients); // (out, in, G+k)
        NDArray gSpline = gScaled.mul(splineScaler.expandDims(2)); // (out, in, G+k)
        NDArray gScaler = gScaled.mul(splineWeight).sum(new int[] {2}); // (out, in)
        return new Gradients(gBase, gSpline, gScaler);
    }

    /**
     * dLoss/dInput, for the layer below.
     *
     * @return (batch, in)
     */
    NDArray inputGradient(Activations a, NDArray dOut) {
        long batch = dOut.getShape().get(0);
        // silu'(x) = σ(x) · (1 + x · (1 − σ(x)))
        NDArray siluGrad = a.sigmoid().mul(a.input().mul(a.sigmoid().neg().add(1)).add(1));
        NDArray dx = dOut.matMul(baseWeight).mul(siluGrad); // (batch, in)
        if (basis.order() >= 1) {
            NDArray dBases =
                    dOut.matMul(a.scaledFlat())
                            .reshape(batch, in, coefficients); // (batch, in, G+k)
            NDArray basesGrad = basis.derivative(a.previousBases()); // (batch, in, G+k)
            dx = dx.add(dBases.mul(basesGrad).sum(new int[] {2}));
        }
        return dx;
    }

    private static NDArray persistent(NDArray array) {
        NDScope.unregister(array);
        return array;
    }

    @Override
    public void close() {
        basis.close();
        baseWeight.close();
        splineWeight.close();
        splineScaler.close();
    }
}
