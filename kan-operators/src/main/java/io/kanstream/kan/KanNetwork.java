package io.kanstream.kan;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;

/** A stack of {@link KanLayer}s on a device: forward and closed-form backward through DJL's ops. */
final class KanNetwork implements AutoCloseable {
    private final List<KanLayer> layers;

    private KanNetwork(List<KanLayer> layers) {
        this.layers = List.copyOf(layers);
    }

    /** The host's layers as tensors on {@code manager}. */
    static KanNetwork of(HostKan host, NDManager manager) {
        List<KanLayer> layers = new ArrayList<>();
        try {
            for (int l = 0; l < host.size(); l++) {
                HostKan.Layer h = host.layer(l);
                layers.add(
                        new KanLayer(
                                h.grid,
                                h.baseWeight,
                                h.splineWeight,
                                h.splineScaler,
                                h.out,
                                manager));
            }
        } catch (RuntimeException e) {
            layers.forEach(KanLayer::close);
            throw e;
        }
        return new KanNetwork(layers);
    }

    List<KanLayer> layers() {
        return layers;
    }

    KanLayer layer(int index) {
        return layers.get(index);
    }

    int size() {
        return layers.size();
    }

    int inputs() {
        return layers.get(0).in;
    }

    int outputs() {
        return layers.get(layers.size() - 1).out;
    }

    /** Forward pass keeping what the backward pass needs, one entry per layer. */
    List<KanLayer.Activations> forward(NDArray x) {
        List<KanLayer.Activations> activations = new ArrayList<>(layers.size());
        NDArray input = x;
        for (KanLayer layer : layers) {
            KanLayer.Activations a = layer.forward(input);
            activations.add(a);
            input = a.output();
        }
        return activations;
    }

    /** Parameter gradients of every layer, from dLoss/dOutput of the last one. */
    List<KanLayer.Gradients> backward(List<KanLayer.Activations> activations, NDArray dOut) {
        KanLayer.Gradients[] gradients = new KanLayer.Gradients[layers.size()];
        NDArray upstream = dOut;
        for (int l = layers.size() - 1; l >= 0; l--) {
            KanLayer layer = layers.get(l);
            gradients[l] = layer.parameterGradients(activations.get(l), upstream);
            if (l > 0) {
                upstream = layer.inputGradient(activations.get(l), upstream);
            }
        }
        return List.of(gradients);
    }

    /**
     * @param x (n, in) row-major, already normalized
     * @return (n, out) row-major
     */
    float[] outputs(NDManager manager, float[] x, int n) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray input = manager.create(x, new Shape(n, inputs()));
            List<KanLayer.Activations> activations = forward(input);
            return activations.get(activations.size() - 1).output().toFloatArray();
        }
    }

    @Override
    public void close() {
        layers.forEach(KanLayer::close);
    }
}
