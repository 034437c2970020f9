package io.kanstream.kan;

/**
 * The arithmetic of one key's network, whatever runs it: score a batch, and take a training step
 * (forward pass, closed-form gradients, Adam). {@link KanLearner} picks a kernel per call by the
 * call's work and drives both the same way; the loss, its gradient through the logit bound and
 * calibration, the NaN/Inf guards and the counters stay in the learner, around the kernel.
 *
 * <ul>
 *   <li>{@link HostKan}: plain Java loops. The model's home copy: parameters, moments and grids
 *       live here, and it is what the state format encodes.
 *   <li>{@link DeviceKan}: the same network as DJL tensors (PyTorch, CPU or GPU), a mirror of the
 *       home copy built from it and synchronized by the learner.
 * </ul>
 *
 * <p>Both read the same pieces: the grid's guarded reciprocal tables ({@link KnotGrid#tables()}),
 * the numbering of parameters ({@link ParameterIndex}), Adam's rates ({@link
 * AdamOptimizer#advance}). Their outputs agree to a few ulps (only the order of sums differs).
 *
 * <p>A batched kernel is the same arithmetic over many keys at once, each with its own parameters
 * and grid: {@link KanPool} holds the keys of one shape in device slots, and its forward, backward
 * and update take a slot index per group of rows and per-key Adam rates and clipping factors. It
 * does not implement this single-key interface (its calls take many learners), but it is this
 * contract batched: the same step in the same order, on the same tables and numbering.
 */
interface KanKernel {

    /**
     * @param x (n, in) row-major, normalized
     * @return (n, out) row-major, raw network outputs
     */
    float[] outputs(float[] x, int n);

    /**
     * The forward pass of a training step, keeping what its backward pass needs.
     *
     * @param x (n, in) row-major, normalized
     */
    Step forward(float[] x, int n);

    /**
     * One training step in progress: outputs, then at most one {@link #backward}, then at most one
     * {@link #update}. Close it in every case (the device's temporaries live until then).
     */
    interface Step extends AutoCloseable {
        /** (n, out) row-major, raw network outputs of the step's batch. */
        float[] outputs();

        /**
         * The closed-form parameter gradients, kept for {@link #update}.
         *
         * @param dOut (n, out) dLoss/dOutput
         * @return the global L2 norm of every parameter's gradient
         */
        double backward(float[] dOut);

        /**
         * Adam on every parameter from the gradients of {@link #backward}.
         *
         * @param gradientScale multiplies every gradient first (the clipping factor)
         */
        void update(AdamOptimizer.Rates rates, float gradientScale);

        @Override
        void close();
    }
}
