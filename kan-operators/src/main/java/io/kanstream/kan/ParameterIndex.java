package io.kanstream.kan;

/**
 * How a network's learned tensors are numbered, the one convention every kernel, the pool and the
 * state format use: each layer has three, in the order base weight Wb (out, in), spline weight C
 * (out, in, G+k), spline scaler S (out, in), and parameter {@code index = 3 · layer + position}.
 * Adam's moments of a parameter share its index. The state format writes parameters and moments in
 * this order, so changing it changes the bytes.
 */
final class ParameterIndex {
    static final int BASE_WEIGHT = 0;
    static final int SPLINE_WEIGHT = 1;
    static final int SPLINE_SCALER = 2;

    /** Learned tensors per layer. */
    static final int PER_LAYER = 3;

    private ParameterIndex() {}

    /** The index of a layer's parameter at {@code position} (one of the constants above). */
    static int of(int layer, int position) {
        return PER_LAYER * layer + position;
    }

    /** How many parameters a network of {@code layers} layers has. */
    static int count(int layers) {
        return PER_LAYER * layers;
    }

    static int layer(int index) {
        return index / PER_LAYER;
    }

    /**
     * Which of the layer's parameters: {@link #BASE_WEIGHT}, {@link #SPLINE_WEIGHT} or {@link
     * #SPLINE_SCALER}.
     */
    static int position(int index) {
        return index % PER_LAYER;
    }

    /** The one of a layer's three parameters at {@code position}. */
    static <T> T pick(int position, T baseWeight, T splineWeight, T splineScaler) {
        return switch (position) {
            case BASE_WEIGHT -> baseWeight;
            case SPLINE_WEIGHT -> splineWeight;
            case SPLINE_SCALER -> splineScaler;
            default ->
                    throw new IllegalArgumentException(
                            "parameter position " + position + ", a layer has 0, 1 and 2");
        };
    }
}
