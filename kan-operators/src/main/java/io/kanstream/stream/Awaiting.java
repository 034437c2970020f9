package io.kanstream.stream;

/**
 * One side of a label join that is still waiting for the other: an unlabeled event (features and
 * the outputs it was scored with, for prequential evaluation) waiting for its label, or a label
 * that came before its event. Serialized by {@link AwaitingSerializer}.
 *
 * @param features the event's features, or null for a label waiting for its event
 * @param outputs the network's outputs when the event was scored, or null for a label
 * @param label the early label, or NaN for an event
 * @param expiresAt processing time after which it is dropped
 */
record Awaiting(float[] features, float[] outputs, double label, long expiresAt) {
    static Awaiting event(float[] features, float[] outputs, long expiresAt) {
        return new Awaiting(features, outputs, Double.NaN, expiresAt);
    }

    static Awaiting label(double label, long expiresAt) {
        return new Awaiting(null, null, label, expiresAt);
    }

    boolean isEvent() {
        return features != null;
    }
}
