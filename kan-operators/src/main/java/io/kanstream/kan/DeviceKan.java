package io.kanstream.kan;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * The model mirrored on a device (a GPU, or the CPU's PyTorch kernels) for calls large enough that
 * matrix products beat Java loops: the network's layers and Adam's moments as tensors on one
 * manager, the {@link KanKernel} that runs through DJL. Built from a {@link HostKan} when first
 * needed; {@link KanLearner} decides which copy is current and copies between them.
 */
final class DeviceKan implements KanKernel, AutoCloseable {
    final NDManager manager;
    final KanNetwork network;
    private final NDArray[] first; // numbered as ParameterIndex says
    private final NDArray[] second;

    private DeviceKan(NDManager manager, KanNetwork network, NDArray[] first, NDArray[] second) {
        this.manager = manager;
        this.network = network;
        this.first = first;
        this.second = second;
    }

    static DeviceKan of(HostKan host, Device device) {
        NDManager manager = NDManager.newBaseManager(device, "PyTorch");
        try {
            KanNetwork network = KanNetwork.of(host, manager);
            int count = ParameterIndex.count(host.size());
            NDArray[] first = new NDArray[count];
            NDArray[] second = new NDArray[count];
            for (int q = 0; q < count; q++) {
                Shape shape = parameter(network, q).getShape();
                first[q] = persistent(manager.create(host.moment(q, true), shape));
                second[q] = persistent(manager.create(host.moment(q, false), shape));
            }
            return new DeviceKan(manager, network, first, second);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    private static NDArray parameter(KanNetwork network, int index) {
        return network.layer(ParameterIndex.layer(index))
                .parameters()[ParameterIndex.position(index)];
    }

    /** Copies the host's parameters and moments into the tensors (same grids). */
    void write(HostKan host) {
        for (int q = 0; q < first.length; q++) {
            parameter(network, q).set(host.parameter(q));
            first[q].set(host.moment(q, true));
            second[q].set(host.moment(q, false));
        }
    }

    /** Copies the tensors' parameters and moments into the host's arrays (same grids). */
    void read(HostKan host) {
        for (int q = 0; q < first.length; q++) {
            copy(parameter(network, q), host.parameter(q));
            copy(first[q], host.moment(q, true));
            copy(second[q], host.moment(q, false));
        }
        host.parametersWritten();
    }

    private static void copy(NDArray from, float[] to) {
        float[] values = from.toFloatArray();
        System.arraycopy(values, 0, to, 0, to.length);
    }

    @Override
    public float[] outputs(float[] x, int n) {
        return network.outputs(manager, x, n);
    }

    @Override
    public Step forward(float[] x, int n) {
        NDScope scope = new NDScope();
        scope.suppressNotUsedWarning();
        try {
            return new DeviceStep(scope, x, n);
        } catch (RuntimeException e) {
            scope.close();
            throw e;
        }
    }

    /** A step's tensors, all in one {@link NDScope} that closing the step releases. */
    private final class DeviceStep implements Step {
        private final NDScope scope;
        private final int n;
        private final List<KanLayer.Activations> activations;
        private final float[] outputs; // (n, out)
        private List<KanLayer.Gradients> gradients;

        DeviceStep(NDScope scope, float[] x, int n) {
            this.scope = scope;
            this.n = n;
            activations = network.forward(manager.create(x, new Shape(n, network.inputs())));
            outputs = activations.get(network.size() - 1).output().toFloatArray();
        }

        @Override
        public float[] outputs() {
            return outputs;
        }

        @Override
        public double backward(float[] dOut) {
            NDArray upstream = manager.create(dOut, new Shape(n, network.outputs()));
            gradients = network.backward(activations, upstream);
            NDArray total = null;
            for (KanLayer.Gradients g : gradients) {
                for (NDArray part : g.all()) {
                    NDArray squares = part.square().sum();
                    total = total == null ? squares : total.add(squares);
                }
            }
            return Math.sqrt(total.getFloat());
        }

        /** One fused Adam update per parameter: one native call each. */
        @Override
        public void update(AdamOptimizer.Rates rates, float gradientScale) {
            for (int l = 0; l < network.size(); l++) {
                NDArray[] params = network.layer(l).parameters();
                NDArray[] grads = gradients.get(l).all();
                for (int p = 0; p < ParameterIndex.PER_LAYER; p++) {
                    int q = ParameterIndex.of(l, p);
                    params[p]
                            .getNDArrayInternal()
                            .adamUpdate(
                                    new NDList(params[p], grads[p], first[q], second[q]),
                                    new NDList(params[p]),
                                    rates.learningRate(),
                                    rates.biasCorrected(),
                                    rates.weightDecay(),
                                    gradientScale,
                                    -1f,
                                    rates.beta1(),
                                    rates.beta2(),
                                    rates.epsilon(),
                                    false,
                                    rates.decoupled());
                }
            }
        }

        @Override
        public void close() {
            scope.close();
        }
    }

    private static NDArray persistent(NDArray array) {
        NDScope.unregister(array);
        return array;
    }

    @Override
    public void close() {
        for (int q = 0; q < first.length; q++) {
            first[q].close();
            second[q].close();
        }
        network.close();
        manager.close();
    }
}
